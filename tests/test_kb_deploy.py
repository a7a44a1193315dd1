"""Several app processes on one Chroma server: an ingest by one is seen by all; a lost server degrades, then heals."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from chroma_proc import ChromaServer, free_port
from conftest import PLAN_TXT, ROOT

from app.server import BackgroundServer, create_app
from kb import KnowledgeBase, Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXTRA_TITLE = "青岛市海藻生物产业扶持办法（试行）"
EXTRA = f"""{EXTRA_TITLE}
（2024年5月8日青岛市人民政府第三十次常务会议通过）

第一条　为了支持海藻生物产业发展，结合本市实际，制定本办法。
第二条　对新认定的海藻生物灯塔工厂，市财政给予一次性奖励二百万元。
第三条　本办法自发布之日起施行。
"""
EXTRA_QUESTION = "新认定的海藻生物灯塔工厂能拿到多少奖励？"


def _env(kb_dir: Path, sources: list[Path], chroma_url: str, embed_cache: Path, **extra: str) -> dict:
    return dict(os.environ, KB_DIR=str(kb_dir), KB_SOURCES=json.dumps([str(s) for s in sources]),
                KB_CHROMA_URL=chroma_url, KB_EMBED_CACHE=str(embed_cache), HF_HUB_OFFLINE="1", **extra)


def _ingest(env: dict, kb_dir: Path, sources: list[Path]) -> subprocess.CompletedProcess:
    args = [a for s in sources for a in ("--source", str(s))]
    return subprocess.run([sys.executable, "-m", "kb", "ingest", "--quiet", "--kb", str(kb_dir), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def _ask(url: str, question: str) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json={"question": question}, timeout=60)


def _cites_extra(url: str) -> bool:
    r = _ask(url, EXTRA_QUESTION)
    return r.status_code == 200 and any(c["doc_title"] == EXTRA_TITLE for c in r.json()["citations"][:1])


def _wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


@pytest.fixture
def app_processes(tmp_path, chroma_server, embed_cache, full_sources):
    """Two ``python -m app`` processes, own KB folders, one Chroma server; the base sources published first."""
    writer = _env(tmp_path / "ingest-kb", full_sources, chroma_server, embed_cache)
    done = _ingest(writer, tmp_path / "ingest-kb", full_sources)
    assert done.returncode == 0, done.stderr
    procs, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        env = _env(tmp_path / f"app-{name}", full_sources, chroma_server, embed_cache,
                   KB_PORT=str(port), KB_SYNC_SECONDS="0.5")
        with open(tmp_path / f"app-{name}.log", "w") as log:   # the child keeps its own copy of the handle
            procs.append(subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env,
                                          stdout=subprocess.DEVNULL, stderr=log))
        urls.append(f"http://127.0.0.1:{port}")

    def up(url: str) -> bool:
        try:
            return httpx.get(f"{url}/api/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        for url, proc in zip(urls, procs):
            assert _wait_until(lambda url=url, proc=proc: up(url) or proc.poll() is not None, 180) and \
                proc.poll() is None, (tmp_path / "app-a.log").read_text() + (tmp_path / "app-b.log").read_text()
        yield urls, writer
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        _ingest(writer, tmp_path / "ingest-kb", full_sources)   # leave the shared server as we found it


def test_an_ingest_by_a_third_process_reaches_both_apps(tmp_path, app_processes, full_sources):
    urls, writer = app_processes
    for url in urls:
        r = _ask(url, "小微企业贷款难，有什么支持？")
        assert r.status_code == 200 and not r.json()["refused"] and not r.json()["degraded"]
        assert not _cites_extra(url)

    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "haizao.txt").write_text(EXTRA, encoding="utf-8")
    statuses: list[int] = []
    stop = threading.Event()

    def keep_asking() -> None:   # the apps keep answering while the ingest runs
        while not stop.is_set():
            for url in urls:
                statuses.append(_ask(url, "政府采购给中小企业预留多少份额？").status_code)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        done = _ingest(writer, tmp_path / "ingest-kb", [*full_sources, extra])
    finally:
        finished = time.monotonic()
        stop.set()
        asker.join()
    assert done.returncode == 0, done.stderr
    assert statuses and set(statuses) == {200}

    for url in urls:
        assert _wait_until(lambda url=url: _cites_extra(url), 10), f"{url} never saw the new document"
        body = _ask(url, EXTRA_QUESTION).json()
        assert "二百万元" in body["answer"]
    # Readers look every 0.5 s (sync_seconds); 20 s leaves room for a loaded machine while still
    # failing a reader that only notices at restart.
    assert time.monotonic() - finished < 20
    generations = {httpx.get(f"{url}/api/health", timeout=10).json()["generation"] for url in urls}
    assert len(generations) == 1


def test_a_lost_chroma_server_degrades_to_keywords_and_recovers(tmp_path, embed_cache):
    server = ChromaServer(tmp_path / "chroma")
    server.start()
    try:
        settings = Settings(dir=tmp_path / "kb", sources=[PLAN_TXT], embed_cache=embed_cache,
                            chroma_url=server.url, sync_seconds=0.5)
        kb = KnowledgeBase.open(settings, progress=False)
        with BackgroundServer(create_app(kb)) as url, httpx.Client(base_url=url, timeout=60) as api:
            question = {"question": "小微企业贷款难，有什么支持？"}
            healthy = api.post("/api/ask", json=question).json()
            assert not healthy["degraded"] and healthy["citations"][0]["item"] in (7, 8)

            server.stop()
            down = api.post("/api/ask", json=question)
            assert down.status_code == 200
            body = down.json()
            assert body["degraded"] and not body["refused"] and body["citations"]
            assert any("向量数据库暂不可用" in n and "关键词" in n for n in body["notices"])
            health = api.get("/api/health")
            assert health.status_code == 503
            assert health.json()["degraded"] is True and "语义检索暂不可用" in health.json()["error"]

            server.start()   # same path, same port: the app reconnects without a restart
            assert _wait_until(lambda: not api.post("/api/ask", json=question).json()["degraded"], 20)
            back = api.get("/api/health")
            assert back.status_code == 200 and back.json()["ok"] is True
            assert api.post("/api/ask", json=question).json()["answer"] == healthy["answer"]
    finally:
        server.stop()


def test_two_processes_sharing_an_embedded_kb_folder(tmp_path, embed_cache):
    src, extra = tmp_path / "src", tmp_path / "extra"
    src.mkdir()
    extra.mkdir()
    (src / "plan.txt").write_bytes(PLAN_TXT.read_bytes())
    (extra / "haizao.txt").write_text(EXTRA, encoding="utf-8")
    kb_dir = tmp_path / "kb"
    reader = KnowledgeBase.open(Settings(dir=kb_dir, sources=[src], embed_cache=embed_cache, sync_seconds=0.2),
                                progress=False)
    assert not any(h.clause.doc_title == EXTRA_TITLE for h in reader.search(EXTRA_QUESTION))

    env = dict(os.environ, KB_EMBED_CACHE=str(embed_cache), HF_HUB_OFFLINE="1")
    env.pop("KB_CHROMA_URL", None)
    done = _ingest(env, kb_dir, [src, extra])
    assert done.returncode == 0, done.stderr

    def sees_it() -> bool:
        return any(h.clause.doc_title == EXTRA_TITLE and "dense" in h.retrievers
                   for h in reader.search(EXTRA_QUESTION))

    assert _wait_until(sees_it, 10), "the reader never took the other process's ingest (catalog, BM25 and vectors)"
    assert reader.answer(EXTRA_QUESTION).citations[0].clause.doc_title == EXTRA_TITLE
