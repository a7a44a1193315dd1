"""The gold question set: ``GoldQuestion`` rows read from ``eval/gold.jsonl``.

    questions = load_gold()                    # every row, in file order
    dev = select_split(questions, "dev")        # tune here; "test" is locked (see GOLD.md)
    q.answerable, q.documents                  # {"规划", "中小企业促进法"}
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

GOLD_PATH = Path(__file__).resolve().parent / "gold.jsonl"

QUESTION_TYPES = ("factoid", "numeric", "reference", "multi", "followup", "english", "unanswerable")
# dev: tuned on. test: the locked split, written before the code it judges and checked against the
# sha256 in GOLD.md. test-v2, test-v1: former test splits, read during earlier tuning, reported for history.
SPLITS = ("dev", "test", "test-v2", "test-v1")
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
    absent: tuple[str, ...] = ()   # near-miss unanswerables: what is asked that no document holds

    @property
    def near_miss(self) -> bool:
        """In-domain words, but the thing asked is in no document (as opposed to off-topic)."""
        return bool(self.absent)

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
        if self.absent:
            row["absent"] = list(self.absent)
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
        absent=tuple(str(a) for a in row.get("absent") or ()),
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
    """``dev``, ``test``, ``test-v2``, ``test-v1`` or ``all``."""
    if split == "all":
        return list(questions)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use {', '.join(SPLITS)} or all")
    return [q for q in questions if q.split == split]


def split_sha256(split: str = "test", path: Path = GOLD_PATH) -> str:
    """sha256 of the split's lines of the gold file, exactly as stored, in file order (each ending
    in a newline): the fingerprint GOLD.md records for the locked test split."""
    digest = hashlib.sha256()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and json.loads(line).get("split") == split:
            digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()
