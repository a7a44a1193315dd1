"""The question log's database: SQLite in the KB folder (WAL) or PostgreSQL, behind one small class.

Every way a database can fail (server stopped, file deleted, read-only, disk full, locked) comes
out of ``writing()`` / ``reading()`` as ``StoreUnavailable`` with a readable message, and the next
call tries again from scratch: a lost PostgreSQL connection is replaced (pre-ping), and a SQLite
file that was deleted is created again, migrated, and written to.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from analytics.migrations import SchemaTooNew, migrate

log = logging.getLogger("analytics")
_WRITE = "plankb_write"   # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or written right now; the message says why, for a person."""


def engine_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 (SQLAlchemy's bare default is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"KB_ANALYTICS_URL 只支持 sqlite:/// 或 postgresql:// / only sqlite:/// and "
                         f"postgresql:// are supported, not {parsed.drivername}://")
    return parsed.render_as_string(hide_password=False)


def explain(err: BaseException) -> str:
    """The driver's own first line (「attempt to write a readonly database」, 「connection refused」),
    without SQLAlchemy's statement dump."""
    orig = getattr(err, "orig", None) or err
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"{type(orig).__name__}: {text}"[:300]


class Database:
    """``Database("sqlite:///kb/analytics.sqlite")``; ``with db.writing() as conn: conn.execute(...)``."""

    def __init__(self, url: str):
        self.url = engine_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self.location = parsed.render_as_string(hide_password=True)
        self.path = Path(parsed.database) if self.dialect == "sqlite" and parsed.database else None
        self.notice: str | None = None    # something worth telling an operator that is not a failure
        self._migrated_for: object = None  # what the schema was last checked on (SQLite: the file's identity)
        self._had_file = False             # this process has seen the SQLite file (so a missing one was deleted)
        # The writer thread and admin reads may find a deleted file at once: one of them recreates it.
        self._schema_lock = threading.Lock()
        if self.dialect == "sqlite":
            if self.path is None:
                raise ValueError("KB_ANALYTICS_URL: SQLite needs a file, e.g. sqlite:////srv/kb/analytics.sqlite")
            # A fresh connection per transaction: a deleted file or a changed permission is noticed at once,
            # instead of writing on into an unlinked inode through a pooled connection.
            self.engine = create_engine(self.url, poolclass=NullPool)
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(
                self.url, pool_pre_ping=True, pool_size=4, max_overflow=4, pool_timeout=5,
                connect_args={"connect_timeout": 5, "options": "-c statement_timeout=10000"})

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction on a migrated database, committed on leaving the block."""
        with self._guard():
            self._ensure_schema()
            before = self._identity()
            with self.engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    yield conn
            if self.path is not None and self._identity() != before:
                # The file was deleted or replaced while we wrote: the rows went with it; write them again.
                self._migrated_for = None
                raise StoreUnavailable(f"数据库文件 {self.path} 在写入时被删除或替换 / the database file was "
                                       "deleted or replaced during the write")

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self._guard():
            self._ensure_schema()
            with self.engine.connect() as conn, conn.begin():
                yield conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except StoreUnavailable:
            raise
        except (SQLAlchemyError, OSError, SchemaTooNew) as err:
            self._migrated_for = None   # check the schema again next time (the file or server may be new)
            raise StoreUnavailable(explain(err)) from err

    # -- schema -----------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Run the migrations now (at start); ``StoreUnavailable`` if the database cannot be reached."""
        with self._guard():
            self._ensure_schema()

    def _ensure_schema(self) -> None:
        with self._schema_lock:
            self._migrate_if_needed()

    def _migrate_if_needed(self) -> None:
        current = self._identity()
        if current is not None and current == self._migrated_for:
            return
        if self.path is not None and current is None:
            self._prepare_new_file()
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                applied = migrate(conn)
        if applied:
            log.info("问题日志数据库 %s：已执行迁移 %s", self.location, applied)
        self._migrated_for = self._identity()
        self._had_file = True

    def _identity(self) -> object:
        """SQLite: the file's (device, inode), None when it is missing; PostgreSQL: a constant."""
        if self.path is None:
            return "server"
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def _prepare_new_file(self) -> None:
        """The file is missing: at first start, or deleted under a running app. Journal files left by the
        deleted database would be replayed into the new one, so they go first."""
        if self._had_file:
            self.notice = (f"数据库文件 {self.path} 在运行中被删除，已重新建立；此前写入的记录不在新文件中 / the database "
                           "file was deleted while the app ran and has been created again; earlier rows are gone")
            log.warning(self.notice)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_connect(dbapi_conn, _record) -> None:
    # SQLAlchemy's recipe for real SQLite transactions: the driver stops issuing its own BEGIN,
    # and _sqlite_begin says which kind. WAL lets readers and one writer (of any process) work at once.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 10000")   # other processes' writes: wait, do not fail
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")   # durable across an app crash; fsync at checkpoints
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the write lock up front, so two processes never deadlock upgrading a read lock.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")
