"""The app on a phone (390×844, touch) in Debian's headless Chromium: the question box in view
without scrolling, the answer first and its sources folded under it, every tab reachable, nothing
wider than the screen, and a shared link /?q=… that asks its question.

The screenshot goes to tests/artifacts/phone.png (and app/screenshots/ with UPDATE_SCREENSHOTS=1).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from app.server import BackgroundServer, create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from headless import ARTIFACTS, sync_api  # noqa: E402  (skips this module without chromium)

expect = sync_api.expect
ROOT = Path(__file__).resolve().parent.parent
PHONE = {"width": 390, "height": 844}
TABS = {"问答 Chat": "#kb-question", "条款检索 Search": "#kb-search-query", "目录 Browse": "#kb-toc",
        "关于 About": "#kb-about"}
QUESTION = "政府采购要给中小企业预留多大比例？"


@pytest.fixture(scope="module")
def app_url(kb):
    with BackgroundServer(create_app(kb)) as url:
        yield url


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def in_view(page, selector: str) -> bool:
    """The whole element is on the screen as it is, without scrolling."""
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["x"] >= 0 and \
        box["y"] + box["height"] <= PHONE["height"] and box["x"] + box["width"] <= PHONE["width"]


def overflow(page) -> int:
    """How many pixels the page is wider than the screen (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_the_question_box_and_every_tab_are_reachable_without_scrolling(phone, app_url):
    phone.goto(app_url)
    expect(phone.locator("#kb-question textarea")).to_be_visible()
    assert in_view(phone, "#kb-question textarea") and in_view(phone, "#kb-send")
    for name, content in TABS.items():
        tab = phone.get_by_role("tab", name=name)
        assert in_view(phone, f"#{tab.get_attribute('id')}"), f"tab {name} is off the screen"
        tab.click()
        expect(phone.locator(content)).to_be_visible()
        assert overflow(phone) == 0, f"the {name} tab is wider than the screen"


def test_a_shared_link_asks_and_the_answer_comes_before_its_folded_sources(phone, app_url):
    phone.goto(f"{app_url}/?q={quote(QUESTION)}")
    answer = phone.locator("#kb-chat .kb-answer:not(.kb-streaming)")
    expect(answer).to_have_count(1, timeout=30_000)
    expect(answer).to_contain_text("30%")
    expect(phone.locator("#kb-chat .kb-question")).to_have_text([QUESTION])
    fold = phone.locator("#kb-sources details.kb-sources-fold")
    expect(fold).not_to_have_attribute("open", "")            # folded: the answer comes first
    assert answer.bounding_box()["y"] < fold.bounding_box()["y"]
    assert in_view(phone, "#kb-question textarea")            # still no scrolling to ask the next one
    assert overflow(phone) == 0
    screenshot(phone, "phone")

    fold.locator("> summary").tap()
    expect(fold).to_have_attribute("open", "")
    expect(fold.locator("details.kb-card").first).to_be_visible()
    fold.locator("> summary").tap()                            # folds again
    marker = answer.locator(".kb-marker").first
    marker.tap()                                             # [n] opens the fold and card n
    card = phone.locator(f"#kb-src-{marker.inner_text().strip('[]')}")
    expect(card).to_have_attribute("open", "")
    expect(fold).to_have_attribute("open", "")
    assert overflow(phone) == 0


def test_a_follow_up_on_the_phone_folds_the_new_sources_too(phone, app_url):
    phone.goto(f"{app_url}/?q={quote(QUESTION)}")
    expect(phone.locator("#kb-chat .kb-answer:not(.kb-streaming)")).to_have_count(1, timeout=30_000)
    box = phone.locator("#kb-question textarea")
    box.fill("其中小微企业的比例呢？")
    phone.locator("#kb-send").tap()
    expect(phone.locator("#kb-chat .kb-answer:not(.kb-streaming)")).to_have_count(2)
    expect(phone.locator("#kb-chat .kb-answer").last).to_contain_text("60%")
    expect(phone.locator("#kb-sources details.kb-sources-fold")).not_to_have_attribute("open", "")
    assert in_view(phone, "#kb-question textarea")


def test_on_a_wide_screen_the_sources_stay_open(page, app_url):
    page.goto(f"{app_url}/?q={quote(QUESTION)}")
    expect(page.locator("#kb-chat .kb-answer:not(.kb-streaming)")).to_have_count(1, timeout=30_000)
    expect(page.locator("#kb-sources details.kb-sources-fold")).to_have_attribute("open", "")
    expect(page.locator("#kb-new-chat")).to_be_visible()


def screenshot(page, name: str) -> None:
    """What the phone shows (not the whole page): tests/artifacts/, and the README's copy on request."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copy(ARTIFACTS / f"{name}.png", ROOT / "app" / "screenshots" / f"{name}.png")
