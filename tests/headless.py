"""Debian's headless Chromium driven by Playwright: what every browser test shares.

    from headless import ARTIFACTS, sync_api   # and the `browser` / `page` fixtures of conftest.py

Importing this module skips the importing test module when chromium or playwright is missing.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "app" / "screenshots"   # linked from the README
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed: apt-get install -y chromium fonts-noto-cjk",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the dev extra)")


def ask(page, question: str, timeout_ms: float = 5_000) -> float:
    """Type a question in the chat, press Enter, and return seconds until the finished answer is on screen."""
    finished = page.locator("#kb-chat .kb-answer:not(.kb-streaming)")
    before = finished.count()
    box = page.locator("#kb-question textarea")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    sync_api.expect(finished).to_have_count(before + 1, timeout=timeout_ms)
    return time.perf_counter() - started


def screenshot(page, name: str) -> None:
    """Every run saves to tests/artifacts/; UPDATE_SCREENSHOTS=1 also refreshes the README's copies."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / f"{name}.png", SCREENSHOTS / f"{name}.png")
