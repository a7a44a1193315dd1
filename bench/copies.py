"""Synthetic source files N× the real corpus, for measuring a real ingest: files the product parses.

Copy k of every real source file gets a title of its own (「…（副本k）」 as its first line) and a
share of its CJK characters replaced by other corpus characters, never the ones that carry the
structure (第…章/节/条, 专栏, numerals), so each copy parses into the same outline with its own
text, its own words for the dictionary and its own BM25 vocabulary. ``seed_embeddings`` puts each
copy's unit vectors in the embedding cache beforehand (the real unit's vector plus noise), so a
real ingest of the copies embeds nothing; without it the model would take hours at 100×.

    write_copies(real_sources, out / "sources", factor=10)
    seed_embeddings(real_kb, out / "sources", cache_path)
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from bench.synthetic import (
    CHAR_SWAP,
    SEED,
    VECTOR_NOISE,
    noisy_copies,
    real_sentence_vectors,
)
from ingest.loader import load_document
from ingest.readers import supported_suffixes
from ingest.sources import discover_sources
from kb.catalog import Catalog
from kb.embed_cache import CachedEmbedder
from kb.sentences import clause_sentences
from kb.units import units_for
from kb.vectors import VectorIndex

STRUCTURAL = set("第章节条款项编专栏前言附则总目录一二三四五六七八九十百千零〇两")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_COPY_NAME = re.compile(r"^copy(\d+)_(.+)$")


def is_copy(path: Path) -> bool:
    return bool(_COPY_NAME.match(path.name))


def real_source_files(sources: list[Path]) -> list[Path]:
    return [f.resolve() for f in discover_sources(sources, supported_suffixes()).files]


def perturb_text(text: str, rng: random.Random, alphabet: str, rate: float = CHAR_SWAP) -> str:
    positions = [m.start() for m in _CJK.finditer(text) if m.group(0) not in STRUCTURAL]
    chars = list(text)
    for i in rng.sample(positions, round(rate * len(positions))):
        chars[i] = rng.choice(alphabet)
    return "".join(chars)


def write_copies(sources: list[Path], folder: Path, factor: int) -> list[Path]:
    """``factor - 1`` copies of every real source file (UTF-8 text formats) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [f for f in real_source_files(sources) if f.suffix.lower() in (".txt", ".md")]
    originals = {f: f.read_text(encoding="utf-8") for f in files}
    titles = {f: load_document(f).title for f in files}
    alphabet = "".join(ch for text in originals.values() for ch in _CJK.findall(text) if ch not in STRUCTURAL)
    rng = random.Random(SEED)
    written = []
    for k in range(1, factor):
        for f, text in originals.items():
            body = text.split("\n", 1)[1] if text.startswith("# ") else text
            path = folder / f"copy{k:03d}_{f.name}"
            path.write_text(f"# {titles[f]}（副本{k}）\n\n{perturb_text(body, rng, alphabet)}", encoding="utf-8")
            written.append(path)
    return written


def seed_embeddings(real_kb: Path, folder: Path, cache_path: Path, real_sources: list[Path]) -> int:
    """Put every copy's unit and sentence vectors into the embedding cache: the vector of the real
    unit (sentence) in the same place of the outline, plus noise. Returns the number of vectors stored."""
    model = json.loads((real_kb / "manifest.json").read_text(encoding="utf-8"))["embedding_model"]
    got = VectorIndex(real_kb, model).collection.get(include=["embeddings"])
    real_vectors = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
    by_name = {f.name: f for f in real_source_files(real_sources)}
    real_sentences = real_sentence_vectors(real_kb)
    sentence_of = {}   # real sentence text → its vector
    for clause in Catalog.load(real_kb / "catalog.json").clauses:
        for (text, _), vec in zip(clause_sentences(clause.text), real_sentences.get(clause.id, [])):
            sentence_of[text] = vec
    outline: dict[str, list[list[np.ndarray]]] = {}
    sentence_outline: dict[str, list[list[np.ndarray]]] = {}
    cache = CachedEmbedder(SimpleNamespace(name=model, dim=len(next(iter(real_vectors.values())))), cache_path)
    noise = np.random.default_rng(SEED)
    stored = 0
    try:
        for path in sorted(folder.iterdir()):
            name = _COPY_NAME.match(path.name).group(2)
            if name not in outline:
                real_clauses = load_document(by_name[name]).clauses
                outline[name] = [[real_vectors[u.id] for u in units_for(c)] for c in real_clauses]
                sentence_outline[name] = [[sentence_of[t] for t, _ in clause_sentences(c.text) if t in sentence_of]
                                          for c in real_clauses]
            original = outline[name]
            texts, vectors = [], []
            for i, clause in enumerate(load_document(path).clauses):
                units = original[min(i, len(original) - 1)]
                for j, unit in enumerate(units_for(clause)):
                    vec = units[min(j, len(units) - 1)]
                    vec = vec + noise.normal(0.0, VECTOR_NOISE, vec.shape).astype(np.float32)
                    texts.append(unit.text)
                    vectors.append(vec / np.linalg.norm(vec))
                sentences = [t for t, _ in clause_sentences(clause.text)]
                own = sentence_outline[name][min(i, len(original) - 1)] or units
                texts += sentences
                vectors += noisy_copies(own, len(sentences), noise)
            cache.remember(texts, np.stack(vectors))
            stored += len(texts)
    finally:
        cache.close()
    return stored
