"""``QuestionLog``: every answer is logged without ever waiting for the database.

``record()`` puts a row in a bounded in-memory queue and returns (microseconds); one writer thread
per process empties the queue in batches. When the database is down, read-only or full, the rows
stay queued (up to ``buffer`` of them; beyond that they are counted as dropped, never silently),
the failure is logged and shown by ``status()``, and writing resumes by itself when the database
is back. Inserts ignore an id already present, so a batch retried after an ambiguous commit is
still logged exactly once.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from analytics.database import Database, StoreUnavailable
from analytics.records import Feedback, LoggedQuestion, utc_now
from analytics.tables import citations, questions
from kb.model import Answer

log = logging.getLogger("analytics")
BATCH = 200                  # ops per transaction
PURGE_EVERY_S = 3600.0       # retention runs at start and then hourly
RETRY_S = (0.5, 1, 2, 5)     # waits between attempts while the database is unavailable
# Another app process may not have written an answer yet when its feedback arrives here.
UNKNOWN_RECHECK_S = (0.3, 0.7)


@dataclass
class _FeedbackOp:
    feedback: Feedback
    found: bool | None = None

    def __post_init__(self):
        self.done = threading.Event()


class QuestionLog:
    """One per app process::

        question_log = QuestionLog(Database(settings.analytics_database))
        question_log.record(answer, interface="api")                 # never raises, never waits
        question_log.feedback(Feedback(answer.id, "down", "没答到"))   # "stored" | "queued" | "unknown" | "full"
    """

    def __init__(self, database: Database, *, buffer: int = 10_000, retention_days: int | None = 365):
        self.database = database
        self.buffer, self.retention_days = buffer, retention_days
        self.written = self.dropped = 0
        self._ops: deque[LoggedQuestion | _FeedbackOp] = deque()
        self._pending_ids: set[str] = set()
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._error: str | None = None
        self._failing_since = None
        self._next_purge = 0.0
        self._thread = threading.Thread(target=self._run, name="question-log", daemon=True)
        self._thread.start()

    # -- the request side ---------------------------------------------------------------------
    def record(self, answer: Answer, interface: str, follow_up: bool = False) -> bool:
        """Queue one answer for the log; False when it could not be queued (and was counted as dropped)."""
        try:
            row = LoggedQuestion.from_answer(answer, interface, follow_up)
        except Exception:
            log.exception("问题日志：无法记录回答 %s", getattr(answer, "id", "?"))
            return False
        return self._enqueue(row)

    def feedback(self, feedback: Feedback, wait_s: float = 5.0) -> str:
        """Store 👍/👎 on a logged answer: "stored"; "queued" when the database is unavailable (written
        when it is back); "unknown" when no logged answer has this id; "full" when the queue is full."""
        for delay in (0.0, *UNKNOWN_RECHECK_S):
            time.sleep(delay)
            op = _FeedbackOp(feedback)
            if not self._enqueue(op):
                return "full"
            if self._error is not None or not op.done.wait(wait_s):
                return "queued"
            if op.found:
                return "stored"
        return "unknown"

    def _enqueue(self, op: LoggedQuestion | _FeedbackOp) -> bool:
        with self._cv:
            if len(self._ops) >= self.buffer:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.error("问题日志：内存队列已满（%d 条），已丢弃 %d 条记录 / question log queue full, %d rows "
                              "dropped", self.buffer, self.dropped, self.dropped)
                return False
            self._ops.append(op)
            if isinstance(op, LoggedQuestion):
                self._pending_ids.add(op.id)
            self._cv.notify_all()
        return True

    def is_pending(self, answer_id: str) -> bool:
        """The answer was logged here and is still waiting for the database."""
        with self._cv:
            return answer_id in self._pending_ids

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued row is written; False if that did not happen within ``timeout``."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._ops, timeout)

    def status(self) -> dict:
        with self._cv:
            pending = len(self._ops)
        return {"enabled": True, "ok": self._error is None, "backend": self.database.dialect,
                "database": self.database.location, "pending": pending, "written": self.written,
                "dropped": self.dropped, "error": self._error,
                "failing_since": self._failing_since.isoformat() + "Z" if self._failing_since else None,
                "notice": self.database.notice}

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (for up to ``timeout`` while the database works), then stop."""
        if self._error is None:
            self.flush(timeout)
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        self._thread.join(timeout=timeout)
        with self._cv:
            left = len(self._ops)
        if left:
            log.error("问题日志：关闭时仍有 %d 条记录未能写入（数据库不可用）/ %d rows not written at shutdown",
                      left, left)
        self.database.close()

    # -- the writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            with self._cv:
                self._cv.wait_for(lambda: self._ops or self._stop.is_set() or self._purge_due(),
                                  timeout=max(0.0, self._next_purge - time.monotonic()) or None)
                batch = list(islice(self._ops, BATCH))
            try:
                if batch:
                    self._write(batch)
                if self._purge_due():
                    self._purge()
            except StoreUnavailable as err:
                self._failed(str(err))
                self._stop.wait(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1
                continue
            except Exception as err:
                log.exception("问题日志写入出错")
                self._failed(f"{type(err).__name__}: {err}")
                self._stop.wait(RETRY_S[-1])
                continue
            failures = 0
            self._recovered()
            with self._cv:
                for op in batch:
                    self._ops.popleft()
                    if isinstance(op, LoggedQuestion):
                        self._pending_ids.discard(op.id)
                        self.written += 1
                self._cv.notify_all()
            for op in batch:
                if isinstance(op, _FeedbackOp):
                    op.done.set()

    def _write(self, batch: list) -> None:
        rows = [op for op in batch if isinstance(op, LoggedQuestion)]
        with self.database.writing() as conn:
            if rows:
                conn.execute(self._insert_ignoring_duplicates(questions), [_question_values(r) for r in rows])
                cited = [_citation_values(r.id, c) for r in rows for c in r.citations]
                if cited:
                    conn.execute(self._insert_ignoring_duplicates(citations), cited)
            for op in batch:
                if isinstance(op, _FeedbackOp):
                    f = op.feedback
                    result = conn.execute(update(questions).where(questions.c.id == f.answer_id).values(
                        rating=f.rating, reason=f.reason, comment=f.comment, feedback_at=f.at))
                    op.found = result.rowcount > 0
                    if not op.found:
                        log.info("问题日志：反馈所指的回答 %s 不存在", f.answer_id)

    def _insert_ignoring_duplicates(self, table):
        dialect = postgresql if self.database.dialect == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    def _purge_due(self) -> bool:
        return self.retention_days is not None and time.monotonic() >= self._next_purge

    def _purge(self) -> None:
        cutoff = utc_now() - timedelta(days=self.retention_days)
        old = select(questions.c.id).where(questions.c.asked_at < cutoff)
        with self.database.writing() as conn:
            conn.execute(delete(citations).where(citations.c.answer_id.in_(old)))
            gone = conn.execute(delete(questions).where(questions.c.asked_at < cutoff)).rowcount
        if gone:
            log.warning("问题日志：已删除 %d 条超过 %d 天的记录（KB_LOG_RETENTION_DAYS）", gone, self.retention_days)
        self._next_purge = time.monotonic() + PURGE_EVERY_S

    def _failed(self, message: str) -> None:
        if message != self._error:   # once per distinct failure, not at every retry
            with self._cv:
                pending = len(self._ops)
            log.error("问题日志数据库不可用，%d 条记录在内存中等待写入：%s / question log database unavailable",
                      pending, message)
        if self._failing_since is None:
            self._failing_since = utc_now()
        self._error = message

    def _recovered(self) -> None:
        if self._error is not None:
            log.warning("问题日志数据库已恢复，继续写入 / question log database is back")
        self._error, self._failing_since = None, None


def _question_values(r: LoggedQuestion) -> dict:
    return {"id": r.id, "asked_at": r.asked_at, "day": r.day, "question": r.question, "interface": r.interface,
            "mode": r.mode, "refused": r.refused, "degraded": r.degraded, "follow_up": r.follow_up,
            "latency_ms": r.latency_ms}


def _citation_values(answer_id: str, c) -> dict:
    return {"answer_id": answer_id, "rank": c.rank, "clause_id": c.clause_id, "doc_title": c.doc_title,
            "label": c.label, "score": c.score, "cited": c.cited}
