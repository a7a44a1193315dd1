"""Status badges and the 「只看现行有效」 filter in Debian's headless Chromium, on the plan and the
related laws as of 2026-12-01 (the plan's period is over, the laws are in force)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.server import BackgroundServer, create_app
from conftest import needs_related
from kb import KnowledgeBase, Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_related]

from headless import ARTIFACTS, ask, sync_api  # noqa: E402  (skips this module without chromium)

expect = sync_api.expect
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, embed_cache, full_sources):
    settings = Settings(dir=tmp_path_factory.mktemp("kb-validity"), sources=full_sources, embed_cache=embed_cache,
                        today="2026-12-01")
    with BackgroundServer(create_app(KnowledgeBase.open(settings, progress=False))) as url:
        yield url


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(ARTIFACTS) / f"{name}.png"), full_page=True)


def test_a_source_card_from_the_expired_plan_shows_its_badge_and_the_answer_its_notice(page, app_url):
    page.goto(app_url)
    ask(page, "小微企业贷款难，规划有哪些融资支持？", timeout_ms=60_000)   # the first answer loads the model
    card = page.locator("#kb-sources details.kb-card", has_text="第7条").first
    expect(card.locator(".kb-status")).to_have_text("规划期已届满")
    expect(card.locator(".kb-status")).to_have_attribute("data-status", "expired")
    expect(page.locator("#kb-chat .kb-answer").last.locator(".kb-notices")).to_contain_text("2021—2025年")
    ask(page, "款项支付条例什么时候开始施行？")
    expect(page.locator("#kb-chat .kb-answer").last).to_contain_text("2025年6月1日")
    expect(page.locator("#kb-sources details.kb-card").first.locator(".kb-status")).to_have_text("现行有效")
    _shot(page, "validity-chat")


def test_only_in_force_leaves_the_expired_plan_out_of_clause_search(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="条款检索 Search").click()
    query = page.locator("#kb-search-query textarea")
    query.fill("中小企业 融资")
    query.press("Enter")
    results = page.locator("#kb-search-results")
    expect(results.locator(".kb-status-expired").first).to_be_visible()       # the plan's clauses, badged
    expect(results.locator(".kb-counts")).to_contain_text("规划")
    page.locator("#kb-search-in-force input[type=checkbox]").check()
    expect(results.locator(".kb-status-expired")).to_have_count(0)
    expect(results.locator(".kb-counts")).not_to_contain_text("规划")
    expect(results.locator(".kb-status-in_force").first).to_be_visible()
    assert results.locator("details.kb-card").count() == results.locator(".kb-status-in_force").count() > 0
    _shot(page, "validity-search")


def test_the_table_of_contents_and_the_about_page_show_each_documents_status_and_dates(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="目录 Browse").click()
    plan = page.locator("#kb-toc details.kb-toc-doc", has_text="民营经济和中小企业发展规划").first
    expect(plan.locator(":scope > summary .kb-status")).to_have_text("规划期已届满")
    law = page.locator("#kb-toc details.kb-toc-doc", has_text="保障中小企业款项支付条例").first
    expect(law.locator(":scope > summary .kb-status")).to_have_text("现行有效")
    page.get_by_role("tab", name="关于 About").click()
    about = page.locator("#kb-about")
    expect(about).to_contain_text("状态按 2026-12-01 判断")
    row = about.locator("table.kb-docs tr", has_text="保障中小企业款项支付条例")
    expect(row.locator(".kb-status")).to_have_text("现行有效")
    expect(row).to_contain_text("2025-03-17 修订")
    expect(row).to_contain_text("2025-06-01 施行")
    plan_row = about.locator("table.kb-docs tr", has_text="民营经济和中小企业发展规划")
    expect(plan_row).to_contain_text("规划期 period 2021—2025")
    _shot(page, "validity-about")
