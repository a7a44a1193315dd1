"""The gold question set: ``GoldQuestion`` rows read from ``eval/gold.jsonl``.

    questions = load_gold()                    # every row, in file order
    dev = select_split(questions, "dev")
    q.answerable, q.documents                  # {"规划", "中小企业促进法"}
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

GOLD_PATH = Path(__file__).resolve().parent / "gold.jsonl"

QUESTION_TYPES = ("factoid", "numeric", "reference", "multi", "followup", "english", "unanswerable")
SPLITS = ("dev", "test")
# The structural fields a target may pin down; a citation must agree on every one the target gives.
TARGET_FIELDS = ("chapter", "section", "item", "box", "article")


class GoldFormatError(ValueError):
    """A row of the gold file that cannot be read at all (bad JSON, missing keys)."""


@dataclass(frozen=True)
class GoldQuestion:
    """One gold row. ``expect`` lists acceptable targets (any one counts; all are needed for ``multi``)."""

    id: str
    split: str
    type: str
    question: str
    expect: tuple[dict, ...] = ()
    facts: tuple[str, ...] = ()
    history: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"

    @property
    def documents(self) -> set[str]:
        """Short titles of every document a target names."""
        return {t["doc"] for t in self.expect}

    def to_json(self) -> dict:
        row = {"id": self.id, "split": self.split, "type": self.type, "question": self.question,
               "expect": list(self.expect), "facts": list(self.facts)}
        if self.history:
            row["history"] = list(self.history)
        return row


def parse_gold_row(row: dict, where: str = "") -> GoldQuestion:
    """A ``GoldQuestion`` from one decoded row; schema problems beyond missing keys are ``validate_gold``'s job."""
    missing = [k for k in ("id", "split", "type", "question") if k not in row]
    if missing:
        raise GoldFormatError(f"{where}: missing {', '.join(missing)}")
    return GoldQuestion(
        id=str(row["id"]), split=str(row["split"]), type=str(row["type"]), question=str(row["question"]),
        expect=tuple(dict(t) for t in row.get("expect") or ()),
        facts=tuple(str(f) for f in row.get("facts") or ()),
        history=tuple(dict(m) for m in row.get("history") or ()),
    )


def load_gold(path: Path = GOLD_PATH) -> list[GoldQuestion]:
    """Every row of the gold file in order; blank lines are skipped, a broken line raises."""
    questions = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise GoldFormatError(f"{path.name}:{n}: {err}") from err
        if not isinstance(row, dict):
            raise GoldFormatError(f"{path.name}:{n}: a row must be a JSON object")
        questions.append(parse_gold_row(row, f"{path.name}:{n}"))
    return questions


def select_split(questions: list[GoldQuestion], split: str) -> list[GoldQuestion]:
    """``dev``, ``test`` or ``all``."""
    if split == "all":
        return list(questions)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use dev, test or all")
    return [q for q in questions if q.split == split]
