"""When to refuse: the evidence is too weak for any clause to answer the question.

Two signals, calibrated on the unanswerable and answerable questions of the dev split
(python -m kb.tune prints the table): the best dense similarity, and how many of the
question's content words the best clause contains. Out-of-domain questions (weather,
recipes) fail the first; in-domain questions the documents do not cover (a subsidy amount,
a phone number) share words but not the specific ones, and fail the second.
"""
from __future__ import annotations

from dataclasses import dataclass

from kb.retrieve import Retrieval


@dataclass(frozen=True)
class RefusalPolicy:
    min_dense: float = 0.80        # cosine similarity of e5-small below which nothing is on topic
    min_coverage: float = 0.34     # share of the question's content words found in the best clause
    confident_dense: float = 0.86  # above this the dense match alone is trusted (paraphrases)

    def should_refuse(self, r: Retrieval) -> bool:
        if r.reference and r.reference.clauses:
            return False
        if not r.hits:
            return True
        if not r.dense_available:
            return coverage(r) < self.min_coverage
        if r.dense_top < self.min_dense:
            return True
        if r.dense_top >= self.confident_dense:
            return False
        return coverage(r) < self.min_coverage


def coverage(r: Retrieval) -> float:
    tokens = set(r.query_tokens)
    if not tokens or not r.hits:
        return 0.0
    text = r.hits[0].clause.text + r.hits[0].clause.title
    return sum(1 for t in tokens if t in text) / len(tokens)
