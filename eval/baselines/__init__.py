"""Baselines measured in the same run as our pipeline, on the same questions.

Each baseline is a small class satisfying ``Baseline``: configuration in ``__init__``,
one ``case(question)`` per gold question, carrying the hit/miss of each of its top-k results.

    bm25 = BM25ClauseBaseline(kb.clauses())
    cases = run_baseline(bm25, questions, skipped_ids)
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from eval.gold import GoldQuestion
from eval.metrics import Case


@runtime_checkable
class Baseline(Protocol):
    name: str    # short key in the results ("bm25", "llamaindex")
    label: str   # what the tables and the chart call it

    def prepare(self, queries: list[str]) -> None:
        """Work that is cheaper for all queries at once (batch query embeddings); may do nothing."""

    def case(self, question: GoldQuestion) -> Case: ...


def baseline_query(question: GoldQuestion) -> str:
    """The text a baseline searches with: a follow-up gets the user's earlier turns in front of it.

    Plain retrievers have no chat memory; prepending the earlier questions is the simplest
    fair help, so the baselines are not penalised for what they were never built to do.
    """
    earlier = [m.get("content", "") for m in question.history if m.get("role") == "user"]
    return "\n".join([*earlier, question.question])


def run_baseline(baseline: Baseline, questions: Iterable[GoldQuestion],
                 skipped: set[str] = frozenset()) -> list[Case]:
    """One case per question; a question our run skipped is skipped here too."""
    questions = list(questions)
    baseline.prepare([baseline_query(q) for q in questions if q.expect and q.id not in skipped])
    cases = []
    for q in questions:
        if q.id in skipped:
            cases.append(Case(id=q.id, type=q.type, expect=q.expect, skipped=True))
        elif not q.expect:
            cases.append(Case(id=q.id, type=q.type))   # unanswerable: no retrieval metric applies
        else:
            cases.append(baseline.case(q))
    return cases
