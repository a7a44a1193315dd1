"""Answer ids, POST /api/feedback and the admin endpoints of the running app (real KB, SQLite log)."""
from __future__ import annotations

import json
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.server import BackgroundServer, create_app
from eval.gold import parse_gold_row
from kb import KnowledgeBase, Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
KEY = "admin-key-for-tests"
ANSWERABLE, UNANSWERABLE = "我想开个小公司，办执照要多久？", "明天青岛天气怎么样？"


@pytest.fixture(scope="module")
def settings(tmp_path_factory, embed_cache) -> Settings:
    s = Settings(dir=tmp_path_factory.mktemp("kb"), sources=[ROOT / "source_docs"], embed_cache=embed_cache)
    KnowledgeBase.open(s, progress=False)   # built once; every app below reads the same folder
    return s


@contextmanager
def serve(settings: Settings, tmp_path: Path, **changes):
    """The app over the module's KB with its own question log file (and any other settings changed)."""
    changes.setdefault("analytics_url", f"sqlite:///{tmp_path / 'analytics.sqlite'}")
    kb = KnowledgeBase(settings.model_copy(update=changes))
    with BackgroundServer(create_app(kb)) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


@pytest.fixture
def api(settings, tmp_path):
    with serve(settings, tmp_path, admin_keys=f"other-key, {KEY}") as client:
        yield client


ADMIN = {"Authorization": f"Bearer {KEY}"}


def ask(api, question: str) -> dict:
    r = api.post("/api/ask", json={"question": question})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_outside_check(api):
    """What the acceptance check does: two questions, a 👎 with 没答到, the summary with and without the key."""
    first, second = ask(api, ANSWERABLE), ask(api, UNANSWERABLE)
    assert first["id"] and second["id"] and first["id"] != second["id"]
    assert not first["refused"] and second["refused"]
    r = api.post("/api/feedback", json={"answer_id": first["id"], "rating": "down", "reason": "没答到"})
    assert r.status_code == 200 and r.json()["stored"] is True
    assert api.get("/api/admin/summary").status_code == 401
    data = api.get("/api/admin/summary", headers=ADMIN).json()
    assert data["questions"] >= 2 and data["refused"] >= 1 and data["feedback"]["down"] >= 1
    assert {"question": UNANSWERABLE, "count": 1, "variants": []} in data["refused_questions"]
    assert any(g["question"] == ANSWERABLE for g in data["top_questions"])


def test_each_answer_is_logged_under_the_id_the_caller_got(api, tmp_path):
    ids = [ask(api, q)["id"] for q in (ANSWERABLE, ANSWERABLE, "专栏5讲什么？")]
    assert len(set(ids)) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    api.get("/api/admin/summary", headers=ADMIN)   # flushes the queue
    with sqlite3.connect(tmp_path / "analytics.sqlite") as db:
        logged = dict(db.execute("SELECT id, question FROM questions").fetchall())
    assert logged == {ids[0]: ANSWERABLE, ids[1]: ANSWERABLE, ids[2]: "专栏5讲什么？"}


