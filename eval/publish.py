"""``python -m eval --split all --publish``: the README's quality table, generated from a run.

The block between ``<!-- quality:start -->`` and ``<!-- quality:end -->`` is replaced; it leads
with the locked test split, with dev (tuned on) and the cross-validation figures of the fit beside it.
"""
from __future__ import annotations

from pathlib import Path

from eval.report import fmt

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- quality:start -->", "<!-- quality:end -->"
SPLIT_NOTES = {"test": "**locked test split** (never tuned on)", "dev": "dev (tuned and fitted on)",
               "test-v2": "test-v2 (issue 11's first test split, read seven times while tuning)",
               "test-v1": "test-v1 (the test split of issues 3 and 5, read during earlier tuning)",
               "all": "all questions"}
COLUMNS = (("hit@1", "hit@1"), ("hit@5", "hit@5"), ("key_fact", "key fact in answer"),
           ("key_fact_first", "key fact in 1st sentence"), ("factoid_chars", "median factoid answer (chars)"),
           ("refusal_accuracy", "refusal accuracy"), ("near_miss_refusal", "near-miss refusal"),
           ("false_refusal_rate", "answerable refused"))


def quality_block(summary: dict, cv: dict | None = None) -> str:
    rows = ["| split | questions | " + " | ".join(label for _, label in COLUMNS) + " |",
            "|---|---|" + "---|" * len(COLUMNS)]
    for split in ("test", "dev", "test-v2", "test-v1", "all"):
        r = summary.get("by_split", {}).get(split)
        if r:
            cells = [fmt(r.get(m), 0) if m == "factoid_chars" else fmt(r.get(m)) for m, _ in COLUMNS]
            rows.append(f"| {SPLIT_NOTES[split]} | {r['n']} | " + " | ".join(cells) + " |")
    if cv:
        cells = [fmt(cv.get(m), 0) if m == "factoid_chars" else fmt(cv.get(m)) for m, _ in COLUMNS]
        rows.append(f"| dev, {cv.get('folds', 5)}-fold cross-validation of the fit | {cv.get('n', '–')} | "
                    + " | ".join(cells) + " |")
    lines = rows + [""]
    for key, b in summary.get("baselines", {}).items():
        test = b["scores"].get("all", {})
        lines.append(f"- {b['label']}: hit@1 {fmt(test.get('hit@1'))}, hit@5 {fmt(test.get('hit@5'))} over all "
                     f"answerable questions (ours {fmt(summary['by_split']['all'].get('hit@1'))}).")
    return "\n".join(lines).rstrip() + "\n"


def refresh_readme(summary: dict, cv: dict | None = None, readme: Path = README) -> Path:
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} … {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{quality_block(summary, cv)}{END}{tail}", encoding="utf-8")
    return readme
