"""The MCP server driven by the official ``mcp`` client, over both transports:
stdio (``python -m kb.mcp --kb DIR``, as Claude Desktop starts it) and streamable HTTP
(``/mcp`` on the running app, with a bearer key). The same tests run against each."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import sys
import threading
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from app.server import BackgroundServer, create_app
from kb import KnowledgeBase

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup  # what anyio raises on Python 3.10

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-plankb-mcp"
TOOLS = {"search_clauses", "get_clause", "list_documents", "table_of_contents", "ask"}


class Session:
    """One MCP client session, open in a thread of its own so sync tests can share it.

    The SDK's task groups must be entered and left by one task, so a single task holds the
    client and runs each call the tests send it.
    """

    def __init__(self, connect):
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self._calls: asyncio.Queue = asyncio.Queue()
        ready = concurrent.futures.Future()
        self._done = asyncio.run_coroutine_threadsafe(self._serve(connect, ready), self._loop)
        ready.result(120)      # raises what opening the session raised

    async def _serve(self, connect, ready) -> None:
        try:
            client = Client(connect(), raise_exceptions=True)
            await client.__aenter__()
        except BaseException as err:
            ready.set_exception(err)
            return
        ready.set_result(None)
        try:
            while (call := await self._calls.get()) is not None:
                name, args, kwargs, answer = call
                try:
                    answer.set_result(await getattr(client, name)(*args, **kwargs))
                except Exception as err:  # noqa: BLE001 - handed to the test
                    answer.set_exception(err)
        finally:
            await client.__aexit__(None, None, None)

    def _run(self, name: str, *args, **kwargs):
        answer = concurrent.futures.Future()
        self._loop.call_soon_threadsafe(self._calls.put_nowait, (name, args, kwargs, answer))
        return answer.result(120)

    def call(self, tool: str, **arguments):
        return self._run("call_tool", tool, arguments)

    def __getattr__(self, name):   # list_tools, list_resources, read_resource …
        return lambda *args, **kwargs: self._run(name, *args, **kwargs)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._calls.put_nowait, None)
        self._done.result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)


def _stdio(kb: KnowledgeBase):
    settings = kb.settings
    env = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "KB_EMBED_CACHE": str(settings.embed_cache_path),
           "KB_SOURCES": json.dumps([str(s) for s in settings.sources])}
    params = StdioServerParameters(command=sys.executable, args=["-m", "kb.mcp", "--kb", str(settings.dir)],
                                   env=env, cwd=str(ROOT))
    return lambda: params


@pytest.fixture(scope="module")
def keyed_url(kb):
    """The app as deployed with keys on."""
    keyed = KnowledgeBase(kb.settings.model_copy(update={"api_keys": KEY}))
    with BackgroundServer(create_app(keyed)) as url:
        yield url


def _http(url: str, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return lambda: streamable_http_client(f"{url}/mcp", http_client=httpx2.AsyncClient(headers=headers, timeout=60))


@pytest.fixture(scope="module", params=["stdio", "http"])
def mcp(request, kb):
    connect = _stdio(kb) if request.param == "stdio" else _http(request.getfixturevalue("keyed_url"), KEY)
    session = Session(connect)
    yield session
    session.close()


def test_the_tools_are_listed_with_descriptions_an_agent_can_use(mcp):
    tools = {t.name: t for t in mcp.list_tools().tools}
    assert TOOLS <= set(tools)
    assert "专栏5" in tools["get_clause"].description and "history" in tools["ask"].description
    assert tools["search_clauses"].input_schema["required"] == ["query"]
    assert all(t.annotations.read_only_hint for t in tools.values())


def test_get_clause_returns_box_5_by_reference(mcp):
    result = mcp.call("get_clause", ref="专栏5")
    assert not result.is_error
    assert "以色列" in result.content[0].text and "专栏5" in result.content[0].text
    assert result.structured_content["id"] == "plan/ch3/s3/box5"
    assert "以色列" in result.structured_content["text"]


def test_get_clause_takes_law_references_and_ids(mcp):
    law = mcp.call("get_clause", ref="中小企业促进法第十条").structured_content
    assert law["id"] == "中小企业促进法/art10" and law["citation"].startswith("《中华人民共和国中小企业促进法》")
    assert mcp.call("get_clause", ref="plan/ch3/s1/item7").structured_content["title"] == "完善融资机制"


def test_an_unknown_reference_is_a_tool_error_that_says_why(mcp):
    result = mcp.call("get_clause", ref="第99条")
    assert result.is_error and "没有第99条" in result.content[0].text and "专栏5" in result.content[0].text


def test_search_clauses_finds_keywords_and_narrows_to_a_document(mcp):
    hits = mcp.call("search_clauses", query="专精特新").structured_content["hits"]
    assert hits and all("专精特新" in h["text"] or "专精特新" in h["label"] for h in hits[:3])
    law = mcp.call("search_clauses", query="款项支付", document="保障中小企业款项支付条例", top_k=3)
    docs = {h["doc_title"] for h in law.structured_content["hits"]}
    assert docs == {"保障中小企业款项支付条例"}
    wrong = mcp.call("search_clauses", query="融资", document="火星条例")
    assert wrong.is_error and "没有这个文件" in wrong.content[0].text and "中小企业促进法" in wrong.content[0].text


def test_ask_answers_with_citations_and_follows_up_with_history(mcp):
    first = mcp.call("ask", question="政府采购要给中小企业预留多大比例？")
    data = first.structured_content
    assert not first.is_error and data["refused"] is False and "30%" in data["answer"]
    assert data["citations"] and data["citations"][0]["marker"] == 1
    assert "来源 Sources" in first.content[0].text     # the text an agent reads lists the sources
    follow = mcp.call("ask", question="其中小微企业的比例呢？",
                      history=[{"role": "user", "content": "政府采购要给中小企业预留多大比例？"},
                               {"role": "assistant", "content": data["answer"]}])
    assert "60%" in follow.structured_content["answer"]


def test_ask_says_when_the_documents_do_not_answer(mcp):
    assert mcp.call("ask", question="明天青岛天气怎么样？").structured_content["refused"] is True


def test_documents_are_listed_outlined_and_readable_as_resources(mcp):
    docs = mcp.call("list_documents").structured_content["documents"]
    plan = next(d for d in docs if d["kind"] == "plan")
    assert plan["short_title"] == "规划" and plan["clause_count"] > 40
    outline = mcp.call("table_of_contents").structured_content["entries"]
    assert any(e["document"] == "规划" and "第三章" in (e["chapter"] or "") for e in outline)
    clauses = mcp.call("table_of_contents", document="规划").structured_content["entries"]
    assert "plan/ch3/s3/box5" in [e["id"] for e in clauses]
    uris = [str(r.uri) for r in mcp.list_resources().resources]
    assert plan["uri"] in uris
    text = mcp.read_resource(plan["uri"]).contents[0].text
    assert text.startswith("# 《青岛市“十四五”民营经济和中小企业发展规划》") and "以色列" in text


def test_http_without_the_key_or_with_a_wrong_one_is_refused(keyed_url):
    for key in (None, "sk-wrong"):
        with pytest.raises(ExceptionGroup) as err:   # the client gives up on the handshake; why, below
            Session(_http(keyed_url, key))
        assert err.group_contains(MCPError)
    r = httpx.post(f"{keyed_url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                   headers={"Accept": "application/json, text/event-stream"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"] == "invalid_token" and "需要 API 密钥" in r.json()["error_description"]
