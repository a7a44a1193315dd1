"""Synthetic corpora N× the real one, written as an ordinary KB folder the product opens as usual.

Copy k of every real document becomes a document of its own (「…（副本k）」): its clauses keep
their structure, get distinct ids (``plan~k/ch3/s1/item7``) and labels, and have a share of
their characters replaced by other characters of the corpus; the BM25 dictionary is mined from
that text, as an ingest would. Each unit reuses the real unit's vector plus small Gaussian noise
(renormalised), so nothing is embedded. Every copy also gets a small source file whose hash the
catalog records, so ``KnowledgeBase.open`` sees an unchanged KB and answers over it instead of
rebuilding. (``bench.copies`` writes copies as source files the parser reads, for measuring a
real ingest; this module skips parsing and embedding, to build a 100× KB in minutes.)

    build_scaled(real_kb, out, factor=100, sources=[...])   # catalog, BM25, sources, embedded vectors
    write_vectors(real_kb, out, url="http://127.0.0.1:8123")  # the same vectors into a server
    publish(real_kb, out, url="http://127.0.0.1:8123")        # and its generation as the head
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ingest.model import Clause
from kb.build import Builder
from kb.catalog import Catalog, DocRecord
from kb.lexical import LexicalIndex, clause_text
from kb.sentences import SentenceVectors, clause_sentences
from kb.tokenize import Tokenizer
from kb.units import units_for
from kb.vectors import VectorIndex

CHAR_SWAP = 0.08     # share of a copy's CJK characters replaced by other corpus characters
VECTOR_NOISE = 0.01  # per-dimension σ: cosine to the real unit ≈ 0.98 for 384 dimensions
SEED = 7
BATCH = 2000         # vectors per Chroma upsert (below its maximum batch size)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_COPY = re.compile(r"^([^/]*)~\d+")


def sources_dir(out: Path) -> Path:
    """Where the copies' source files live; add it to ``Settings.sources`` with the real sources."""
    return out / "sources"


def perturb(text: str, rng: random.Random, alphabet: str, rate: float = CHAR_SWAP) -> str:
    positions = [m.start() for m in _CJK.finditer(text)]
    if not positions:
        return text + f" {rng.randrange(10**6)}"
    chars = list(text)
    for i in rng.sample(positions, max(1, round(rate * len(positions)))):
        chars[i] = rng.choice(alphabet)
    return "".join(chars)


def copy_document(doc: DocRecord, clauses: list[Clause], k: int, rng: random.Random,
                  alphabet: str, folder: Path) -> tuple[DocRecord, list[Clause]]:
    """Copy k of one document: new key, title and ids, perturbed text, and its source file."""
    key, title = f"{doc.key}~{k}", f"{doc.title}（副本{k}）"
    copies = [dataclasses.replace(
        c, id=key + c.id[len(doc.key):] if c.id.startswith(doc.key) else f"{key}/{c.id}",
        doc_title=title, label=f"{c.label}（副本{k}）", text=perturb(c.text, rng, alphabet))
        for c in clauses]
    path = folder / f"{key.replace('/', '_')}.txt"
    path.write_text(f"{title}\n\n" + "\n\n".join(f"{c.label}\n{c.text}" for c in copies) + "\n",
                    encoding="utf-8")
    record = dataclasses.replace(
        doc, key=key, title=title, short_title=f"{doc.short_title}（副本{k}）", source=str(path.resolve()),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(), clause_count=len(copies))
    return record, copies


def build_scaled(real_kb: Path, out: Path, factor: int, sources: list[Path], url: str | None = None) -> Catalog:
    """Write a KB folder holding the real corpus and ``factor - 1`` perturbed copies of it, with the
    BM25 index and dictionary the product mines from that text; ``sources`` are remembered."""
    real = Catalog.load(real_kb / "catalog.json")
    rng = random.Random(SEED)
    alphabet = "".join(_CJK.findall("".join(c.text for c in real.clauses)))
    folder = sources_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    documents, clauses = list(real.documents), list(real.clauses)
    for k in range(1, factor):
        for doc in real.documents:
            record, copies = copy_document(doc, real.of_document(doc.title), k, rng, alphabet, folder)
            documents.append(record)
            clauses.extend(copies)
    remembered = [str(s.resolve()) for s in sources]
    catalog = Catalog(documents, clauses, remembered)
    assert len(catalog.by_id) == len(clauses), "synthetic clause ids collide"
    LexicalIndex.build(Tokenizer.for_corpus([clause_text(c) for c in clauses]), clauses).save(out / "lexical")
    write_sentences(real_kb, out, clauses)
    catalog.save(out / "catalog.json")
    count = write_vectors(real_kb, out, url)
    write_manifest(real_kb, out, documents, count, remembered, url)
    return catalog


