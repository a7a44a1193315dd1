"""Hybrid retrieval: reference lookup, dense (Chroma) and lexical (BM25), ranked on one score scale.

Every clause any retriever found is a candidate with the features of ``kb.params.RANKING_FEATURES``;
its score is their weighted sum, with the weights ``python -m eval.fit`` learned on the dev split
(pairwise logistic regression over the gold targets). A clause the question cites by reference
carries the ``reference`` feature, so it leads on the same scale rather than on a fixed constant.
"""
from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from kb.catalog import Catalog, DocRecord
from kb.embeddings import Embedder
from kb.lexical import LexicalIndex
from kb.lexicon import Lexicon
from kb.model import Hit
from kb.params import Params
from kb.query import Query, Term
from kb.references import Resolution, named_document, parse_references, resolve
from kb.sentences import SentenceScores, SentenceVectors
from kb.text import fold_width
from kb.units import unit_windows
from kb.vectors import VectorIndex, VectorStoreUnavailable

# Coverage (a substring test per question word) is measured on this many of the candidates best by
# every other feature, or on as many as the caller keeps; the rest rank below them anyway.
COVERAGE_POOL = 80


@dataclass(frozen=True)
class Candidate:
    """A clause found for a question, with the features its score is made of."""

    clause_id: str
    features: dict[str, float]
    score: float
    found_by: tuple[str, ...]
    window: str | None = None    # the unit text the dense search matched best


@dataclass
class Retrieval:
    """The ranked candidates and what later stages need to know about the search."""

    query: Query
    candidates: list[Candidate]            # best first
    dense_top: float = 0.0                 # best cosine similarity of any unit
    reference: Resolution | None = None
    dense_available: bool = True
    notices: list[str] = field(default_factory=list)
    sentences: SentenceScores | None = None   # the question's cosine with the candidates' sentences (kb.sentences)


