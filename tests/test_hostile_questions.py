"""Hostile questions and histories, generated: ``KnowledgeBase.answer()`` and ``POST /api/ask`` never crash.

Whatever the text (control characters, RTL and zero-width marks, emoji, very long pastes, references
to clauses that cannot exist) and whatever the history (wrong roles, non-string content, missing keys,
huge lists), a caller gets a valid answer, or a 4xx whose message says in Chinese what to fix.
"""
from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.api import MAX_BODY_BYTES, api_router
from kb import Answer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Bounded so each property stays well under a minute on two busy cores; no example database in the repo.
BOUNDED = settings(max_examples=60, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CONTRACT = {"question", "answer", "refused", "citations", "latency_ms", "mode", "verified", "notices"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")

HOSTILE = ["\x00", "\x1b[31m", "\x1b]0;title\x07", "\x07", "\x0c", "\x7f", "\r\n", "\u0085", "\u2028",
           "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u202a", "\u202b", "\u202e",
           "\u2066", "\u2069", "\u3000", "\u00a0", "\U0001f600", "\u0301", "\ufffd", "\U000e0001", "\uffff"]
WORDS = ["第7条", "专栏5", "第二章第三节", "中小企业促进法第十条", "第一百一百一百一百条", "第99999999999999条",
         "专栏9999", "第零章", "融资", "小微企业贷款难", "那", "呢？", "Article 10 of the SME Promotion Law", "item 7",
         "规划", "%s{0}", "<script>alert(1)</script>", "' OR 1=1 --", "\\u0000"]
fragment = st.one_of(st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
                     st.sampled_from(HOSTILE), st.sampled_from(WORDS))
short_text = st.lists(fragment, max_size=12).map("".join)
long_text = st.builds(lambda piece, n: piece * n, fragment.filter(bool), st.integers(100, 2000))
# A 1000-character question costs the embedder ~100× a short one: long pastes have their own, smaller test.
question_text = short_text

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | short_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short_text, inner, max_size=3), max_leaves=6)
good_message = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": question_text})
message = st.one_of(
    good_message,
    st.fixed_dictionaries({"role": st.one_of(short_text, json_value), "content": st.one_of(short_text, json_value)}),
    st.dictionaries(st.sampled_from(["role", "content", "name", "text"]), json_value, max_size=3),
    json_value,
)
history = st.one_of(st.none(), st.lists(message, max_size=6),
                    st.builds(lambda m, n: [m] * n, message, st.integers(500, 5000)))


def assert_valid_answer(body: dict) -> None:
    """What every client may rely on: the contract fields, and [n] markers that point at citations."""
    assert CONTRACT <= body.keys(), body.keys()
    assert isinstance(body["answer"], str) and body["answer"].strip()
    assert isinstance(body["refused"], bool) and isinstance(body["question"], str)
    assert all(isinstance(n, str) for n in body["notices"])
    markers = {c["marker"] for c in body["citations"]}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])} <= markers or body["refused"]
    if not body["refused"]:
        assert body["citations"]


@given(question=question_text, history=st.one_of(st.none(), st.lists(message, max_size=6)))
@BOUNDED
def test_answer_never_crashes_on_hostile_text_or_history(kb, question, history):
    answer = kb.answer(question, history)
    assert isinstance(answer, Answer)
    body = answer.to_json()
    json.dumps(body, ensure_ascii=False).encode("utf-8")   # what the API sends must encode
    assert_valid_answer(body)


@given(question=long_text, history=st.builds(lambda m, n: [m] * n, message, st.integers(500, 5000)))
@example(question="小  " * 400, history=[])   # 1,200 characters, but 800 once spaces are collapsed: not cut
@settings(BOUNDED, max_examples=4)
def test_answer_survives_very_long_pastes_and_huge_histories(kb, question, history):
    body = kb.answer(question, history).to_json()
    assert_valid_answer(body)
    if len(re.sub(r"\s+", " ", question).strip()) > kb.settings.max_question_chars:   # runs of spaces count as one
        assert len(body["question"]) <= kb.settings.max_question_chars
        assert any("过长" in n for n in body["notices"])


@pytest.fixture(scope="module")
def client(kb):
    app = FastAPI()
    app.include_router(api_router(kb))   # the app's own /api routes, without the page
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _well_formed(body) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("question"), str) or not body["question"].strip():
        return False
    h = body.get("history")
    return h is None or (isinstance(h, list) and all(
        isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)
        for m in h))


def assert_api_reply(r, body) -> None:
    assert r.status_code in (200, 400, 413, 422), (r.status_code, r.text[:300])
    reply = r.json()
    if r.status_code == 200:
        assert_valid_answer(reply)
    else:
        assert CHINESE.search(reply["detail"]), reply
        size = len(json.dumps(body).encode())
        assert not _well_formed(body) or size > MAX_BODY_BYTES, f"a well-formed request was refused: {reply}"


@given(question=st.one_of(question_text, json_value), history=history,
       extra=st.dictionaries(short_text, json_value, max_size=2))
@BOUNDED
def test_api_answers_or_says_in_chinese_what_is_wrong(client, question, history, extra):
    body = {**extra, "question": question, "history": history}
    r = client.post("/api/ask", content=json.dumps(body), headers={"content-type": "application/json"})
    assert_api_reply(r, body)


@given(body=json_value)
@BOUNDED
def test_api_survives_any_json_body(client, body):
    r = client.post("/api/ask", content=json.dumps(body), headers={"content-type": "application/json"})
    assert_api_reply(r, body)


@given(raw=st.binary(max_size=300))
@settings(max_examples=60, deadline=None, database=None)
def test_api_survives_any_bytes(client, raw):
    r = client.post("/api/ask", content=raw, headers={"content-type": "application/json"})
    assert r.status_code < 500, r.text
    assert r.status_code == 200 or CHINESE.search(r.json()["detail"])


@pytest.mark.parametrize("raw, where", [
    (b'{"question": "\\ud800\\u878d\\u8d44"}', "question"),
    (b'{"question": "\\u878d\\u8d44", "history": [{"role": "user", "content": "a\\udc00"}]}', "history.0.content"),
])
def test_a_lone_surrogate_is_a_422_naming_the_field(client, raw, where):
    r = client.post("/api/ask", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith(where) and "代理项" in r.json()["detail"]


def test_deeply_nested_json_is_a_400_not_a_crash(client):
    r = client.post("/api/ask", content=b"[" * 100_000 + b"]" * 100_000)
    assert r.status_code == 400 and "嵌套过深" in r.json()["detail"]


def test_an_oversized_body_is_refused_with_413(client):
    body = {"question": "融资", "history": [{"role": "user", "content": "小微企业" * 1000}] * 200}
    r = client.post("/api/ask", content=json.dumps(body, ensure_ascii=False).encode())
    assert r.status_code == 413 and "过大" in r.json()["detail"]


def test_an_impossible_article_number_is_answered_not_crashed(kb):
    answer = kb.answer("中小企业促进法第" + "一百" * 200 + "条是什么？")
    assert answer.text and any("没有第20000条" in n for n in answer.notices), answer.notices
