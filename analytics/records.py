"""What the question log keeps: one ``LoggedQuestion`` per answer and the ``Feedback`` a user gives it.

Rows are built in the request (cheap: no I/O) and written later by the log's writer thread.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from kb.model import Answer

RATINGS = ("up", "down")
# The reasons a 👎 offers, in the order the chat shows them.
REASONS = ("引用错误", "没答到", "不相关", "已过时", "其他")
REASON_ENGLISH = {"引用错误": "wrong citation", "没答到": "did not answer", "不相关": "irrelevant",
                  "已过时": "out of date", "其他": "other"}
INTERFACES = ("api", "chat", "v1", "mcp")
MAX_COMMENT_CHARS = 1000
_MARKER = re.compile(r"\[(\d+)\]")


def storable(text: str) -> str:
    """Text both SQLite and PostgreSQL accept: no NUL (PostgreSQL refuses it) and no lone surrogate."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def utc_now() -> datetime:
    """Naive UTC, the way the log stores every time (portable across SQLite and PostgreSQL)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class LoggedCitation:
    rank: int             # 1 = first citation of the answer
    clause_id: str
    doc_title: str
    label: str
    score: float
    cited: bool           # its [n] marker occurs in the answer text (not only listed as related)


@dataclass(frozen=True)
class LoggedQuestion:
    """One answer as the log keeps it: no IP address, no user identity."""

    id: str
    asked_at: datetime    # UTC
    day: str              # the server's local date (YYYY-MM-DD): what "questions per day" counts
    question: str
    interface: str
    mode: str
    refused: bool
    degraded: bool
    follow_up: bool
    latency_ms: float
    citations: tuple[LoggedCitation, ...] = field(default_factory=tuple)

    @classmethod
    def from_answer(cls, answer: Answer, interface: str, follow_up: bool = False) -> LoggedQuestion:
        used = {int(n) for n in _MARKER.findall(answer.text)}
        citations = tuple(
            LoggedCitation(rank, storable(c.clause.id), storable(c.clause.doc_title), storable(c.clause.label),
                           float(c.score), c.marker in used)
            for rank, c in enumerate(answer.citations, start=1))
        return cls(id=answer.id, asked_at=utc_now(), day=datetime.now().date().isoformat(),
                   question=storable(answer.question), interface=interface, mode=answer.mode,
                   refused=bool(answer.refused), degraded=bool(answer.degraded), follow_up=follow_up,
                   latency_ms=float(answer.latency_ms), citations=citations)


@dataclass(frozen=True)
class Feedback:
    """👍 or 👎 on one answer; a 👎 may say why. ``rating=None`` withdraws earlier feedback."""

    answer_id: str
    rating: str | None
    reason: str | None = None
    comment: str | None = None
    at: datetime = field(default_factory=utc_now)

    def __post_init__(self):
        if self.rating is not None and self.rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, not {self.rating!r}")
        if self.reason is not None and self.reason not in REASONS:
            raise ValueError(f"reason must be one of {REASONS}, not {self.reason!r}")
        if self.comment is not None:
            object.__setattr__(self, "comment", storable(self.comment)[:MAX_COMMENT_CHARS])