class HybridRetriever:
    def __init__(self, catalog: Catalog, vectors: VectorIndex, lexical: LexicalIndex, embedder: Embedder,
                 lexicon: Lexicon, params: Params, sentences: SentenceVectors, query_cache: int = 1024):
        self.catalog, self.vectors, self.lexical, self.embedder = catalog, vectors, lexical, embedder
        self.sentences = sentences
        self.lexicon, self.params = lexicon, params
        self._jurisdiction = {d.title: lexicon.document_jurisdiction(d.title, d.issuer) for d in catalog.documents}
        self._text = {c.id: fold_width(f"{c.title}\n{c.text}").lower() for c in catalog.clauses}
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache = query_cache      # question embeddings kept (KB_QUERY_CACHE)
        self._values: dict[str, frozenset[str]] = {}   # clause id → the kinds of value its text holds
        self._windows: dict[str, dict[str, str]] = {}  # clause id → its units' texts (kb.units.unit_windows)

    def clause_text(self, clause_id: str) -> str:
        """A clause's title and text as coverage is measured on (width-folded, lower-cased)."""
        return self._text[clause_id]

    def query_vector(self, text: str) -> np.ndarray:
        vector = self._query_vectors.get(text)
        if vector is None:
            vector = self.embedder.embed_queries([text])[0]
            if self._query_cache:
                self._query_vectors[text] = vector
                if len(self._query_vectors) > self._query_cache:
                    self._query_vectors.popitem(last=False)
        return vector

    def dense_scores(self, vector: np.ndarray, units: int) -> tuple[dict[str, float], dict[str, str]]:
        """Best cosine similarity per clause over its units, and the best-matching unit's text."""
        best: dict[str, float] = {}
        window: dict[str, str] = {}
        for unit_id, clause_id, sim in self.vectors.query(vector, units):
            if clause_id in self.catalog.by_id and sim > best.get(clause_id, -1.0):
                best[clause_id] = sim
                window[clause_id] = self.unit_window(unit_id, clause_id)
        return best, window

    def unit_window(self, unit_id: str, clause_id: str) -> str:
        """The clause text a unit covers, rebuilt from the catalog once per clause (the whole text
        for an id the catalog's clause no longer yields)."""
        windows = self._windows.get(clause_id)
        if windows is None:
            windows = self._windows[clause_id] = unit_windows(self.catalog.by_id[clause_id])
        return windows.get(unit_id, self.catalog.by_id[clause_id].text)

    def retrieve(self, query: Query, top_k: int = 20, previous: str | None = None,
                 params: Params | None = None) -> Retrieval:
        """``previous``: the answer a follow-up follows (``query.text`` then also carries the earlier turn)."""
        params = params or self.params
        refs = parse_references(query.own)
        resolution = resolve(refs[0], self.catalog, self.lexicon) if refs else None
        named = named_document(query.own, self.catalog.documents, self.lexicon)
        notices: list[str] = []
        vector = self.query_vector(query.text)
        try:
            dense, windows = self.dense_scores(vector, params.dense_candidates)
        except VectorStoreUnavailable as err:  # degrade to BM25 rather than fail the user
            dense, windows = {}, {}
            notices.append(f"向量数据库暂不可用，本次仅按关键词检索。{err}")
        signals = {"dense": _min_max(dense), "lexical": _by_best(self.lexical.scores(query.lexical_text)),
                   "bigram": _by_best(self.lexical.bigram_scores(query.lexical_text))}
        follow_up = query.text != query.own
        if follow_up:
            signals["focus"] = _by_best(self.lexical.bigram_scores(query.own))
            if previous:
                signals["continuity"] = _by_best(self.lexical.bigram_scores(previous))
        references = {c.id: 1.0 / (1 + rank) for rank, c in enumerate(resolution.clauses)} if resolution else {}
        pool = set(dense) | set(signals["lexical"]) | set(signals["bigram"]) | set(references)
        sentences = self.sentences.scores(vector, sorted(pool))
        scored = []
        for cid in pool:
            features = self.features(cid, query, signals, named, references)
            features["dense_sentence"] = sentences.best.get(cid, sentences.top - 1.0) - sentences.top
            scored.append((params.ranking_score(features), cid, features))
        candidates = []
        for _, cid, features in heapq.nsmallest(max(top_k, COVERAGE_POOL), scored, key=lambda s: (-s[0], s[1])):
            features["coverage"] = coverage(query, self._text[cid])
            found_by = tuple(name for name in ("reference", "dense", "lexical", "bigram")
                             if cid in (references if name == "reference" else signals[name]))
            candidates.append(Candidate(cid, features, params.ranking_score(features), found_by, windows.get(cid)))
        ranked = heapq.nsmallest(max(top_k, params.evidence_clauses), candidates, key=lambda c: (-c.score, c.clause_id))
        return Retrieval(query=query, candidates=ranked, dense_top=max(dense.values(), default=0.0),
                         reference=resolution, dense_available=not notices, notices=notices,
                         sentences=sentences)

    def features(self, cid: str, query: Query, signals: dict[str, dict[str, float]], named: DocRecord | None,
                 references: dict[str, float]) -> dict[str, float]:
        clause = self.catalog.by_id[cid]
        opening = clause.kind == "preface" or clause.article == 1
        return {
            **{name: table.get(cid, 0.0) for name, table in signals.items()},
            "coverage": 0.0,   # measured afterwards, on the candidates that can still lead
            "named_doc": float(named is not None and clause.doc_title == named.title),
            "jurisdiction": float(bool(query.jurisdictions)
                                  and self._jurisdiction.get(clause.doc_title) in query.jurisdictions),
            "box": float(clause.kind == "box"),
            "preface": float(clause.kind == "preface" and not query.about_document),
            "opening": float(query.about_document and opening),
            "general": float(query.about_scope and clause.article is not None and clause.article <= 3),
            "answer_type": float(bool(query.asked_types) and all(t.name in self.values_held(cid)
                                                                 for t in query.asked_types)),
            "reference": references.get(cid, 0.0),
        }

    def values_held(self, clause_id: str) -> frozenset[str]:
        """The kinds of value (kb/lexicon/answer_types.toml) the clause's text holds, worked out once."""
        held = self._values.get(clause_id)
        if held is None:
            text = self.catalog.by_id[clause_id].text
            held = self._values[clause_id] = frozenset(t.name for t in self.lexicon.answer_types if t.held_by(text))
        return held

    def hits(self, retrieval: Retrieval, top_k: int) -> list[Hit]:
        return [Hit(self.catalog.by_id[c.clause_id], c.score, c.found_by, c.window)
                for c in retrieval.candidates[:top_k]]


def term_coverage(term: str, text: str, query: Query) -> float:
    """How much of one question word ``text`` holds: 1 when it occurs, or when an official term its
    colloquial or English cue implies occurs (借钱 → 融资); else the share of its character pairs."""
    if term in text:
        return 1.0
    if any(t in text for t in query.implied_by(term)):
        return 1.0
    if len(term) >= 3 and "\u3400" <= term[0] <= "\u9fff":
        pairs = [term[i:i + 2] for i in range(len(term) - 1)]
        return sum(p in text for p in pairs) / len(pairs)
    return 0.0


def coverage(query: Query, text: str, terms: list[Term] | None = None) -> float:
    """Specificity-weighted share of the question's content words (or of ``terms``) that ``text``
    holds (1 with none)."""
    terms = query.content_terms() if terms is None else terms
    total = sum(t.specificity for t in terms)
    if not total:
        return 1.0
    return sum(t.specificity * term_coverage(t.text, text, query) for t in terms) / total


def _min_max(scores: dict[str, float]) -> dict[str, float]:
    """1 for the best, 0 for the weakest; a lone or tied candidate gets 1 (it is the best)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi <= lo:
        return {k: 1.0 for k in scores}
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def _by_best(scores: dict[str, float]) -> dict[str, float]:
    """Each score over the best one (BM25 is 0 for no match, so the weakest match keeps its share)."""
    best = max(scores.values(), default=0.0)
    return {k: v / best for k, v in scores.items()} if best > 0 else {}
