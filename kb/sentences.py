"""Sentence vectors: every sentence of every clause, embedded once at ingest, kept in ``sentences/``.

The dense search finds clauses by their units (a head and windows of about 180 characters);
which *sentence* of a clause says what is asked is a finer question. At ingest each sentence is
embedded alone (the embedding cache makes a re-ingest free), and at question time one matrix
product scores the sentences of the candidate clauses against the question's vector: the best sentence of a clause becomes a
ranking feature, and each sentence's similarity a feature of the sentence model.

    vectors = SentenceVectors.build(clauses, embedder)      # ingest
    scores = vectors.scores(query_vector, candidate_ids)     # scores.best[clause id], scores.of(clause id)
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ingest.model import Clause
from kb.text import split_sentences

SENTENCES = "sentences"          # the folder of a generation that holds them
SENTENCE_VERSION = "s1"          # bump when the sentence split or what is embedded changes
MIN_SENTENCE_CHARS = 8           # shorter pieces (「南村镇。」) say nothing alone and join the next sentence


def clause_sentences(text: str) -> list[tuple[str, int]]:
    """A clause's sentences with their line numbers; a bare lead-in (「南村镇。」) is joined to the
    sentence after it on the same line, so every piece is still a verbatim span."""
    out: list[tuple[str, int]] = []
    for line_no, line in enumerate(text.splitlines()):
        carry = ""
        for sentence in split_sentences(line):
            if len(sentence) < MIN_SENTENCE_CHARS:
                carry += sentence
                continue
            out.append((carry + sentence, line_no))
            carry = ""
        if carry and out and out[-1][1] == line_no:
            out[-1] = (out[-1][0] + carry, line_no)
        elif carry:
            out.append((carry, line_no))
    return out


def lead_in(sentence: str) -> str:
    """The bare lead-in a sentence of ``clause_sentences`` starts with (「市北区。」 of
    「市北区。锚定…」), or "" when it has none."""
    pieces = split_sentences(sentence)
    lead = ""
    for piece in pieces[:-1]:
        if len(piece) >= MIN_SENTENCE_CHARS:
            break
        lead += piece
    return lead


class SentenceScores:
    """One question's cosine with the sentences of some clauses: ``best[clause id]``, ``top`` (the best
    of all) and ``of(clause id)`` (one per sentence, in clause order)."""

    def __init__(self, clause_ids: list[str], counts: list[int], sims: np.ndarray):
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int) if counts else np.zeros(0, int)
        self._span = {cid: (int(a), n) for cid, a, n in zip(clause_ids, starts, counts)}
        self._sims = sims
        best = np.maximum.reduceat(sims, starts) if len(sims) else np.zeros(0)
        self.best = dict(zip(clause_ids, best.tolist()))
        self.top = float(best.max()) if len(best) else 0.0

    def of(self, clause_id: str) -> np.ndarray:
        start, n = self._span.get(clause_id, (0, 0))
        return self._sims[start:start + n]


class SentenceVectors:
    """One row per sentence, clause after clause, in catalog order; ``counts[i]`` rows for clause i."""

    def __init__(self, clause_ids: list[str], counts: list[int], vectors: np.ndarray):
        if sum(counts) != len(vectors) or len(counts) != len(clause_ids):
            raise ValueError("sentence vectors do not match their clause list")
        self.clause_ids, self.counts, self.vectors = clause_ids, counts, vectors
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int) if counts else np.zeros(0, int)
        self.span = {cid: (int(a), n) for cid, a, n in zip(clause_ids, starts, counts)}

    @classmethod
    def build(cls, clauses: list[Clause], embed: Callable[[list[str]], np.ndarray],
              on_batch: Callable[[int], None] | None = None, batch: int = 32) -> SentenceVectors:
        """``embed``: passages → vectors (the cached embedder); ``on_batch(n)`` after every n sentences."""
        texts: list[str] = []
        counts: list[int] = []
        for clause in clauses:
            own = [s for s, _ in clause_sentences(clause.text)]
            texts += own
            counts.append(len(own))
        parts = []
        for start in range(0, len(texts), batch):
            parts.append(np.asarray(embed(texts[start:start + batch]), dtype=np.float32))
            if on_batch:
                on_batch(len(parts[-1]))
        dim = parts[0].shape[1] if parts else 0
        vectors = np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)
        return cls([c.id for c in clauses], counts, vectors)

    def scores(self, query_vector: np.ndarray, clause_ids: Iterable[str]) -> SentenceScores:
        """Cosine of the question with the sentences of ``clause_ids`` (the vectors are normalised):
        the candidates a question has, so the cost does not grow with the corpus."""
        spans = [(cid, self.span[cid]) for cid in clause_ids if self.span.get(cid, (0, 0))[1]]
        if not spans:
            return SentenceScores([], [], np.zeros(0, np.float32))
        rows = np.concatenate([np.arange(start, start + n) for _, (start, n) in spans])
        # einsum, not BLAS: BLAS threads spin after a product and starve the query encoder's OpenMP
        # threads (measured at 10× the corpus: the next question's embedding took 37 ms instead of 18).
        sims = np.einsum("ij,j->i", self.vectors[rows], np.asarray(query_vector, dtype=np.float32))
        return SentenceScores([cid for cid, _ in spans], [n for _, (_, n) in spans], sims)

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "vectors.npy", self.vectors, allow_pickle=False)
        (tmp / "clauses.json").write_text(json.dumps({"ids": self.clause_ids, "counts": self.counts},
                                                     ensure_ascii=False), encoding="utf-8")
        (tmp / "VERSION").write_text(SENTENCE_VERSION, encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @staticmethod
    def is_current(folder: Path) -> bool:
        version = folder / "VERSION"
        return version.exists() and version.read_text(encoding="utf-8").strip() == SENTENCE_VERSION

    @classmethod
    def load(cls, folder: Path) -> SentenceVectors:
        listing = json.loads((folder / "clauses.json").read_text(encoding="utf-8"))
        return cls(listing["ids"], listing["counts"], np.load(folder / "vectors.npy", allow_pickle=False))
