"""The JSON API of the running app, against a real knowledge base built from source_docs/."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest

from app.server import BackgroundServer, create_app
from ingest.model import CLAUSE_JSON_FIELDS
from kb import KnowledgeBase, Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    # One embedding cache per test session, so the browser test's second index re-embeds nothing.
    cache = tmp_path_factory.getbasetemp() / "embeddings.sqlite"
    return Settings(dir=tmp_path_factory.mktemp("kb"), sources=[ROOT / "source_docs"], embed_cache=cache)


@pytest.fixture(scope="module")
def kb(settings) -> KnowledgeBase:
    return KnowledgeBase.open(settings, progress=False)


@pytest.fixture(scope="module")
def api(kb):
    with BackgroundServer(create_app(kb)) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


# -- POST /api/ask ----------------------------------------------------------------------------
def test_ask_returns_the_cli_json_with_a_cited_answer(api, kb):
    question = "我想开个小公司，办执照要多久？"
    r = api.post("/api/ask", json={"question": question})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = kb.answer(question).to_json()
    assert body.keys() == expected.keys()
    assert {k: v for k, v in body.items() if k not in ("latency_ms", "id")} == \
        {k: v for k, v in expected.items() if k not in ("latency_ms", "id")}
    assert body["id"] != expected["id"]   # every answer has its own id
    assert not body["refused"] and "0.5个工作日" in body["answer"]
    assert any(c["id"] == "plan/ch3/s1/item1" for c in body["citations"])


def test_ask_accepts_history_and_null_history(api):
    first = api.post("/api/ask", json={"question": "第7条讲了什么？", "history": None})
    assert first.status_code == 200, first.text
    history = [{"role": "user", "content": "第7条讲了什么？"},
               {"role": "assistant", "content": first.json()["answer"]}]
    r = api.post("/api/ask", json={"question": "那第8条呢？", "history": history})
    assert r.status_code == 200, r.text
    assert r.json()["citations"], r.json()


def test_an_overlong_question_is_cut_with_a_notice(api):
    r = api.post("/api/ask", json={"question": "小微企业融资" * 4000})
    assert r.status_code == 200, r.text
    assert any("过长" in n for n in r.json()["notices"])


@pytest.mark.parametrize("body, status, words", [
    ("{not json", 400, ["JSON"]),
    ("", 400, ["JSON"]),
    ('["question"]', 422, ["JSON 对象", "object"]),
    ("{}", 422, ["question", "缺少", "required"]),
    ('{"question": 123}', 422, ["question", "字符串", "string"]),
    ('{"question": "  "}', 422, ["question", "不能为空", "empty"]),
    ('{"question": "融资", "history": "earlier"}', 422, ["history", "数组", "array"]),
    ('{"question": "融资", "history": [{"role": "system", "content": "x"}]}', 422, ["history.0.role", "user"]),
    ('{"question": "融资", "history": [{"role": "user"}]}', 422, ["history.0.content", "缺少"]),
])
def test_bad_requests_get_a_4xx_that_says_what_is_wrong(api, body, status, words):
    r = api.post("/api/ask", content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    for word in words:
        assert word in detail, detail


# -- GET /api/clause --------------------------------------------------------------------------
def test_clause_by_reference_returns_the_ingest_fields(api):
    r = api.get("/api/clause", params={"ref": "专栏5"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert tuple(body) == CLAUSE_JSON_FIELDS
    assert body["box"] == 5 and "专栏5" in body["label"] and body["text"]


def test_clause_by_id(api):
    r = api.get("/api/clause", params={"ref": "plan/ch3/s1/item7"})
    assert r.status_code == 200 and r.json()["item"] == 7


def test_unknown_clause_is_404_naming_what_exists(api):
    r = api.get("/api/clause", params={"ref": "第50条"})
    assert r.status_code == 404
    detail = r.json()["detail"]
    assert "第50条" in detail and "44" in detail   # the plan has 44 items
    r = api.get("/api/clause", params={"ref": "火星移民"})
    assert r.status_code == 404 and "规划" in r.json()["detail"] and "专栏5" in r.json()["detail"]


def test_clause_without_ref_is_422(api):
    r = api.get("/api/clause")
    assert r.status_code == 422 and "ref" in r.json()["detail"]


# -- health and Gradio's own API --------------------------------------------------------------
def test_health_reports_the_index(api):
    r = api.get("/api/health")
    assert r.status_code == 200
    assert r.json()["ok"] is True and r.json()["clauses"] > 40


def test_gradio_client_api_still_answers(api):
    from gradio_client import Client

    client = Client(str(api.base_url), verbose=False)
    chat_html, sources, _banner = client.predict("第7条", api_name="/chat")
    assert "完善融资机制" in sources and chat_html


def test_a_lost_vector_store_answers_by_keywords_and_health_says_503(settings, kb):
    """The Chroma server unreachable from the start: the generation in the KB folder still answers,
    from BM25 alone and flagged, and /api/health says why with a 503."""
    dead = settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{closed_port()}"})
    with BackgroundServer(create_app(KnowledgeBase(dead))) as url:
        health = httpx.get(f"{url}/api/health", timeout=60)
        ask = httpx.post(f"{url}/api/ask", json={"question": "小微企业融资"}, timeout=60)
    assert health.status_code == 503 and health.json()["ok"] is False and health.json()["degraded"] is True
    assert "语义检索暂不可用" in health.json()["error"]
    assert ask.status_code == 200 and ask.json()["degraded"] and ask.json()["citations"]
    assert any("向量数据库暂不可用" in n for n in ask.json()["notices"]) and "Traceback" not in ask.text


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_auth_guards_the_api_but_not_health(settings, kb):
    locked = KnowledgeBase(settings.model_copy(update={"auth": "ann:s3cret"}))
    with BackgroundServer(create_app(locked)) as url:
        anonymous = httpx.get(f"{url}/api/clause", params={"ref": "专栏5"})
        wrong = httpx.get(f"{url}/api/clause", params={"ref": "专栏5"}, auth=("ann", "nope"))
        ok = httpx.get(f"{url}/api/clause", params={"ref": "专栏5"}, auth=("ann", "s3cret"))
        health = httpx.get(f"{url}/api/health")
        page_config = httpx.get(f"{url}/config")
    assert anonymous.status_code == wrong.status_code == 401
    assert ok.status_code == 200 and health.status_code == 200
    assert page_config.status_code == 401   # Gradio's own login guards the page
