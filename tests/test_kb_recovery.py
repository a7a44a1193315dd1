"""Recovery without restarts, against a real ``chroma run`` that is stopped, started and wiped.

- apps started while the server is down: one with a cached generation serves it by keywords,
  one with nothing cached waits with a clear message; both recover by themselves;
- a server restarted empty is detected (vector count against the generation's unit count),
  answers degrade to BM25, and one ``python -m kb ingest`` republishes from the embedding cache.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from chroma_proc import ChromaServer, free_port
from conftest import DATA, ROOT

from app.server import BackgroundServer, create_app
from kb import KnowledgeBase, Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = {"question": "某市小微企业服务促进条例第四条规定综合服务平台提供哪些服务？"}


def _env(embed_cache: Path, url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    return env | {"KB_EMBED_CACHE": str(embed_cache), "KB_CHROMA_URL": url, "HF_HUB_OFFLINE": "1", **extra}


def _ingest(kb_dir: Path, env: dict, *sources: Path) -> subprocess.CompletedProcess:
    args = [a for s in sources for a in ("--source", str(s))]
    return subprocess.run([sys.executable, "-m", "kb", "ingest", "--quiet", "--kb", str(kb_dir), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def _wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def _get(url: str, path: str) -> httpx.Response | None:
    try:
        return httpx.get(f"{url}{path}", timeout=30)
    except httpx.HTTPError:
        return None


def _ask(url: str) -> dict:
    r = httpx.post(f"{url}/api/ask", json=QUESTION, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def sources(tmp_path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(DATA / "law_gb18030.txt", src / "law_gb18030.txt")
    shutil.copy(DATA / "plan_excerpt.txt", src / "plan_excerpt.txt")
    return src


class App:
    """``python -m app`` in a subprocess, its log in a file."""

    def __init__(self, kb_dir: Path, env: dict, log: Path):
        self.port, self.log = free_port(), log
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "app", "--kb", str(kb_dir), "--port", str(self.port)],
                                         cwd=ROOT, env=env | {"KB_SYNC_SECONDS": "0.5"},
                                         stdout=out, stderr=subprocess.STDOUT)

    def said(self, text: str) -> bool:
        return text in self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def test_apps_started_while_the_server_is_down_recover_by_themselves(tmp_path, sources, embed_cache):
    server = ChromaServer(tmp_path / "chroma")
    url = server.start()
    apps: list[App] = []
    try:
        env = _env(embed_cache, url)
        assert _ingest(tmp_path / "writer", env, sources).returncode == 0
        KnowledgeBase.open(Settings(dir=tmp_path / "cached", embed_cache=embed_cache, chroma_url=url),
                           progress=False).close()   # this app machine has served before: a cache
        server.stop()

        cached, empty = (App(tmp_path / "cached", env, tmp_path / "cached.log"),
                         App(tmp_path / "empty", env, tmp_path / "empty.log"))
        apps += [cached, empty]
        assert _wait_until(lambda: _get(cached.url, "/api/health") is not None, 180), cached.log.read_text()
        health = _get(cached.url, "/api/health")
        assert health.status_code == 503 and health.json()["degraded"] is True
        down = _ask(cached.url)
        assert down["degraded"] and down["citations"][0]["doc_title"] == "某市小微企业服务促进条例（测试）"
        assert any("向量数据库暂不可用" in n for n in down["notices"])

        assert _wait_until(lambda: empty.said("每 5 秒重试"), 180), empty.log.read_text()
        assert empty.proc.poll() is None and _get(empty.url, "/api/health") is None   # waiting, not failed

        server.start()   # same path and port
        assert _wait_until(lambda: not _ask(cached.url)["degraded"], 30), cached.log.read_text()
        assert _get(cached.url, "/api/health").status_code == 200
        assert _wait_until(lambda: (r := _get(empty.url, "/api/health")) is not None and r.status_code == 200, 180), \
            empty.log.read_text()
        assert not _ask(empty.url)["degraded"]
    finally:
        for app in apps:
            app.stop()
        server.stop()


def test_a_server_restarted_empty_is_detected_and_one_ingest_restores_it(tmp_path, sources, embed_cache):
    server = ChromaServer(tmp_path / "chroma")
    url = server.start()
    try:
        env = _env(embed_cache, url)
        assert _ingest(tmp_path / "writer", env, sources).returncode == 0
        reader = KnowledgeBase.open(Settings(dir=tmp_path / "reader", embed_cache=embed_cache, chroma_url=url,
                                             sync_seconds=0.3), progress=False)
        with BackgroundServer(create_app(reader)) as app:
            healthy = _ask(app)
            assert not healthy["degraded"]

            server.stop()
            shutil.rmtree(tmp_path / "chroma")   # the server's data is gone
            server.start()

            def says_so() -> bool:
                r = _get(app, "/api/health")
                return r.status_code == 503 and "只有 0 个向量" in (r.json()["error"] or "")
            assert _wait_until(says_so, 30), _get(app, "/api/health").json()
            assert "python -m kb ingest" in _get(app, "/api/health").json()["error"]
            degraded = _ask(app)
            assert degraded["degraded"] and degraded["citations"] and not degraded["refused"]
            assert any("python -m kb ingest" in n for n in degraded["notices"])

            again = _ingest(tmp_path / "writer", env)   # the remembered sources, vectors from the cache
            assert again.returncode == 0, again.stderr
            assert "嵌入 0 段" in again.stdout
            assert _wait_until(lambda: _get(app, "/api/health").status_code == 200, 30)
            restored = _ask(app)
            assert not restored["degraded"] and restored["answer"] == healthy["answer"]
    finally:
        server.stop()
