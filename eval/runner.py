"""Run gold questions through the public ``kb`` API, the way the app does, and keep what came back.

    kb = KnowledgeBase.open(Settings(dir=...))
    cases = run_gold(kb, questions)        # one Case per question; absent documents → skipped
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from eval.gold import GoldQuestion
from eval.metrics import Case
from eval.targets import doc_short_title, ref_of_citation


def available_documents(kb) -> dict[str, str]:
    """Short title → full title of every document in the knowledge base."""
    docs: dict[str, str] = {}
    for clause in kb.clauses():
        docs.setdefault(doc_short_title(clause.doc_title, clause.doc_kind), clause.doc_title)
    return docs


def doc_kinds(kb) -> dict[str, str]:
    return {c.doc_title: c.doc_kind for c in kb.clauses()}


def missing_documents(question: GoldQuestion, available: Iterable[str]) -> list[str]:
    """Target documents the knowledge base lacks; such a question is skipped, never dropped."""
    have = set(available)
    return sorted(d for d in question.documents if d not in have)


def skipped_case(question: GoldQuestion, missing: list[str]) -> Case:
    return Case(id=question.id, type=question.type, expect=question.expect, facts=question.facts,
                split=question.split, absent=question.absent, skipped=True,
                extra={"missing_documents": missing})


def case_from_answer(question: GoldQuestion, answer: dict, latency_ms: float,
                     kinds: dict[str, str] | None = None) -> Case:
    """A ``Case`` from ``Answer.to_json()``; latency is the wall time the caller measured."""
    refs = tuple(ref_of_citation(c, kinds) for c in answer.get("citations") or ())
    return Case(id=question.id, type=question.type, expect=question.expect, facts=question.facts,
                split=question.split, absent=question.absent, answer=answer.get("answer") or "",
                refused=bool(answer.get("refused")), refs=refs,
                latency_ms=latency_ms, mode=answer.get("mode") or "extractive",
                extra={"verified": answer.get("verified"), "notices": answer.get("notices") or [],
                       "error": answer.get("error"),
                       "kb_latency_ms": answer.get("latency_ms")})


def run_gold(kb, questions: list[GoldQuestion],
             on_progress: Callable[[int, int], None] | None = None) -> list[Case]:
    """Ask every question (with its history) in order; questions on absent documents are skipped."""
    available = available_documents(kb)
    kinds = doc_kinds(kb)
    cases = []
    for i, q in enumerate(questions, start=1):
        missing = missing_documents(q, available)
        if missing:
            cases.append(skipped_case(q, missing))
        else:
            start = time.perf_counter()
            try:
                answer = kb.answer(q.question, list(q.history) or None).to_json()
            except Exception as err:   # one broken question is a failing row, not a lost report
                answer = {"answer": "", "citations": [], "notices": [], "error": f"{type(err).__name__}: {err}"}
            elapsed = (time.perf_counter() - start) * 1000
            cases.append(case_from_answer(q, answer, elapsed, kinds))
        if on_progress:
            on_progress(i, len(questions))
    return cases
