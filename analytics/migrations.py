"""Versioned schema migrations, run at start: ``schema_versions`` lists what a database has had.

Each migration is a function of a connection inside the migrating transaction, and keeps its own
copy of the tables as they were at that version: ``analytics.tables`` may change later, a
migration never does. Several processes starting at once are serialised (PostgreSQL: an advisory
lock; SQLite: the write lock of ``BEGIN IMMEDIATE``), so each migration runs exactly once.

To change the schema: append ``(N + 1, "what changes", function)`` to ``MIGRATIONS`` and change
``analytics.tables`` to match (tests/test_analytics_store.py checks that they agree).
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
)

from analytics.records import utc_now
from analytics.tables import schema_versions

# Any constant: PostgreSQL advisory locks are named by a 64-bit integer.
_PG_LOCK = 0x706C616E6B62   # "plankb"


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer plan-kb than this one."""


def _v1_questions_and_citations(conn: Connection) -> None:
    m = MetaData()
    q = Table("questions", m,
              Column("id", Text, primary_key=True), Column("asked_at", DateTime, nullable=False),
              Column("day", Text, nullable=False), Column("question", Text, nullable=False),
              Column("interface", Text, nullable=False), Column("mode", Text, nullable=False),
              Column("refused", Boolean, nullable=False), Column("degraded", Boolean, nullable=False),
              Column("follow_up", Boolean, nullable=False), Column("latency_ms", Float, nullable=False),
              Column("rating", Text), Column("reason", Text), Column("comment", Text),
              Column("feedback_at", DateTime))
    c = Table("citations", m,
              Column("answer_id", Text, primary_key=True), Column("rank", Integer, primary_key=True),
              Column("clause_id", Text, nullable=False), Column("doc_title", Text, nullable=False),
              Column("label", Text, nullable=False), Column("score", Float, nullable=False),
              Column("cited", Boolean, nullable=False))
    Index("questions_asked_at", q.c.asked_at)   # retention purge, time windows
    Index("questions_day", q.c.day)             # questions per day
    Index("citations_clause", c.c.clause_id)    # citation frequency
    m.create_all(conn)


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "questions and citations", _v1_questions_and_citations),
]
LATEST = MIGRATIONS[-1][0]


def migrate(conn: Connection) -> list[int]:
    """Apply the migrations ``conn``'s database has not had; returns their versions (oldest first).

    ``conn`` must be inside a transaction that takes the write lock (see ``Database.writing``).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_PG_LOCK)))
    schema_versions.create(conn, checkfirst=True)
    applied = set(conn.execute(select(schema_versions.c.version)).scalars())
    if applied and max(applied) > LATEST:
        raise SchemaTooNew(f"问题日志数据库的结构版本 {max(applied)} 比本程序支持的 {LATEST} 新，请升级 plan-kb / "
                           f"the analytics database has schema version {max(applied)}, this plan-kb knows up to "
                           f"{LATEST}: upgrade plan-kb")
    done = []
    for version, name, step in MIGRATIONS:
        if version not in applied:
            step(conn)
            conn.execute(insert(schema_versions).values(version=version, name=name, applied_at=utc_now()))
            done.append(version)
    return done
