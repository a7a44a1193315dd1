"""The app in Debian's headless Chromium: chat with citations, search, browse, about, and XSS.

Screenshots of the four tabs go to tests/artifacts/ and app/screenshots/ (linked from the README).
"""
from __future__ import annotations

import os
import shutil
import socket
import statistics
from pathlib import Path

import pytest

from app.server import BackgroundServer, create_app
from kb import KnowledgeBase, Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
# A document an attacker might drop into source_docs/: markup in the file name and in the text.
HOSTILE_NAME = "安全测试<img src=x onerror=alert(2)>.txt"
HOSTILE_TEXT = """安全测试<img src=x onerror=alert(2)>办法

第一章 总则

第一条 本条用于安全测试<img src=x onerror=alert(1)>，页面只应把它显示为文字。

第二条 脚本测试<script>window.__xss=1</script>同样只显示为文字，${7*7} 也不应被计算。
"""
QUESTION = "我想开个小公司，办执照要多久？"
# The product target (≤ 1 s on an idle machine) is the figure this test prints; the bound only
# catches an answer that never finishes, with room for a busy shared CI machine.
WARM_LIMIT_S = 5.0

from headless import ask, screenshot, sync_api  # noqa: E402  (skips this module without chromium)

expect = sync_api.expect
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _serve(settings: Settings, build: bool = True):
    kb = KnowledgeBase.open(settings, progress=False) if build else KnowledgeBase(settings)
    return BackgroundServer(create_app(kb))


