"""Shared fixtures: real documents, a real knowledge base (bundled model, embedded Chroma) per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # nothing in the tests may reach a model hub

from ingest.sources import PROJECT_SOURCES, SHARED_RELATED  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
PLAN_TXT = PROJECT_SOURCES / "青岛市十四五民营经济和中小企业发展规划.txt"
PLAN_TITLE = "青岛市“十四五”民营经济和中小企业发展规划"
HAS_RELATED = SHARED_RELATED.is_dir()
needs_related = pytest.mark.skipif(not HAS_RELATED, reason=f"related laws not found at {SHARED_RELATED} "
                                   "(a fresh machine without ../shared)")


def expected_unit_ids(kb) -> set[str]:
    """The vector ids a knowledge base should hold: every unit of every clause it serves."""
    from kb.units import units_for

    return {u.id for c in kb.clauses() for u in units_for(c)}


@pytest.fixture(scope="session")
def embed_cache(tmp_path_factory) -> Path:
    """One embedding cache for the whole session: each text is embedded once, whatever KB uses it.
    `make test` points KB_EMBED_CACHE at the cache the eval harness uses too."""
    if os.environ.get("KB_EMBED_CACHE"):
        return Path(os.environ["KB_EMBED_CACHE"])
    return tmp_path_factory.mktemp("embed-cache") / "embeddings.sqlite"


@pytest.fixture(scope="session")
def full_sources() -> list[Path]:
    return [PROJECT_SOURCES] + ([SHARED_RELATED] if HAS_RELATED else [])


@pytest.fixture(scope="session")
def kb(tmp_path_factory, embed_cache, full_sources):
    """The real knowledge base over every available document, built once per session."""
    from kb import KnowledgeBase, Settings

    settings = Settings(dir=tmp_path_factory.mktemp("kb"), sources=full_sources, embed_cache=embed_cache)
    return KnowledgeBase.open(settings, progress=False)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server on 127.0.0.1: CI's (``KB_TEST_CHROMA_URL``, see .ci/run) or one started here."""
    if os.environ.get("KB_TEST_CHROMA_URL"):
        yield os.environ["KB_TEST_CHROMA_URL"]
        return
    from chroma_proc import ChromaServer

    with ChromaServer(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium (see tests/headless.py, which browser test modules import first)."""
    from headless import CHROMIUM, CHROMIUM_ARGS, sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page; ``page.dialogs`` collects every alert/confirm the page tried to show."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A real PostgreSQL server on 127.0.0.1: CI's (``KB_TEST_POSTGRES_URL``, see .ci/run) or a throwaway
    cluster started here from Debian's binaries."""
    if os.environ.get("KB_TEST_POSTGRES_URL"):
        yield os.environ["KB_TEST_POSTGRES_URL"]
        return
    from postgres_proc import PostgresServer, postgres_bindir

    if postgres_bindir() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql) and KB_TEST_POSTGRES_URL is unset")
    with PostgresServer(tmp_path_factory.mktemp("postgres") / "data") as url:
        yield url


def fresh_postgres_database(server_url: str) -> str:
    """A new, empty database on the server at ``server_url``; returns its URL (tests never share tables)."""
    import uuid

    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    name = f"plankb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


# -- skips ---------------------------------------------------------------------------------------
# Outside CI a missing optional part (../shared, chromium, PostgreSQL, an extra) skips the tests
# that need it, with the install command as the reason. In CI (CI=true, set by .ci/run) every part
# is installed, so a skip means a part went missing: the run fails, naming it. A skip that can
# happen even there says so with ``allowed_skip`` (the README lists them).
ALLOWED_IN_CI = "[allowed in CI] "


def allowed_skip(reason: str) -> None:
    """Skip for a reason that is no sign of a missing part (e.g. a file system without chattr)."""
    pytest.skip(ALLOWED_IN_CI + reason)


_unexpected_skips: list[str] = []


def pytest_runtest_logreport(report):
    _note_skip(report)


def pytest_collectreport(report):
    _note_skip(report)   # a whole module skipped at import (no chromium, no playwright)


def _note_skip(report) -> None:
    # an expected failure (xfail) reports as skipped too, but is no missing part
    if report.skipped and not hasattr(report, "wasxfail") and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if ALLOWED_IN_CI not in reason:
            _unexpected_skips.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if _unexpected_skips:
        print("\nCI=true and these tests were skipped; every part they need should be installed here:\n  "
              + "\n  ".join(_unexpected_skips))
        session.exitstatus = 1