@pytest.mark.parametrize("body, status, words", [
    ("{oops", 400, ["JSON"]),
    ("[1, 2]", 422, ["JSON 对象", "object"]),
    ('{"rating": "down"}', 422, ["answer_id", "缺少", "required"]),
    ('{"answer_id": "", "rating": "down"}', 422, ["answer_id"]),
    ('{"answer_id": 42, "rating": "down"}', 422, ["answer_id", "字符串", "string"]),
    ('{"answer_id": "abc"}', 422, ["rating", "缺少"]),
    ('{"answer_id": "abc", "rating": "bad"}', 422, ["rating", "'up' 或 'down'", "must be 'up' or 'down'"]),
    ('{"answer_id": "abc", "rating": "down", "reason": "太慢"}', 422, ["reason", "没答到"]),
    ('{"answer_id": "abc", "rating": "up", "reason": "没答到"}', 422, ["reason", "down"]),
    ('{"answer_id": "abc", "rating": "down", "comment": 5}', 422, ["comment", "字符串"]),
    ('{"answer_id": "abc", "rating": "down", "comment": "' + "长" * 1001 + '"}', 422, ["comment"]),
])
def test_malformed_feedback_gets_a_4xx_naming_the_field(api, body, status, words):
    r = api.post("/api/feedback", content=body.encode("utf-8"), headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert all(w in detail for w in words), detail


def test_feedback_on_an_unknown_answer_is_404_and_changes_nothing(api):
    r = api.post("/api/feedback", json={"answer_id": "f" * 32, "rating": "down", "reason": "不相关"})
    assert r.status_code == 404 and "answer_id" in r.json()["detail"]
    assert api.get("/api/admin/summary", headers=ADMIN).json()["feedback"]["down"] == 0


def test_admin_routes_want_a_bearer_admin_key(api):
    for path in ("/api/admin/summary", "/api/admin/export"):
        assert api.get(path).status_code == 401
        assert api.get(path).headers["www-authenticate"] == "Bearer"
        assert api.get(path, headers={"Authorization": f"Basic {KEY}"}).status_code == 401
        wrong = api.get(path, headers={"Authorization": "Bearer guessed"})
        assert wrong.status_code == 403 and "密钥不正确" in wrong.json()["detail"]
        assert api.get(path, headers={"Authorization": "Bearer other-key"}).status_code == 200


def test_export_returns_the_selected_questions_as_gold_rows(api):
    ask(api, ANSWERABLE)
    ask(api, UNANSWERABLE)
    ask(api, UNANSWERABLE)
    r = api.get("/api/admin/export", params=[("question", UNANSWERABLE)], headers=ADMIN)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in r.headers["content-disposition"]
    [row] = [json.loads(line) for line in r.text.splitlines()]
    q = parse_gold_row(row)
    assert (q.question, q.type, q.expect, row["review"]["asked"]) == (UNANSWERABLE, "unanswerable", (), 2)
    everything = api.get("/api/admin/export", headers=ADMIN).text.splitlines()
    assert len(everything) == 2
    bad = api.get("/api/admin/export", params={"days": "-3"}, headers=ADMIN)
    assert bad.status_code == 422 and "days" in bad.json()["detail"]


def test_health_reports_the_question_log(api):
    log = api.get("/api/health").json()["question_log"]
    assert log["enabled"] and log["ok"] and log["backend"] == "sqlite" and log["error"] is None


def test_with_logging_off_nothing_is_written_and_feedback_says_why(settings, tmp_path):
    with serve(settings, tmp_path, log_questions=False, admin_keys=KEY) as api:
        answer = ask(api, ANSWERABLE)
        assert answer["id"]   # answers keep their id either way
        r = api.post("/api/feedback", json={"answer_id": answer["id"], "rating": "up"})
        assert r.status_code == 404 and "KB_LOG_QUESTIONS=0" in r.json()["detail"]
        assert api.get("/api/health").json()["question_log"] == {"enabled": False}
        assert api.get("/api/admin/summary", headers=ADMIN).status_code == 404
    assert not (tmp_path / "analytics.sqlite").exists()


def test_without_admin_keys_there_is_no_admin_tab_and_no_admin_route(settings, tmp_path):
    with serve(settings, tmp_path) as api:
        r = api.get("/api/admin/summary", headers=ADMIN)
        assert r.status_code == 404 and "KB_ADMIN_KEYS" in r.json()["detail"]
        assert "tab-admin" not in api.get("/config").text
    with serve(settings, tmp_path, admin_keys=KEY) as api:
        assert "tab-admin" in api.get("/config").text


def test_with_a_login_feedback_needs_it_and_admin_routes_still_take_the_key(settings, tmp_path):
    with serve(settings, tmp_path, auth="ann:s3cret", admin_keys=KEY) as api:
        answer = api.post("/api/ask", json={"question": ANSWERABLE}, auth=("ann", "s3cret")).json()
        body = {"answer_id": answer["id"], "rating": "up"}
        assert api.post("/api/feedback", json=body).status_code == 401
        assert api.post("/api/feedback", json=body, auth=("ann", "s3cret")).status_code == 200
        assert api.get("/api/admin/summary", headers=ADMIN).json()["feedback"]["up"] == 1