@pytest.fixture(scope="module")
def kb_settings(tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / "embeddings.sqlite"   # shared with test_app_api

    def make(name: str, sources: list[Path], **extra) -> Settings:
        return Settings(dir=tmp_path_factory.mktemp(name), sources=sources, embed_cache=cache, **extra)
    return make


@pytest.fixture(scope="module")
def plan_settings(kb_settings) -> Settings:
    return kb_settings("kb", [ROOT / "source_docs"])


@pytest.fixture(scope="module")
def app_url(plan_settings):
    with _serve(plan_settings) as url:
        yield url


@pytest.fixture(scope="module")
def planted_url(kb_settings, tmp_path_factory):
    sources = tmp_path_factory.mktemp("sources")
    for f in (ROOT / "source_docs").iterdir():
        shutil.copy(f, sources / f.name)
    (sources / HOSTILE_NAME).write_text(HOSTILE_TEXT, encoding="utf-8")
    with _serve(kb_settings("kb-planted", [sources])) as url:
        yield url


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()




# -- 问答 -----------------------------------------------------------------------------------
def test_chat_answers_with_the_number_and_a_citation_that_opens(page, app_url):
    page.goto(app_url)
    expect(page.locator("#kb-chat")).to_contain_text("我想开个小公司")   # the example questions
    ask(page, QUESTION)
    answer = page.locator("#kb-chat .kb-answer").last
    expect(answer).to_contain_text("0.5个工作日")
    expect(page.locator("#kb-question textarea")).to_have_value("")     # the input cleared
    card = page.locator("#kb-sources details.kb-card", has_text="第1条").first
    expect(card).to_contain_text("推进审批提速增效")
    assert card.get_attribute("open") is None
    card.locator("summary").click()
    expect(card).to_have_attribute("open", "")
    expect(card.locator(".kb-clause-text")).to_contain_text("推进审批提速增效。")
    expect(card.locator(".kb-clause-text mark.kb-support").first).to_be_visible()
    expect(card.locator(".kb-cite")).to_contain_text("第三章第一节 第1条「推进审批提速增效」")
    expect(card.locator(".kb-copy")).to_be_visible()
    screenshot(page, "chat")
    assert page.dialogs == []


def test_warm_answers_are_on_screen_within_a_second(page, app_url):
    page.goto(app_url)
    ask(page, "第7条")                  # warm-up: first query after start
    times = [ask(page, q) for q in (QUESTION, "小微企业贷款难，规划有哪些融资支持？", "专栏5讲什么？")]
    print(f"submit → answer on screen: {', '.join(f'{t * 1000:.0f} ms' for t in times)}")
    assert statistics.median(times) <= WARM_LIMIT_S, times


def test_follow_up_markers_empty_and_overlong_questions(page, app_url):
    page.goto(app_url)
    ask(page, "政府采购要给中小企业预留多少份额？")
    ask(page, "那小微企业呢？")   # alone this finds 第24条; with the conversation, procurement's 第2条
    expect(page.locator("#kb-sources .kb-card").first).to_contain_text("第2条「进一步放开市场准入」")
    marker = page.locator("#kb-chat .kb-answer").last.locator(".kb-marker").first
    marker.click()                # [n] in the answer opens source card n
    expect(page.locator(f"#kb-src-{marker.inner_text().strip('[]')}")).to_have_attribute("open", "")
    bubbles = page.locator("#kb-chat .kb-msg")
    count = bubbles.count()
    page.locator("#kb-question textarea").press("Enter")   # empty: nothing happens
    page.wait_for_timeout(500)
    assert bubbles.count() == count
    ask(page, "融资" * 10_000)
    expect(page.locator("#kb-chat .kb-answer").last).to_contain_text("问题过长")
    expect(page.locator("#kb-chat .kb-question").last).to_contain_text("已截断")


def test_a_refusal_looks_like_one_and_still_offers_clauses(page, app_url):
    page.goto(app_url)
    ask(page, "今天天气怎么样？")
    expect(page.locator("#kb-chat .kb-answer.kb-refusal")).to_contain_text("未找到直接依据")
    expect(page.locator("#kb-sources .kb-sources-refused")).to_contain_text("可能相关")


def test_a_second_question_while_answering_is_queued(page, app_url):
    page.goto(app_url)
    box = page.locator("#kb-question textarea")
    box.fill(QUESTION)
    box.press("Enter")
    expect(box).to_have_value("")         # the box empties at once, while the answer is computed
    box.fill("专栏5列出了哪些民营孵化器建设项目？")
    box.press("Enter")
    expect(page.locator("#kb-chat .kb-answer:not(.kb-streaming)")).to_have_count(2)
    expect(page.locator("#kb-chat .kb-question")).to_have_text([QUESTION, "专栏5列出了哪些民营孵化器建设项目？"])
    expect(page.locator("#kb-chat .kb-answer").last).to_contain_text("华夏基石")
    expect(page.locator("#kb-sources .kb-card").first).to_contain_text("专栏5")


def test_a_copy_button_copies_the_citation(browser, app_url):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(app_url)
    open_tab(page, "条款检索 Search")
    page.locator("#kb-search-query textarea").fill("第7条")
    page.locator("#kb-search-query textarea").press("Enter")
    card = page.locator("#kb-search-results details.kb-card").first
    card.locator(".kb-copy").click()
    expect(card.locator(".kb-copy")).to_contain_text("已复制")
    assert page.evaluate("navigator.clipboard.readText()") == \
        "《青岛市“十四五”民营经济和中小企业发展规划》第三章第一节 第7条「完善融资机制」"
    context.close()


# -- 条款检索 / 目录 / 关于 ----------------------------------------------------------------------
def test_search_opens_box_5_and_keywords_are_counted(page, app_url):
    page.goto(app_url)
    open_tab(page, "条款检索 Search")
    query = page.locator("#kb-search-query textarea")
    query.fill("专精特新")
    query.press("Enter")
    results = page.locator("#kb-search-results")
    expect(results.locator(".kb-counts")).to_contain_text("规划")
    expect(results.locator("mark.kb-hit").first).to_have_text("专精特新")
    query.fill("专栏5")
    query.press("Enter")
    first = results.locator("details.kb-card").first
    expect(first).to_contain_text("专栏5")
    expect(first).to_have_attribute("open", "")
    expect(first.locator(".kb-clause-text")).to_be_visible()
    screenshot(page, "search")


def test_browse_opens_an_item_with_its_citation(page, app_url):
    page.goto(app_url)
    open_tab(page, "目录 Browse")
    toc = page.locator("#kb-toc")
    toc.locator("summary", has_text="第三章 主要任务和行动措施").click()
    toc.locator("summary", has_text="第一节 营造良好发展环境").click()
    item = toc.locator("details.kb-card", has_text="第7条 完善融资机制")
    item.locator("summary").click()
    expect(item.locator(".kb-clause-text")).to_contain_text("运用信贷风险补偿")
    expect(item.locator(".kb-cite")).to_contain_text("第三章第一节 第7条「完善融资机制」")
    screenshot(page, "browse")


def test_about_lists_the_documents(page, app_url):
    page.goto(app_url)
    open_tab(page, "关于 About")
    about = page.locator("#kb-about")
    expect(about.locator("table.kb-docs")).to_contain_text("青岛市“十四五”民营经济和中小企业发展规划")
    expect(about).to_contain_text("青岛市民营经济发展局")
    expect(about).to_contain_text("source_docs/")
    screenshot(page, "about")


# -- hostile documents and a lost vector store ------------------------------------------------
def test_planted_markup_renders_inert_everywhere(page, planted_url):
    page.goto(planted_url)
    open_tab(page, "条款检索 Search")
    query = page.locator("#kb-search-query textarea")
    query.fill("安全测试")
    query.press("Enter")
    card = page.locator("#kb-search-results details.kb-card", has_text="安全测试").first
    card.locator("summary").click()
    expect(card.locator(".kb-clause-text")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(card.locator(".kb-clause-text")).to_contain_text("<script>window.__xss=1</script>")
    expect(card.locator(".kb-clause-text")).to_contain_text("${7*7}")
    open_tab(page, "问答 Chat")
    ask(page, "安全测试的条款怎么说？<img src=x onerror=alert(3)>")
    open_tab(page, "目录 Browse")
    expect(page.locator("#kb-toc")).to_contain_text("安全测试<img src=x onerror=alert(2)>")
    open_tab(page, "关于 About")
    expect(page.locator("#kb-about")).to_contain_text("安全测试<img src=x onerror=alert(2)>")
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0


def test_a_lost_vector_store_shows_a_banner_not_a_traceback(page, app_url, plan_settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]   # nothing listens here
    # The same built index, but its Chroma server is gone.
    lost = plan_settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{dead_port}"})
    with _serve(lost, build=False) as url:
        page.goto(url)
        # It serves the generation it has, found by keywords alone, and says so.
        expect(page.locator("#kb-banner")).to_contain_text("语义检索暂不可用")
        ask(page, "小微企业贷款难，有什么融资支持？")
        answer = page.locator("#kb-chat .kb-answer").last
        expect(answer).to_contain_text("融资")
        expect(answer.locator(".kb-notices")).to_contain_text("向量数据库暂不可用")
        assert "Traceback" not in page.content()
