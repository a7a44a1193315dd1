"""Aggregate cases into tables per question type and write ``latest.md`` and ``latest.jsonl``."""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from eval.gold import QUESTION_TYPES, SPLITS, GoldQuestion
from eval.metrics import ANSWER_METRICS, RETRIEVAL_METRICS, Case, first_hit_rank
from eval.targets import matches_any
from eval.verdict import verdict

# A run writes to RUNS_DIR (git-ignored); ``--publish`` refreshes the committed RESULTS_DIR and the README.
RESULTS_DIR = Path(__file__).resolve().parent / "results"
RUNS_DIR = Path(__file__).resolve().parent / "runs"
OURS = "ours"

_HEADERS = {
    "hit@1": "hit@1", "hit@3": "hit@3", "hit@5": "hit@5", "mrr": "MRR",
    "citation_precision": "cite P", "citation_recall": "cite R", "fact_recall": "facts",
    "key_fact": "key fact", "key_fact_first": "fact 1st sent.", "factoid_chars": "factoid chars",
    "faithfulness": "faithful", "refusal_accuracy": "refusal acc", "near_miss_refusal": "near-miss refusal",
    "gap_named": "gap named", "false_refusal_rate": "false refusal",
    "latency_median_ms": "p50 ms", "latency_p95_ms": "p95 ms",
}


def groups_of(cases: Sequence[Case]) -> dict[str, list[Case]]:
    """Cases per question type (in the gold set's type order), then ``all``."""
    groups = {t: [c for c in cases if c.type == t] for t in QUESTION_TYPES}
    groups = {t: cs for t, cs in groups.items() if cs}
    groups["all"] = list(cases)
    return groups


def score_table(cases: Sequence[Case], metrics: Mapping[str, Callable[[list[Case]], dict]]) -> dict:
    """{group: {"n": scored questions, "skipped": n, metric: score, …}}."""
    table = {}
    for group, cs in groups_of(cases).items():
        row = {"n": sum(not c.skipped for c in cs), "skipped": sum(c.skipped for c in cs)}
        row.update({name: fn(cs)["score"] for name, fn in metrics.items()})
        table[group] = row
    return table


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or not theirs:
        return None
    return ours / theirs


def split_table(cases: Sequence[Case], metrics: Mapping[str, Callable[[list[Case]], dict]]) -> dict:
    """{split: {"n", metric: score, …}} for every split present, then ``all``."""
    table = {}
    for split in (*SPLITS, "all"):
        cs = list(cases) if split == "all" else [c for c in cases if c.split == split]
        if cs:
            table[split] = {"n": sum(not c.skipped for c in cs),
                            **{name: fn(cs)["score"] for name, fn in metrics.items()}}
    return table


def summarize(cases: Sequence[Case], baselines: Mapping[str, tuple[str, Sequence[Case]]], **info) -> dict:
    """The whole run as one dict: our table by type and by split, each baseline's, our hit@1 over theirs."""
    metrics = {**RETRIEVAL_METRICS, **ANSWER_METRICS}
    ours = score_table(cases, metrics)
    summary = {**info, "questions": len(cases), "skipped": sum(c.skipped for c in cases),
               "skipped_ids": [c.id for c in cases if c.skipped], OURS: ours,
               "by_split": split_table(cases, metrics), "baselines": {}, "ratios": {}}
    for key, (label, bcases) in baselines.items():
        table = score_table(bcases, RETRIEVAL_METRICS)
        summary["baselines"][key] = {"label": label, "scores": table}
        summary["ratios"][key] = {g: ratio(ours[g]["hit@1"], table[g]["hit@1"]) for g in ours if g in table}
    verdicts = [verdict(c)[0] for c in cases]
    summary["passed"] = sum(v is True for v in verdicts)
    summary["failed"] = sum(v is False for v in verdicts)
    return summary


# The headline columns of the by-split table, and the metrics shown as whole numbers.
SPLIT_COLUMNS = ("hit@1", "hit@5", "mrr", "key_fact", "key_fact_first", "factoid_chars", "refusal_accuracy",
                 "near_miss_refusal", "gap_named", "false_refusal_rate", "faithfulness", "latency_median_ms")
