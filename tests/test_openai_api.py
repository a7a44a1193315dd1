"""/v1 driven by the real ``openai`` package, as Open WebUI, Cherry Studio or Dify would drive it,
against the running app with keys on; plus keys, login and rate limit over HTTP."""
from __future__ import annotations

import httpx
import openai
import pytest
from fake_llm import Reply, serve_fake_llm

from app.server import BackgroundServer, create_app
from app.source_list import SOURCES
from kb import REFUSAL, KnowledgeBase

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "sk-plankb-test-1"
QUESTION = "政府采购要给中小企业预留多大比例？"
FOLLOW_UP = "其中小微企业的比例呢？"


@pytest.fixture(scope="module")
def url(kb):
    """The app as deployed with keys: KB_API_KEYS holds two keys."""
    keyed = KnowledgeBase(kb.settings.model_copy(update={"api_keys": f"{KEY},sk-plankb-test-2"}))
    with BackgroundServer(create_app(keyed)) as url:
        yield url


@pytest.fixture(scope="module")
def client(url) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)


@pytest.fixture(scope="module")
def model(client) -> str:
    return client.models.list().data[0].id


def test_the_model_list_names_the_extractive_model(client):
    models = client.models.list().data
    assert [m.id for m in models] == ["plan-kb-extractive"] and models[0].owned_by == "plan-kb"
    assert client.models.retrieve("plan-kb-extractive").id == "plan-kb-extractive"


def test_an_answer_has_markers_a_source_list_and_structured_citations(client, model, kb):
    completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
    content = completion.choices[0].message.content
    expected = kb.answer(QUESTION)
    assert content.startswith(expected.text) and "30%" in content and "[1]" in content
    assert SOURCES in content
    for c in expected.citations:   # every cited clause is listed under its marker, by its label
        if f"[{c.marker}]" in expected.text:
            assert f"- [{c.marker}] {c.clause.label}" in content
    assert completion.refused is False and completion.choices[0].finish_reason == "stop"
    assert [c["id"] for c in completion.citations] == [c.clause.id for c in expected.citations]
    first = completion.citations[0]
    assert first["marker"] == 1 and first["label"] and first["text"] and first["supporting"]
    assert completion.mode == "extractive" and completion.model == model


def test_an_answer_has_an_id_that_feedback_takes(client, model, url):
    completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
    assert completion.id == f"chatcmpl-{completion.answer_id}"
    r = httpx.post(f"{url}/api/feedback", headers={"Authorization": f"Bearer {KEY}"}, timeout=30,
                   json={"answer_id": completion.answer_id, "rating": "down", "reason": "没答到"})
    assert r.status_code == 200, r.text


def test_a_stream_sends_the_same_answer_in_chunks_and_the_data_last(client, model):
    plain = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
    chunks = list(client.chat.completions.create(model=model, stream=True,
                                                 messages=[{"role": "user", "content": QUESTION}]))
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == plain.choices[0].message.content and "30%" in streamed
    assert len([c for c in chunks if c.choices[0].delta.content]) > 2    # in pieces, not one blob
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and not last.choices[0].delta.content
    assert last.citations == plain.citations and last.refused is False
    assert all(c.id == chunks[0].id and c.object == "chat.completion.chunk" for c in chunks)


def test_the_raw_stream_is_server_sent_events_ending_with_done(url, model):
    with httpx.stream("POST", f"{url}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"}, timeout=60,
                      json={"model": model, "stream": True, "messages": [{"role": "user", "content": QUESTION}]}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]" and '"citations"' in events[-2]


def test_a_follow_up_uses_the_earlier_messages(client, model, kb):
    first = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": QUESTION},
                {"role": "assistant", "content": first.choices[0].message.content},
                {"role": "user", "content": FOLLOW_UP}]
    follow = client.chat.completions.create(model=model, messages=messages)
    content = follow.choices[0].message.content
    assert "60%" in content and "小微企业" in content
    # The source list sent back in the history is taken off: the same answer as the app's own chat gives.
    alone = kb.answer(FOLLOW_UP, [{"role": "user", "content": QUESTION},
                                  {"role": "assistant", "content": kb.answer(QUESTION).text}])
    assert content.startswith(alone.text)
    assert [c["id"] for c in follow.citations] == [c.clause.id for c in alone.citations]
    assert follow.citations[0]["id"] == "plan/ch3/s1/item2"


def test_text_parts_are_read_like_a_string(client, model):
    parts = client.chat.completions.create(model=model, messages=[
        {"role": "user", "content": [{"type": "text", "text": QUESTION}]}])
    plain = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
    assert parts.choices[0].message.content == plain.choices[0].message.content


def test_a_question_the_documents_do_not_answer_is_refused_as_data_too(client, model, kb):
    question = "明天青岛天气怎么样？"
    completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    content = completion.choices[0].message.content
    assert completion.refused is True and REFUSAL in content
    assert content.startswith(kb.answer(question).text) and "不构成回答" in content


def test_sampling_parameters_are_ignored(client, model):
    plain = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
    tuned = client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}],
                                           temperature=1.7, top_p=0.2, max_tokens=5, seed=1, user="ann",
                                           stop=["。"], presence_penalty=1)
    assert tuned.choices[0].message.content == plain.choices[0].message.content


