"""The question log's tables as the code reads and writes them (SQLAlchemy Core, any dialect).

They are created and changed only by ``analytics.migrations``; a test checks that a migrated
database has exactly these columns, so the two cannot drift apart.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, Table, Text

metadata = MetaData()

# One row per answer served. Text everywhere (no VARCHAR limits): a row must never be refused.
questions = Table(
    "questions", metadata,
    Column("id", Text, primary_key=True),             # Answer.id
    Column("asked_at", DateTime, nullable=False),     # UTC
    Column("day", Text, nullable=False),              # server-local date, YYYY-MM-DD
    Column("question", Text, nullable=False),
    Column("interface", Text, nullable=False),        # api | chat | v1 | mcp
    Column("mode", Text, nullable=False),             # extractive | llm
    Column("refused", Boolean, nullable=False),
    Column("degraded", Boolean, nullable=False),
    Column("follow_up", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("rating", Text),                           # up | down | NULL
    Column("reason", Text),                           # one of records.REASONS, 👎 only
    Column("comment", Text),
    Column("feedback_at", DateTime),
)

# The citations of each answer, best first.
citations = Table(
    "citations", metadata,
    Column("answer_id", Text, primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("clause_id", Text, nullable=False),
    Column("doc_title", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("cited", Boolean, nullable=False),
)

# Which migrations a database has had (analytics.migrations).
schema_versions = Table(
    "schema_versions", metadata,
    Column("version", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("applied_at", DateTime, nullable=False),
)