WHOLE_NUMBERS = ("factoid_chars", "latency_median_ms", "latency_p95_ms")


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def render_markdown(summary: dict, cases: Sequence[Case], questions: Mapping[str, GoldQuestion]) -> str:
    ours = summary[OURS]
    lines = ["# Evaluation results", "",
             f"Split `{summary.get('split')}`: {summary['questions']} questions, "
             f"{summary['skipped']} skipped, {summary['passed']} passed, {summary['failed']} failed. "
             f"Embedding model `{summary.get('embed_model')}`; harness wall time {fmt(summary.get('wall_time_s'), 1)} s.",
             "", "Written by `python -m eval`; the per-question file is `latest.jsonl`, the chart `chart.png`.", ""]
    if summary["skipped"]:
        lines += [f"**Skipped** (target documents absent from the knowledge base): "
                  f"{', '.join(summary['skipped_ids'])}", ""]
    names = [*RETRIEVAL_METRICS, *ANSWER_METRICS]
    lines += ["## By split", "", "`test` is the locked split (see eval/GOLD.md); `dev` is what is tuned and fitted on.", ""]
    lines += _table(["split", "n", *(_HEADERS[m] for m in SPLIT_COLUMNS)],
                    [[s, str(r["n"]), *(fmt(r[m], 0) if m in WHOLE_NUMBERS else fmt(r[m]) for m in SPLIT_COLUMNS)]
                     for s, r in summary.get("by_split", {}).items()])
    lines += ["", "## Our pipeline, by question type", ""]
    lines += _table(["type", "n", "skipped", *(_HEADERS[m] for m in names)],
                    [[g, str(r["n"]), str(r["skipped"]),
                      *(fmt(r[m], 0) if m in WHOLE_NUMBERS else fmt(r[m]) for m in names)]
                     for g, r in ours.items()])
    lines += ["", "cite P/R: citations whose [n] marker is in the answer; facts: key facts verbatim in the answer; "
              "key fact: `facts[0]` in the answer; fact 1st sent.: in its first sentence; factoid chars: median "
              "answer length of factoid questions, markers and whitespace excluded; "
              "faithful: every sentence of an extractive answer found in its cited clause; near-miss refusal: "
              "refusal accuracy on unanswerables whose topic words are in the documents; gap named: refusals of "
              "those that name what is missing.", ""]
    if summary["baselines"]:
        lines += _baseline_section(summary)
    failing = [(c, verdict(c)[1]) for c in cases if verdict(c)[0] is False]
    if failing:
        lines += ["## Failing questions", ""]
        lines += _table(["id", "type", "question", "reasons"],
                        [[c.id, c.type, _cell(questions[c.id].question if c.id in questions else ""),
                          _cell("; ".join(reasons))] for c, reasons in failing])
        lines.append("")
    for note in summary.get("notes") or []:
        lines.append(f"- {note}")
    return "\n".join(lines).rstrip() + "\n"


def _baseline_section(summary: dict) -> list[str]:
    """hit@1 side by side with the ratios, then each system's full retrieval table."""
    ours, baselines = summary[OURS], summary["baselines"]
    lines = ["## Baselines (same run, same questions)", ""]
    header = ["type", "ours hit@1", *(f"{b['label']} hit@1" for b in baselines.values()),
              *(f"ours ÷ {b['label']}" for b in baselines.values())]
    rows = []
    for g, r in ours.items():
        ratios = [summary["ratios"][k].get(g) for k in baselines]
        rows.append([g, fmt(r["hit@1"]), *(fmt(b["scores"].get(g, {}).get("hit@1")) for b in baselines.values()),
                     *(f"{x:.2f}×" if x else "–" for x in ratios)])
    lines += _table(header, rows) + [""]
    for label, table in [("ours", ours), *((b["label"], b["scores"]) for b in baselines.values())]:
        lines += [f"### {label}", ""]
        lines += _table(["type", "n", *(_HEADERS[m] for m in RETRIEVAL_METRICS)],
                        [[g, str(r["n"]), *(fmt(r.get(m)) for m in RETRIEVAL_METRICS)] for g, r in table.items()])
        lines.append("")
    return lines + ["Baselines have no answer text, so only retrieval metrics apply; unanswerable questions "
                    "have no target and count in no retrieval metric. Follow-ups are searched with the earlier "
                    "user turns prepended. A llama-index chunk hits a target when it comes from the target's "
                    "file and contains the target clause's opening (whitespace and punctuation aside).", ""]

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def question_record(case: Case, question: GoldQuestion | None, baselines: Mapping[str, Case]) -> dict:
    """One line of ``latest.jsonl``."""
    passed, reasons = verdict(case)
    record = {
        "id": case.id, "type": case.type, "split": question.split if question else None,
        "question": question.question if question else None, "skipped": case.skipped,
        "passed": passed, "reasons": reasons, "refused": case.refused, "answer": case.answer,
        "mode": case.mode, "notices": case.extra.get("notices") or [],
        "latency_ms": round(case.latency_ms, 1), "rank": first_hit_rank(case),
        "citations": [{"marker": r.get("marker"), "label": r.get("label"), "id": r.get("id"),
                       "score": r.get("score"), "hit": h}
                      for r, h in zip(case.refs, _hits_per_ref(case))],
        "baselines": {k: {"rank": first_hit_rank(b), "hits": b.hits} for k, b in baselines.items()},
    }
    return record


def _hits_per_ref(case: Case) -> list[bool]:
    return [matches_any(case.expect, r) for r in case.refs]


def write_results(out_dir: Path, summary: dict, cases: Sequence[Case], questions: Sequence[GoldQuestion],
                  baseline_cases: Mapping[str, Sequence[Case]]) -> dict[str, Path]:
    """Write latest.md, latest.jsonl and summary.json; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    by_id = {q.id: q for q in questions}
    per_baseline = {k: {c.id: c for c in cs} for k, cs in baseline_cases.items()}
    paths = {"md": out_dir / "latest.md", "jsonl": out_dir / "latest.jsonl", "summary": out_dir / "summary.json"}
    records = [question_record(c, by_id.get(c.id), {k: b[c.id] for k, b in per_baseline.items() if c.id in b})
               for c in cases]
    _atomic_write(paths["jsonl"], "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    _atomic_write(paths["md"], render_markdown(summary, cases, by_id))
    _atomic_write(paths["summary"], json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    return paths


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
