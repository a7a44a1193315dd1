"""Pass or fail per question, with the reasons a reader needs to fix it.

An answerable question passes when it is answered (not refused), a target is the first
citation, every key fact is in the answer, every sentence of an extractive answer is found in
the clauses it cites, and (``multi``) every target is cited. An unanswerable one passes when refused.
"""
from __future__ import annotations

from eval.metrics import (
    Case,
    cited_refs,
    first_hit_rank,
    normalize_text,
    unsupported_sentences,
)
from eval.targets import target_matches


def verdict(case: Case) -> tuple[bool | None, list[str]]:
    """(passed, reasons); ``passed`` is None for a skipped question."""
    if case.skipped:
        missing = case.extra.get("missing_documents") or []
        return None, [f"skipped: document not in the knowledge base: {', '.join(missing)}"]
    if not case.answerable:
        return (True, []) if case.refused else (False, ["answered an unanswerable question"])
    reasons = [f"kb.answer raised {case.extra['error']}"] if case.extra.get("error") else []
    if case.refused:
        reasons.append("refused an answerable question")
    rank = first_hit_rank(case)
    if rank is None:
        reasons.append("no target among the citations")
    elif rank > 1:
        reasons.append(f"first target at rank {rank}")
    answer = normalize_text(case.answer)
    missing = [f for f in case.facts if normalize_text(f) not in answer]
    if missing and not case.refused:
        reasons.append("facts missing from the answer: " + "、".join(missing))
    if not case.refused and case.mode == "extractive":
        bad = unsupported_sentences(case)
        if bad:
            reasons.append("not found in the cited clauses: " + " | ".join(s[:40] for s in bad))
    if case.type == "multi" and not case.refused:
        cited = cited_refs(case)
        uncited = [t for t in case.expect if not any(target_matches(t, r) for r in cited)]
        if uncited:
            reasons.append("targets not cited: " + ", ".join(_target_label(t) for t in uncited))
    return not reasons, reasons


def _target_label(target: dict) -> str:
    fields = "".join(f"/{k}{v}" for k, v in target.items() if k != "doc")
    return f"{target['doc']}{fields}"
