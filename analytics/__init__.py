"""The question log and what officials learn from it: feedback, refused questions, citations.

    question_log = open_question_log(settings)     # None when KB_LOG_QUESTIONS=0
    question_log.record(answer, interface="api")    # in every interface that serves an answer
    summary(question_log.database, grouper)         # the admin view (analytics.report)

Storage is SQLAlchemy Core over SQLite (default, in the KB folder) or PostgreSQL (KB_ANALYTICS_URL);
it knows answers only as ``kb.model.Answer`` records and never touches the index.
"""
from __future__ import annotations

import logging

from analytics.database import Database, StoreUnavailable
from analytics.log import QuestionLog
from analytics.records import REASON_ENGLISH, REASONS, Feedback
from kb.settings import Settings

__all__ = [
    "REASONS",
    "REASON_ENGLISH",
    "Database",
    "Feedback",
    "QuestionLog",
    "StoreUnavailable",
    "open_question_log",
]
log = logging.getLogger("analytics")


def open_question_log(settings: Settings) -> QuestionLog | None:
    """The log the settings ask for, migrated now when the database is reachable; an unreachable one is
    reported and retried in the background (the app serves answers either way)."""
    if not settings.log_questions:
        return None
    database = Database(settings.analytics_database)
    try:
        database.ensure_schema()
    except StoreUnavailable as err:
        log.error("问题日志数据库暂不可用（%s），将在后台重试 / analytics database unavailable, retrying: %s",
                  database.location, err)
    return QuestionLog(database, buffer=settings.log_buffer, retention_days=settings.log_retention_days)