@pytest.mark.parametrize("extra, param, words", [
    ({"n": 2}, "n", ["n 只能为 1"]),
    ({"logprobs": True}, "logprobs", ["logprobs"]),
    ({"response_format": {"type": "json_object"}}, "response_format", ["text"]),
    ({"tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
     "tool_choice", ["不调用工具"]),
])
def test_the_documented_exceptions_are_refused_with_400(client, model, extra, param, words):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}], **extra)
    body = err.value.body
    assert body["param"] == param and body["type"] == "invalid_request_error"
    assert all(w in body["message"] for w in words)


@pytest.mark.parametrize("messages, param, words", [
    ([], "messages", ["非空"]),
    ([{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "好"}], "messages[1]", ["最后一条"]),
    ([{"role": "user", "content": "  "}], "messages[0].content", ["不能为空"]),
    ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}]}],
     "messages[0].content[0]", ["只能读取文字", "image_url"]),
    ([{"role": "robot", "content": QUESTION}], "messages[0].role", ["user"]),
])
def test_malformed_messages_get_openai_errors_naming_the_field(client, model, messages, param, words):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=model, messages=messages)
    assert err.value.body["param"] == param
    assert all(w in err.value.body["message"] for w in words)


def test_an_unknown_model_or_endpoint_is_404_in_openai_shape(client, url):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert err.value.body["code"] == "model_not_found" and "/v1/models" in err.value.body["message"]
    r = httpx.post(f"{url}/v1/embeddings", headers={"Authorization": f"Bearer {KEY}"}, json={"input": "x"})
    assert r.status_code == 404 and "POST /v1/chat/completions" in r.json()["error"]["message"]


def test_a_body_that_is_not_json_is_400_in_openai_shape(url):
    r = httpx.post(f"{url}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"}, content=b"{oops")
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]


# -- keys, login, rate limit --------------------------------------------------------------------
def test_without_a_key_or_with_a_wrong_one_every_interface_says_401(url):
    with pytest.raises(openai.AuthenticationError) as err:
        openai.OpenAI(base_url=f"{url}/v1", api_key="sk-wrong", max_retries=0).models.list()
    assert "API 密钥无效" in err.value.body["message"] and err.value.body["code"] == "invalid_api_key"
    for path in ("/v1/models", "/api/clause?ref=专栏5", "/mcp"):
        anonymous = httpx.get(f"{url}{path}")
        assert anonymous.status_code == 401, path
        assert "需要 API 密钥" in anonymous.text and "API key required" in anonymous.text
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
    ok = httpx.get(f"{url}/api/clause", params={"ref": "专栏5"}, headers={"Authorization": "Bearer sk-plankb-test-2"})
    assert ok.status_code == 200 and "以色列" in ok.json()["text"]


def test_health_and_the_page_stay_open_for_monitoring_and_people(url):
    assert httpx.get(f"{url}/api/health").status_code == 200
    assert httpx.get(f"{url}/").status_code == 200     # the page has its own login (--auth), off here


def test_past_the_rate_limit_the_answer_is_429_with_retry_after(kb):
    limited = KnowledgeBase(kb.settings.model_copy(update={"api_keys": KEY, "rate_limit": "3/min"}))
    with BackgroundServer(create_app(limited)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
        for _ in range(3):
            client.models.list()
        with pytest.raises(openai.RateLimitError) as err:
            client.models.list()
        retry = err.value.response.headers["retry-after"]
        assert 1 <= int(retry) <= 20 and "请求过于频繁" in err.value.body["message"]
        assert httpx.get(f"{url}/api/health").status_code == 200     # monitoring is never limited


def test_with_only_the_app_login_the_interfaces_need_it_too(kb):
    locked = KnowledgeBase(kb.settings.model_copy(update={"auth": "ann:s3cret"}))
    with BackgroundServer(create_app(locked)) as url:
        denied = httpx.get(f"{url}/v1/models")
        allowed = httpx.get(f"{url}/v1/models", auth=("ann", "s3cret"))
    assert denied.status_code == 401 and "KB_API_KEYS" in denied.json()["error"]["message"]
    assert allowed.status_code == 200


# -- with an LLM configured: two models ---------------------------------------------------------
LLM_QUESTION = "我想开个小公司，办执照要多久？"
# Quotes 第1条, the first source of LLM_QUESTION; 「按规划，」 is not in the extractive answer.
LLM_REPLY = "按规划，企业开办压缩至一个环节、0.5个工作日[1]。"


def test_with_an_llm_both_modes_are_models_and_the_llm_answer_is_verified(kb):
    with serve_fake_llm() as fake:
        with_llm = KnowledgeBase(kb.settings.model_copy(update={
            "llm_base_url": fake.base_url, "llm_model": "fake", "llm_timeout": 10.0}))
        with BackgroundServer(create_app(with_llm)) as url:
            client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
            assert [m.id for m in client.models.list().data] == ["plan-kb-llm", "plan-kb-extractive"]
            fake.script(Reply(text=LLM_REPLY))
            chunks = list(client.chat.completions.create(model="plan-kb-llm", stream=True,
                                                         messages=[{"role": "user", "content": LLM_QUESTION}]))
            extractive = client.chat.completions.create(model="plan-kb-extractive",
                                                        messages=[{"role": "user", "content": LLM_QUESTION}])
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed.startswith("按规划，") and chunks[-1].mode == "llm" and chunks[-1].verified is True
    assert chunks[-1].citations[0]["id"] == "plan/ch3/s1/item1"
    assert len(fake.requests) == 1                       # the extractive model never asked the LLM
    assert extractive.mode == "extractive" and "按规划" not in extractive.choices[0].message.content
