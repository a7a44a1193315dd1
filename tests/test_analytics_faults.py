"""A question log database that goes away under a running app: answers keep coming, /api/health says so,
and the rows asked meanwhile are written once the database is back."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, allowed_skip
from sqlalchemy import select

from analytics import Database, QuestionLog
from analytics.tables import questions
from app.server import BackgroundServer, create_app
from kb import KnowledgeBase, Settings
from kb.model import Answer

pytestmark = [pytest.mark.integration, pytest.mark.slow]
QUESTIONS = ["小微企业贷款难，有什么支持？", "政府采购给中小企业预留多少份额？", "明天青岛天气怎么样？",
             "专栏5讲什么？"]


@pytest.fixture(scope="module")
def settings(tmp_path_factory, embed_cache) -> Settings:
    s = Settings(dir=tmp_path_factory.mktemp("kb"), sources=[ROOT / "source_docs"], embed_cache=embed_cache)
    KnowledgeBase.open(s, progress=False)
    return s


@contextmanager
def serve(settings: Settings, analytics_url: str):
    kb = KnowledgeBase(settings.model_copy(update={"analytics_url": analytics_url, "admin_keys": "k"}))
    with BackgroundServer(create_app(kb)) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def ask(api, question: str) -> str:
    r = api.post("/api/ask", json={"question": question})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def log_health(api) -> dict:
    return api.get("/api/health").json()["question_log"]


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for: {what}")
        time.sleep(0.2)


def logged_ids(url: str) -> set[str]:
    db = Database(url)
    try:
        with db.reading() as conn:
            return set(conn.execute(select(questions.c.id)).scalars())
    finally:
        db.close()


def test_a_deleted_sqlite_file_is_created_again_and_logging_goes_on(settings, tmp_path):
    path = tmp_path / "analytics.sqlite"
    url = f"sqlite:///{path}"
    with serve(settings, url) as api:
        before = ask(api, QUESTIONS[0])
        wait_until(lambda: log_health(api)["pending"] == 0, "the first row written")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        after = [ask(api, q) for q in QUESTIONS[1:]]
        wait_until(lambda: log_health(api)["pending"] == 0, "rows written to the new file")
        health = log_health(api)
        assert health["ok"] and "被删除" in health["notice"] and "deleted" in health["notice"]
        assert logged_ids(url) == set(after)   # the new file holds everything asked since; `before` went with the old
        assert before not in logged_ids(url)


@contextmanager
def read_only(path: Path):
    """The file made read-only for the app; as root that takes the immutable flag (root ignores modes)."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode:
        allowed_skip(f"cannot make {path} read-only for root here (chattr +i unsupported on this file system)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_sqlite_file_holds_rows_in_memory_until_it_is_writable(settings, tmp_path):
    path = tmp_path / "analytics.sqlite"
    url = f"sqlite:///{path}"
    with serve(settings, url) as api:
        first = ask(api, QUESTIONS[0])
        wait_until(lambda: log_health(api)["pending"] == 0, "the first row written")
        with read_only(path):
            meanwhile = [ask(api, q) for q in QUESTIONS[1:]]   # answered while nothing can be written
            wait_until(lambda: not log_health(api)["ok"], "health reporting the failure")
            health = log_health(api)
            assert "readonly" in health["error"] and health["pending"] >= 1 and health["failing_since"]
            readable = api.get("/api/admin/summary", headers={"Authorization": "Bearer k"})
            assert readable.status_code == 200 and readable.json()["questions"] == 1   # what was written still shows
        wait_until(lambda: log_health(api)["ok"] and log_health(api)["pending"] == 0, "logging resumed")
        assert logged_ids(url) == {first, *meanwhile}


def test_a_stopped_postgresql_loses_no_row_and_logging_resumes(settings, tmp_path):
    from postgres_proc import PostgresServer, postgres_bindir

    if postgres_bindir() is None:
        pytest.skip("PostgreSQL is not installed: apt-get install -y postgresql")
    server = PostgresServer(tmp_path / "pg")   # its own server: this test stops it
    url = server.start()
    try:
        with serve(settings, url) as api:
            first = ask(api, QUESTIONS[0])
            wait_until(lambda: log_health(api)["pending"] == 0, "the first row written")
            server.stop()
            meanwhile = [ask(api, q) for q in QUESTIONS[1:]]
            feedback = api.post("/api/feedback", json={"answer_id": meanwhile[0], "rating": "down", "reason": "没答到"})
            assert feedback.status_code == 202 and feedback.json()["stored"] is False
            wait_until(lambda: not log_health(api)["ok"], "health reporting the failure")
            health = log_health(api)
            assert health["backend"] == "postgresql" and health["pending"] >= len(meanwhile) and health["error"]
            summary = api.get("/api/admin/summary", headers={"Authorization": "Bearer k"})
            assert summary.status_code == 503 and "不可用" in summary.json()["detail"]
            server.start()
            wait_until(lambda: log_health(api)["ok"] and log_health(api)["pending"] == 0, "logging resumed")
            data = api.get("/api/admin/summary", headers={"Authorization": "Bearer k"}).json()
        assert logged_ids(url) == {first, *meanwhile}
        assert data["questions"] == len(QUESTIONS) and data["feedback"]["reasons"]["没答到"] == 1
    finally:
        server.stop()


def test_rows_beyond_the_buffer_are_counted_as_dropped_never_silently(tmp_path):
    log = QuestionLog(Database("sqlite:////proc/no-such-folder/analytics.sqlite"), buffer=3)   # cannot be created
    for n in range(5):
        log.record(Answer(f"第{n}问", "…", False, []), "api")
    wait_until(lambda: log.status()["error"] is not None, "the failure noticed")
    status = log.status()
    assert (status["ok"], status["pending"], status["dropped"]) == (False, 3, 2)
    log.close(timeout=1)
