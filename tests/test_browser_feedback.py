"""👎 with a reason in the chat, and what the admin tab makes of it, in Debian's headless Chromium.

The admin tab's screenshot goes to tests/artifacts/admin.png (and app/screenshots/ for the README).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import pytest

from app.server import BackgroundServer, create_app
from kb import KnowledgeBase, Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from headless import ask, screenshot, sync_api

expect = sync_api.expect
ROOT = Path(__file__).resolve().parent.parent
KEY = "browser-test-admin-key"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
DISLIKED = "中小企业参与政府采购有什么支持政策？"
# What a morning of real use might look like: rewordings of a few needs, and questions no document answers.
ASKED = {
    "小微企业贷款难，规划有哪些融资支持？": 3, "小微企业融资难怎么办？": 2, "小企业贷款有什么政策支持": 1,
    "政府采购给中小企业预留多少份额？": 2, "我想开个小公司，办执照要多久？": 2,
    "机关、事业单位拖欠中小企业款项，法律怎么规定？": 1, "香港公司怎么在青岛注册？": 2,
    "高校毕业生就业补贴每人多少钱？": 2, "创业担保贷款最高能贷多少？": 1, "明天青岛天气怎么样？": 1,
}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, embed_cache):
    settings = Settings(dir=tmp_path_factory.mktemp("kb"), sources=[ROOT / "source_docs"], embed_cache=embed_cache,
                        admin_keys=KEY, analytics_url=f"sqlite:///{tmp_path_factory.mktemp('log') / 'a.sqlite'}")
    with BackgroundServer(create_app(KnowledgeBase.open(settings, progress=False))) as url:
        with httpx.Client(base_url=url, timeout=60) as api:
            for question, times in ASKED.items():
                for _ in range(times):
                    answer = api.post("/api/ask", json={"question": question}).json()
            api.post("/api/feedback", json={"answer_id": answer["id"], "rating": "down", "reason": "没答到"})
        yield url


def test_a_thumbs_down_with_a_reason_shows_in_the_admin_tab(page, app_url):
    page.goto(app_url)
    ask(page, DISLIKED)
    expect(page.locator("#kb-feedback-reason")).to_be_hidden()
    page.locator("#kb-chat button[aria-label='踩']").last.click()   # Gradio's thumbs-down under the answer
    reasons = page.locator("#kb-feedback-reason")
    expect(reasons).to_be_visible()
    expect(reasons).to_contain_text("引用错误")
    reasons.get_by_text("不相关").click()
    page.locator("#kb-feedback-comment textarea").fill("想知道预留份额的具体比例")
    page.locator("#kb-feedback-submit").click()
    expect(page.locator("#kb-feedback-thanks")).to_contain_text("谢谢反馈")
    expect(reasons).to_be_hidden()

    page.get_by_role("tab", name="管理 Admin").click()
    page.locator("#kb-admin-key input").fill("not-the-key")
    page.locator("#kb-admin-open").click()
    expect(page.get_by_text("管理员密钥不正确")).to_be_visible()
    expect(page.locator("#kb-admin-view")).to_be_hidden()
    page.locator("#kb-admin-key input").fill(KEY)
    page.locator("#kb-admin-open").click()
    view = page.locator("#kb-admin-view")
    row = view.locator(".kb-admin-feedback tr", has_text=DISLIKED)
    expect(row).to_contain_text("不相关")
    expect(row).to_contain_text("想知道预留份额的具体比例")
    expect(view.locator(".kb-admin-feedback")).to_contain_text("没答到")   # the one given through the API
    expect(view).to_contain_text("未能回答的问题")
    expect(view.locator(".kb-chart-bar")).not_to_have_count(0)
    loans = view.locator("tr", has_text="小微企业贷款难，规划有哪些融资支持？")
    expect(loans).to_contain_text("小微企业融资难怎么办？")   # a rewording, grouped under the most asked one
    screenshot(page, "admin")
    assert page.dialogs == []


def test_selected_questions_export_as_gold_candidates(page, app_url):
    page.goto(app_url)
    page.get_by_role("tab", name="管理 Admin").click()
    page.locator("#kb-admin-key input").fill(KEY)
    page.locator("#kb-admin-key input").press("Enter")
    pick = page.locator("#kb-admin-pick")
    pick.get_by_text("香港公司怎么在青岛注册？").first.click()
    page.locator("#kb-admin-export").click()
    link = page.locator("#kb-admin-file a[download]").first
    expect(link).to_have_attribute("download", re.compile(r"^gold-candidates-\d{8}\.jsonl$"))
    with page.expect_download() as download:
        link.click()
    rows = [json.loads(line) for line in Path(download.value.path()).read_text(encoding="utf-8").splitlines()]
    assert [(r["question"], r["expect"], r["review"]["asked"]) for r in rows] == [("香港公司怎么在青岛注册？", [], 2)]
    assert rows[0]["type"] == ("unanswerable" if rows[0]["review"]["refused"] else "factoid")   # a guess to review
