"""LLM answers in Debian's headless Chromium: the stream reaches the chat, a failure falls back.

The app runs over a knowledge base built from source_docs/ with its LLM endpoint set to the
scripted server of tests/fake_llm.py. The browser watches the answer bubble grow while the
server is still sending chunks, then sees the verified answer with its source card; when the
server answers HTTP 500 it sees the extractive answer with the one-line notice.
The screenshot goes to tests/artifacts/chat_llm.png.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent

from headless import ARTIFACTS, sync_api  # noqa: E402  (skips this module without chromium)
from headless import ask as ask_in_chat  # noqa: E402


def ask(page, question: str) -> float:
    return ask_in_chat(page, question, timeout_ms=30_000)   # the first answer loads the models
pytest.importorskip("llama_index.llms.openai_like", reason="needs the llm extra: pip install -e '.[llm]'")
expect = sync_api.expect
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fake_llm import Reply, serve_fake_llm  # noqa: E402

from app.chat_view import THINKING  # noqa: E402
from app.server import BackgroundServer, create_app  # noqa: E402
from kb import KnowledgeBase, Settings  # noqa: E402

QUESTION = "我想开个小公司，办执照要多久？"
# Both sentences quote 第1条, the first source the retriever gives for QUESTION, so the
# verifier keeps them as written. 「按规划，」 is not in the extractive answer: seeing it on
# screen proves the model's answer, not the fallback, reached the chat.
STREAMED = "按规划，企业开办压缩至一个环节、0.5个工作日[1]。个体工商户设立登记推行智能审批[1]。"
CHUNK_CHARS, CHUNK_DELAY = 4, 0.25       # 11 chunks over ~2.7 s
LLM_TIMEOUT = 10.0

# Records the last answer bubble on every change of the chat: its text, whether it is still
# streaming, and when (ms). Installed before the question is sent.
WATCH_ANSWER = """() => {
  window.__kbSeen = [];
  new MutationObserver(() => {
    const answers = document.querySelectorAll('#kb-chat .kb-answer');
    const last = answers[answers.length - 1];
    if (last) window.__kbSeen.push({t: performance.now(), streaming: last.classList.contains('kb-streaming'),
                                    text: last.innerText.replace(/\\s+/g, '')});
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def fake():
    with serve_fake_llm() as endpoint:
        yield endpoint


@pytest.fixture
def llm(fake):
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture(scope="module")
def app_url(fake, tmp_path_factory, embed_cache):
    # today: within the plan's period, so the only notices an answer can carry are the LLM's own.
    settings = Settings(dir=tmp_path_factory.mktemp("kb-llm"), sources=[ROOT / "source_docs"],
                        embed_cache=embed_cache, llm_base_url=fake.base_url, llm_model="fake",
                        llm_timeout=LLM_TIMEOUT, today="2024-01-01")
    with BackgroundServer(create_app(KnowledgeBase.open(settings, progress=False))) as url:
        yield url




def test_the_model_answer_streams_into_the_chat_and_cites_item_1(page, app_url, llm):
    llm.script(Reply(text=STREAMED, chunk_chars=CHUNK_CHARS, chunk_delay=CHUNK_DELAY))
    page.goto(app_url)
    expect(page.locator("#kb-chat")).to_be_visible()
    page.evaluate(WATCH_ANSWER)
    seconds = ask(page, QUESTION)

    seen = page.evaluate("window.__kbSeen")
    placeholder = "".join(THINKING.split())          # shown while the clauses are retrieved
    partial = [s for s in seen if s["streaming"] and s["text"] not in ("", placeholder)]
    final_at = next(s["t"] for s in seen if not s["streaming"])
    growth = list(dict.fromkeys(s["text"] for s in partial))
    print(f"answer on screen after {seconds:.1f} s; partial lengths {[len(t) for t in growth]}; "
          f"first partial {(final_at - partial[0]['t']) / 1000 if partial else 0:.1f} s before the final")
    # (1) The bubble grew while the server was still sending: several distinct, ever longer
    # prefixes of the reply, the first well before the finished answer replaced them.
    assert all(STREAMED.startswith(t) for t in growth), growth
    assert len([t for t in growth if len(t) < len(STREAMED)]) >= 2, growth
    assert [len(t) for t in growth] == sorted(len(t) for t in growth)
    assert all(s["t"] < final_at for s in partial)
    assert final_at - partial[0]["t"] > 1000, "the partial text arrived in one burst with the final"

    # (2) The verified model answer, its [1] marker, and the card of 第1条.
    answer = page.locator("#kb-chat .kb-answer").last
    expect(answer).to_contain_text(STREAMED)
    expect(answer).to_contain_text("0.5个工作日")
    expect(answer.locator(".kb-marker").first).to_have_text("[1]")
    expect(answer.locator(".kb-notices")).to_have_count(0)      # no fallback, nothing dropped
    card = page.locator("#kb-sources details.kb-card", has_text="第1条").first
    expect(card).to_contain_text("推进审批提速增效")
    expect(page.locator("#kb-sources details.kb-card").first).to_contain_text("第1条")
    # The model was asked once, streaming, with the configured name and 第1条 among its sources.
    assert len(llm.requests) == 1
    sent = llm.requests[0]
    assert sent["stream"] is True and sent["model"] == "fake"
    assert "第1条「推进审批提速增效」" in sent["messages"][-1]["content"]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat_llm.png"), full_page=True)


def test_a_model_server_error_shows_the_extractive_answer_and_a_notice(page, app_url, llm):
    llm.script(Reply(status=500))
    page.goto(app_url)
    seconds = ask(page, QUESTION)

    answer = page.locator("#kb-chat .kb-answer").last
    expect(answer).to_contain_text("企业开办压缩至一个环节、0.5个工作日")
    expect(answer).not_to_contain_text("按规划")
    expect(answer.locator(".kb-notices li")).to_have_text([re.compile(r"^大模型服务.*已改用原文摘录回答。$")])
    expect(page.locator("#kb-sources details.kb-card").first).to_contain_text("第1条")
    assert len(llm.requests) == 1                                # asked once, no retry
    assert seconds < LLM_TIMEOUT, "the fallback waited for the timeout instead of the 500"