def write_manifest(real_kb: Path, out: Path, documents: list[DocRecord], unit_count: int,
                   sources: list[str], url: str | None) -> None:
    """The manifest last, by the product's own ingest code, so the folder verifies as a whole KB."""
    model = _model_name(real_kb)
    builder = Builder(out, [Path(s) for s in sources], SimpleNamespace(name=model), VectorIndex(out, model, url))
    builder.write_manifest(documents, unit_count)


def publish(real_kb: Path, out: Path, url: str) -> None:
    """Publish the folder's generation on the Chroma server, as ``python -m kb ingest`` does last."""
    from kb.generation import verify
    from kb.publish import SharedState

    index = VectorIndex(out, _model_name(real_kb), url)
    manifest, problem = verify(out, index.name)
    if manifest is None:
        raise RuntimeError(f"{out} is not a whole generation: {problem}")
    SharedState(index).publish(out, manifest)


def _model_name(real_kb: Path) -> str:
    return json.loads((real_kb / "manifest.json").read_text(encoding="utf-8"))["embedding_model"]


def real_sentence_vectors(real_kb: Path) -> dict[str, list[np.ndarray]]:
    """Clause id → the real KB's vector of each of its sentences."""
    real = SentenceVectors.load(real_kb / "sentences")
    rows = iter(real.vectors)
    return {cid: [next(rows) for _ in range(n)] for cid, n in zip(real.clause_ids, real.counts)}


def noisy_copies(original: list[np.ndarray], count: int, noise: np.random.Generator) -> list[np.ndarray]:
    """``count`` vectors for a copy: the original's in the same place (its last one past its end),
    plus noise, renormalised."""
    out = []
    for i in range(count):
        vec = original[min(i, len(original) - 1)] if original else np.ones(1, np.float32)
        vec = vec + noise.normal(0.0, VECTOR_NOISE, vec.shape).astype(np.float32)
        out.append(vec / np.linalg.norm(vec))
    return out


def write_sentences(real_kb: Path, out: Path, clauses: list[Clause]) -> None:
    """The sentence vectors of the synthetic catalog: the real ones, with noise for copies."""
    real = real_sentence_vectors(real_kb)
    noise = np.random.default_rng(SEED)
    counts, vectors = [], []
    for clause in clauses:
        n = len(clause_sentences(clause.text))
        original = real[_COPY.sub(r"\1", clause.id)]
        vectors += original[:n] if clause.id in real else noisy_copies(original, n, noise)
        counts.append(n)
    dim = len(vectors[0]) if vectors else 1
    SentenceVectors([c.id for c in clauses], counts,
                    np.stack(vectors) if vectors else np.zeros((0, dim), np.float32)).save(out / "sentences")


def write_vectors(real_kb: Path, out: Path, url: str | None = None) -> int:
    """Every unit of the synthetic catalog into Chroma (embedded under ``out`` or at ``url``):
    the real unit's vector, plus noise for copies. Returns the number of vectors."""
    model = _model_name(real_kb)
    got = VectorIndex(real_kb, model).collection.get(include=["embeddings"])
    real_vectors = dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
    real = Catalog.load(real_kb / "catalog.json")
    by_clause = {c.id: [real_vectors[u.id] for u in units_for(c)] for c in real.clauses}
    catalog = Catalog.load(out / "catalog.json")
    index = VectorIndex(out, model, url)
    noise = np.random.default_rng(SEED)
    units, vectors, total = [], [], 0
    for clause in catalog.clauses:
        original = by_clause[_COPY.sub(r"\1", clause.id)]
        copied = clause.id not in by_clause
        for i, unit in enumerate(units_for(clause)):
            vec = original[min(i, len(original) - 1)]
            if copied:
                vec = vec + noise.normal(0.0, VECTOR_NOISE, vec.shape).astype(np.float32)
                vec /= np.linalg.norm(vec)
            units.append(unit)
            vectors.append(vec)
        if len(units) >= BATCH:
            index.add(units, np.stack(vectors))
            total += len(units)
            units, vectors = [], []
    index.add(units, np.stack(vectors) if vectors else np.zeros((0, 1)))
    return total + len(units)
