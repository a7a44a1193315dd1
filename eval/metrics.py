"""Evaluation metrics as plain functions: each takes ``Case``s and returns ``{"score", "per_question"}``.

``score`` is the mean over the questions the metric applies to (``None`` when none do);
``per_question`` has one ``{"id", "value", …}`` row per such question, with whatever detail
explains the value. Questions a metric does not apply to are left out of both.

    cases = [Case(id="q001", type="factoid", expect=({"doc": "规划", "item": 7},), answer="…[1]", refs=(…,))]
    hit_at_k(cases, 1)["score"]
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from eval.targets import dedupe_refs, matches_any, rank_matches, target_matches
from kb.text import sentence_spans

_MARKER_GROUP = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]")
# A sentence of an answer ends at 。！？； (or a lead-in's ：, a unit of its own) plus any [n] markers
# right after it (kb.text's splitter, the one the product uses).
_ANSWER_STOPS = "。！？!?；;：:"
_MARKERS_AFTER = re.compile(r"\s*\[\d+(?:\s*[,，、]\s*\d+)*\]")
_EDGE = "\"'“”‘’「」『』()（）:：,，、。！？!?；;*-•·#>|"
_BULLET = re.compile(r"^(?:[-*•·>#]+|\d+[.、)]|[（(]\d+[)）])\s*")


@dataclass(frozen=True)
class Case:
    """One question as a system handled it.

    ``refs`` are the retrieved sources best first (see ``eval.targets``); ``ranks`` may be given
    instead when a source is not a clause (a baseline's text chunk) and only the hit per rank is known.
    """

    id: str
    type: str
    expect: tuple[dict, ...] = ()
    facts: tuple[str, ...] = ()
    answer: str = ""
    refused: bool = False
    refs: tuple[dict, ...] = ()
    ranks: tuple[bool, ...] | None = None
    latency_ms: float = 0.0
    mode: str = "extractive"
    skipped: bool = False
    split: str = ""
    absent: tuple[str, ...] = ()   # near-miss unanswerables: what is asked that no document holds
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def answerable(self) -> bool:
        return bool(self.expect)

    @property
    def hits(self) -> list[bool]:
        return list(self.ranks) if self.ranks is not None else rank_matches(self.refs, self.expect)


def _result(rows: list[dict]) -> dict:
    values = [r["value"] for r in rows if r["value"] is not None]
    return {"score": sum(values) / len(values) if values else None, "per_question": rows}


def _scored(cases: Iterable[Case]) -> list[Case]:
    return [c for c in cases if not c.skipped]


def first_hit_rank(case: Case) -> int | None:
    """1-based rank of the first source that hits a target, or None."""
    for i, hit in enumerate(case.hits, start=1):
        if hit:
            return i
    return None


def hit_at_k(cases: Iterable[Case], k: int) -> dict:
    """Share of answerable questions with a target among the first k sources (any target counts)."""
    rows = []
    for c in _scored(cases):
        if c.answerable:
            rank = first_hit_rank(c)
            rows.append({"id": c.id, "value": float(rank is not None and rank <= k), "rank": rank})
    return _result(rows)


def mrr(cases: Iterable[Case]) -> dict:
    """Mean reciprocal rank of the first source that hits a target (0 when none does)."""
    rows = []
    for c in _scored(cases):
        if c.answerable:
            rank = first_hit_rank(c)
            rows.append({"id": c.id, "value": 1.0 / rank if rank else 0.0, "rank": rank})
    return _result(rows)


def cited_markers(answer: str) -> list[int]:
    """Numbers of the [n] markers in the answer (also [1,2]), in order of first appearance."""
    seen: list[int] = []
    for group in _MARKER_GROUP.findall(answer or ""):
        for n in re.split(r"\s*[,，、]\s*", group):
            if int(n) not in seen:
                seen.append(int(n))
    return seen


def cited_refs(case: Case) -> list[dict]:
    """The sources the answer text points at: the refs whose marker appears as [n], each once."""
    markers = set(cited_markers(case.answer))
    return dedupe_refs([r for r in case.refs if r.get("marker") in markers])


def citation_precision(cases: Iterable[Case]) -> dict:
    """Share of the cited sources that are targets; undefined when an answer cites nothing."""
    rows = []
    for c in _scored(cases):
        if not c.answerable or c.refused:
            continue
        cited = cited_refs(c)
        if not cited:
            rows.append({"id": c.id, "value": None, "cited": 0, "note": "no [n] markers in the answer"})
            continue
        good = sum(matches_any(c.expect, r) for r in cited)
        rows.append({"id": c.id, "value": good / len(cited), "cited": len(cited), "on_target": good})
    return _result(rows)


def citation_recall(cases: Iterable[Case]) -> dict:
    """``multi``: share of the targets cited; other types (targets are alternatives): 1 if any is cited."""
    rows = []
    for c in _scored(cases):
        if not c.answerable:
            continue
        cited = cited_refs(c)
        found = [t for t in c.expect if any(target_matches(t, r) for r in cited)]
        if c.type == "multi":
            value = len(found) / len(c.expect)
        else:
            value = float(bool(found))
        rows.append({"id": c.id, "value": value, "targets_cited": len(found), "targets": len(c.expect)})
    return _result(rows)


def normalize_text(text: str) -> str:
    """Whitespace removed: hard wraps and spacing never decide whether text matches."""
    return re.sub(r"\s+", "", text or "")


def fact_recall(cases: Iterable[Case]) -> dict:
    """Share of a question's key facts found verbatim (whitespace aside) in the answer text."""
    rows = []
    for c in _scored(cases):
        if not c.answerable or not c.facts:
            continue
        answer = normalize_text(c.answer)
        missing = [f for f in c.facts if normalize_text(f) not in answer]
        rows.append({"id": c.id, "value": 1 - len(missing) / len(c.facts), "missing": missing})
    return _result(rows)


def answer_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """Each sentence of an answer without its [n] markers, bullets and edge punctuation, with its markers."""
    out = []
    for raw in sentence_spans(answer or "", stops=_ANSWER_STOPS, marker=_MARKERS_AFTER):
        if raw.strip():
            markers = cited_markers(raw)
            text = _BULLET.sub("", _MARKER_GROUP.sub("", raw).strip()).strip().strip(_EDGE).strip()
            if normalize_text(text):
                out.append((text, markers))
    return out


def unsupported_sentences(case: Case) -> list[str]:
    """Sentences not found verbatim in the clauses they cite (or, without markers, in any cited clause);
    a clause's citation label counts as part of it."""
    # A lookup answer opens with the clause's label (「第7条「完善融资机制」：」): part of its citation.
    by_marker = {r.get("marker"): normalize_text(f"{r.get('label') or ''}\n{r.get('text', '')}") for r in case.refs}
    cited = [by_marker[m] for m in cited_markers(case.answer) if m in by_marker]
    bad = []
    for sentence, markers in answer_sentences(case.answer):
        sources = [by_marker[m] for m in markers if m in by_marker] if markers else cited
        if not any(normalize_text(sentence) in text for text in sources):
            bad.append(sentence)
    return bad


def faithfulness(cases: Iterable[Case]) -> dict:
    """Share of extractive, non-refused answers whose every sentence is found in the cited clause text."""
    rows = []
    for c in _scored(cases):
        if c.refused or c.mode != "extractive" or not normalize_text(c.answer):
            continue
        bad = unsupported_sentences(c)
        rows.append({"id": c.id, "value": float(not bad), "unsupported": bad})
    return _result(rows)


def first_sentence(answer: str) -> str:
    """The answer's first sentence as a reader meets it (markers and bullets stripped)."""
    sentences = answer_sentences(answer)
    return sentences[0][0] if sentences else ""


def key_fact(cases: Iterable[Case]) -> dict:
    """Share of answerable questions whose key fact (``facts[0]``) is in the answer; a refusal has none."""
    rows = []
    for c in _scored(cases):
        if c.answerable and c.facts:
            found = not c.refused and normalize_text(c.facts[0]) in normalize_text(c.answer)
            rows.append({"id": c.id, "value": float(found)})
    return _result(rows)


def key_fact_first(cases: Iterable[Case]) -> dict:
    """Share of answerable questions whose key fact is in the answer's first sentence: the answer
    leads with the fact rather than with context the reader has to get through first."""
    rows = []
    for c in _scored(cases):
        if c.answerable and c.facts:
            first = "" if c.refused else first_sentence(c.answer)
            rows.append({"id": c.id, "value": float(normalize_text(c.facts[0]) in normalize_text(first)),
                         "first_sentence": first})
    return _result(rows)


def quote_length(answer: str) -> int:
    """Characters a reader reads: citation markers and whitespace excluded."""
    return len(normalize_text(_MARKER_GROUP.sub("", answer or "")))


def factoid_answer_chars(cases: Iterable[Case]) -> dict:
    """Median length of answered factoid questions (the short answers entrepreneurs want)."""
    rows = [{"id": c.id, "value": float(quote_length(c.answer))}
            for c in _scored(cases) if c.type == "factoid" and c.answerable and not c.refused]
    return {"score": median([r["value"] for r in rows]), "per_question": rows}


def median(values: Sequence[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def near_miss_refusal(cases: Iterable[Case]) -> dict:
    """Refusal accuracy on near-miss questions: in-domain words, but the thing asked is absent."""
    rows = [{"id": c.id, "value": float(c.refused)} for c in _scored(cases) if not c.answerable and c.absent]
    return _result(rows)


def gap_named(cases: Iterable[Case]) -> dict:
    """Share of refused near-miss questions whose refusal names what was not found (an ``absent`` term)."""
    rows = []
    for c in _scored(cases):
        if not c.answerable and c.absent and c.refused:
            text = normalize_text(c.answer)
            rows.append({"id": c.id, "value": float(any(normalize_text(a) in text for a in c.absent))})
    return _result(rows)


def refusal_accuracy(cases: Iterable[Case]) -> dict:
    """Share of unanswerable questions the system refused."""
    rows = [{"id": c.id, "value": float(c.refused)} for c in _scored(cases) if not c.answerable]
    return _result(rows)


def false_refusal_rate(cases: Iterable[Case]) -> dict:
    """Share of answerable questions the system refused (lower is better)."""
    rows = [{"id": c.id, "value": float(c.refused)} for c in _scored(cases) if c.answerable]
    return _result(rows)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1): a value that was actually measured."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def latency(cases: Iterable[Case], q: float = 0.5) -> dict:
    """The q-th percentile of answer latency in ms over every answered question."""
    rows = [{"id": c.id, "value": c.latency_ms} for c in _scored(cases)]
    return {"score": percentile([r["value"] for r in rows], q), "per_question": rows}


# Metrics whose score is the median of the per-question values (the rest are means).
MEDIAN_METRICS = frozenset({"factoid_chars"})

# The retrieval metrics every system (ours and the baselines) is measured on, and the answer
# metrics only ours has; name → function of a list of cases.
RETRIEVAL_METRICS: dict[str, Callable[[list[Case]], dict]] = {
    "hit@1": lambda cs: hit_at_k(cs, 1),
    "hit@3": lambda cs: hit_at_k(cs, 3),
    "hit@5": lambda cs: hit_at_k(cs, 5),
    "mrr": mrr,
}
ANSWER_METRICS: dict[str, Callable[[list[Case]], dict]] = {
    "citation_precision": citation_precision,
    "citation_recall": citation_recall,
    "fact_recall": fact_recall,
    "key_fact": key_fact,
    "key_fact_first": key_fact_first,
    "factoid_chars": factoid_answer_chars,
    "faithfulness": faithfulness,
    "refusal_accuracy": refusal_accuracy,
    "near_miss_refusal": near_miss_refusal,
    "gap_named": gap_named,
    "false_refusal_rate": false_refusal_rate,
    "latency_median_ms": lambda cs: latency(cs, 0.5),
    "latency_p95_ms": lambda cs: latency(cs, 0.95),
}
