"""Sentence-level evidence: which sentence of the best clauses holds what the question asks.

The sentences of the ``evidence_clauses`` best clauses are scored by a logistic model over
``kb.params.SENTENCE_FEATURES`` (fitted on the dev split: does the sentence hold the gold key
fact?). A clause's final score adds its best sentence's probability (``rerank``), so the clause
that states the asked figure outranks one that only shares the topic; the answer quotes the
best sentences, best first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from kb.params import Params
from kb.query import Query
from kb.retrieve import Candidate, HybridRetriever, Retrieval, term_coverage
from kb.sentences import clause_sentences
from kb.text import fold_width


@dataclass(frozen=True)
class Sentence:
    clause_id: str
    text: str            # verbatim, as in the clause
    line: int            # line of the clause it is on (款, table row)
    index: int           # its place in the clause
    features: dict[str, float]
    probability: float


def sentence_features(query: Query, sentence: str, index: int, title: str, window: str | None,
                      clause_score: float, similarity: float, best_similarity: float) -> dict[str, float]:
    text = fold_width(sentence).lower()
    terms = query.content_terms()
    total = sum(t.specificity for t in terms)
    held = [t.specificity for t in terms if term_coverage(t.text, text, query) >= 1.0]
    covered = sum(t.specificity * term_coverage(t.text, text, query) for t in terms) / total if total else 0.0
    pairs = sum(p in text for p in query.bigrams) / len(query.bigrams) if query.bigrams else 0.0
    asks = bool(query.asked_types)
    has_value = asks and all(t.held_by(sentence) for t in query.asked_types)
    return {
        "coverage": covered,
        "bigrams": pairs,
        "rare": max(held, default=0.0),
        "type_held": float(has_value),
        "type_missing": float(asks and not has_value),
        "title": float(bool(title) and sentence.rstrip("。；;.").strip() == title.strip()),
        "window": float(bool(window) and sentence in window),
        "clause_score": clause_score,
        "top_clause": float(clause_score == 0.0),
        "first": float(index == 0),
        "length": math.log(1 + len(sentence)),
        "dense": similarity - best_similarity,
        "dense_raw": similarity,
    }


def weigh(retrieval: Retrieval, retriever: HybridRetriever, params: Params) -> tuple[list[Candidate], list[Sentence]]:
    """The candidates re-ranked by their best sentence, and the sentences of the best clauses, best first."""
    top = retrieval.candidates[:params.evidence_clauses]
    if not top:
        return list(retrieval.candidates), []
    best_score = top[0].score
    sims = retrieval.sentences
    best_sim = max((sims.best.get(c.clause_id, 0.0) for c in top), default=0.0) if sims else 0.0
    sentences: list[Sentence] = []
    best_of: dict[str, float] = {}
    for cand in top:
        clause = retriever.catalog.by_id[cand.clause_id]
        own = sims.of(cand.clause_id) if sims else ()
        for i, (text, line) in enumerate(clause_sentences(clause.text)):
            sim = float(own[i]) if i < len(own) else best_sim
            f = sentence_features(retrieval.query, text, i, clause.title, cand.window, cand.score - best_score,
                                  sim, best_sim)
            p = params.sentence_probability(f)
            sentences.append(Sentence(cand.clause_id, text, line, i, f, p))
            best_of[cand.clause_id] = max(best_of.get(cand.clause_id, 0.0), p)
    reranked = [replace(c, score=c.score + params.rerank * best_of.get(c.clause_id, 0.0)) for c in top]
    reranked.sort(key=lambda c: (-c.score, c.clause_id))
    # ``rerank`` is fitted non-negative, so the rest stay below the re-ranked head: one score order.
    sentences.sort(key=lambda s: (-s.probability, s.clause_id, s.index))
    return reranked + list(retrieval.candidates[params.evidence_clauses:]), sentences
