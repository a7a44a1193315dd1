"""A knowledge base remembers its sources: readers never add or remove a document, only ``kb ingest`` does.

Everything runs as a user would: ``python -m kb`` in a subprocess, on a real embedded Chroma and
the real model (texts embedded once through the session's cache), with the project's default
sources in the environment, so a reader that fell back to them would drop the extra documents.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import DATA, ROOT

from app.server import BackgroundServer, create_app
from kb import KnowledgeBase, Settings

pytestmark = pytest.mark.integration

LAW_TITLE = "某市小微企业服务促进条例（测试）"
LAW_QUESTION = "某市小微企业服务促进条例第四条规定综合服务平台提供哪些服务？"


def _env(embed_cache: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}   # the defaults, as a user has
    return env | {"KB_EMBED_CACHE": str(embed_cache), "HF_HUB_OFFLINE": "1", **extra}


def kb_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kb", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def _titles(kb_dir: Path, embed_cache: Path) -> set[str]:
    return {d.title for d in KnowledgeBase(Settings(dir=kb_dir, embed_cache=embed_cache)).documents()}


@pytest.fixture
def corpus(tmp_path) -> tuple[Path, Path]:
    """``base`` holds an excerpt of the plan; ``extra`` a GB18030 law the defaults do not have."""
    base, extra = tmp_path / "base", tmp_path / "more_laws"
    base.mkdir()
    extra.mkdir()
    shutil.copy(DATA / "plan_excerpt.txt", base / "plan_excerpt.txt")
    shutil.copy(DATA / "law_gb18030.txt", extra / "law_gb18030.txt")
    return base, extra


@pytest.fixture
def built(tmp_path, corpus, embed_cache) -> tuple[Path, dict]:
    base, extra = corpus
    kb_dir, env = tmp_path / "kb_extra", _env(embed_cache)
    done = kb_cli("ingest", "--quiet", "--source", str(base), "--source", str(extra), "--kb", str(kb_dir), env=env)
    assert done.returncode == 0, done.stderr
    assert "新知识库" in done.stdout and "law_gb18030.txt" in done.stdout   # the plan came first
    assert LAW_TITLE in _titles(kb_dir, embed_cache)
    return kb_dir, env


def _asks_the_law(kb_dir: Path, env: dict) -> dict:
    out = kb_cli("ask", "--kb", str(kb_dir), "--json", LAW_QUESTION, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_extra_sources_survive_ask_app_start_and_a_bare_ingest(built, embed_cache):
    kb_dir, env = built
    before = _titles(kb_dir, embed_cache)

    answer = _asks_the_law(kb_dir, env)
    assert answer["citations"][0]["doc_title"] == LAW_TITLE and not answer["refused"]
    assert _titles(kb_dir, embed_cache) == before

    app_kb = KnowledgeBase.open(Settings(dir=kb_dir, embed_cache=embed_cache), progress=False)   # as python -m app
    with BackgroundServer(create_app(app_kb)) as url:
        health = httpx.get(f"{url}/api/health", timeout=60).json()
        asked = httpx.post(f"{url}/api/ask", json={"question": LAW_QUESTION}, timeout=60).json()
    assert health["documents"] == len(before) and asked["citations"][0]["doc_title"] == LAW_TITLE

    bare = kb_cli("ingest", "--quiet", "--kb", str(kb_dir), env=env)
    assert bare.returncode == 0, bare.stderr
    assert "保留 keep" in bare.stdout and "删除 remove 0" in bare.stdout
    assert _titles(kb_dir, embed_cache) == before
    assert _asks_the_law(kb_dir, env)["citations"][0]["doc_title"] == LAW_TITLE


def test_source_replacement_prints_its_plan_and_dry_run_changes_nothing(built, corpus, embed_cache):
    kb_dir, env = built
    base, extra = corpus
    files = {p: p.read_bytes() for p in (kb_dir / "manifest.json", kb_dir / "catalog.json")}

    dry = kb_cli("ingest", "--dry-run", "--source", str(base), "--kb", str(kb_dir), env=env)
    assert dry.returncode == 0, dry.stderr
    assert f"移除 remove {extra}" in dry.stdout and "删除 remove: law_gb18030.txt" in dry.stdout
    assert "没有做任何改动" in dry.stdout
    assert all(p.read_bytes() == data for p, data in files.items())
    assert LAW_TITLE in _titles(kb_dir, embed_cache)

    typo = kb_cli("ingest", "--source", str(base), "--source", str(base.parent / "no_such_folder"),
                  "--kb", str(kb_dir), env=env)
    assert typo.returncode == 2 and "不存在" in typo.stderr and "没有做任何改动" in typo.stderr
    assert all(p.read_bytes() == data for p, data in files.items())

    replaced = kb_cli("ingest", "--quiet", "--source", str(base), "--kb", str(kb_dir), env=env)
    assert replaced.returncode == 0, replaced.stderr
    lines = replaced.stdout.splitlines()
    assert any("保留 keep" in line and line.endswith(f"{base}（1 个文件 files）") for line in lines), lines
    assert any(f"移除 remove {extra}" in line for line in lines), lines
    assert LAW_TITLE not in _titles(kb_dir, embed_cache)
    listed = json.loads(kb_cli("sources", "--json", "--kb", str(kb_dir), env=env).stdout)
    assert listed["sources"] == [str(base)]


def test_kb_sources_lists_present_changed_missing_and_new(built, corpus, embed_cache):
    kb_dir, env = built
    base, extra = corpus
    (base / "plan_excerpt.txt").write_text((DATA / "plan_excerpt.txt").read_text(encoding="utf-8") + "\n补充一段。\n",
                                           encoding="utf-8")
    (extra / "law_gb18030.txt").unlink()
    shutil.copy(DATA / "law_big5.txt", extra / "law_big5.txt")

    out = kb_cli("sources", "--json", "--kb", str(kb_dir), env=env)
    assert out.returncode == 0, out.stderr
    states = {Path(f["path"]).name: f["state"] for r in json.loads(out.stdout)["roots"] for f in r["files"]}
    assert states == {"plan_excerpt.txt": "changed", "law_gb18030.txt": "missing", "law_big5.txt": "new"}
    human = kb_cli("sources", "--kb", str(kb_dir), env=env).stdout
    assert "导入后已修改" in human and "磁盘上已不存在" in human and "新文件" in human


def test_a_deleted_source_file_keeps_serving_until_an_ingest_removes_it(built, corpus, embed_cache):
    kb_dir, env = built
    _, extra = corpus
    (extra / "law_gb18030.txt").unlink()

    asked = kb_cli("ask", "--kb", str(kb_dir), "--json", LAW_QUESTION, env=env)
    assert json.loads(asked.stdout)["citations"][0]["doc_title"] == LAW_TITLE
    assert "已从磁盘消失" in asked.stderr and "python -m kb ingest" in asked.stderr
    app_kb = KnowledgeBase.open(Settings(dir=kb_dir, embed_cache=embed_cache), progress=False)
    with BackgroundServer(create_app(app_kb)) as url:
        health = httpx.get(f"{url}/api/health", timeout=60).json()
    assert health["ok"] and [Path(p).name for p in health["sources"]["missing"]] == ["law_gb18030.txt"]
    assert any("已从磁盘消失" in w for w in health["warnings"])

    confirmed = kb_cli("ingest", "--quiet", "--kb", str(kb_dir), env=env)
    assert confirmed.returncode == 0, confirmed.stderr
    assert "删除 remove: law_gb18030.txt" in confirmed.stdout
    assert LAW_TITLE not in _titles(kb_dir, embed_cache)


def test_a_source_folder_missing_as_a_whole_keeps_its_documents(built, corpus, embed_cache):
    """An unmounted share or a moved folder is not a request to delete: only --source is."""
    kb_dir, env = built
    _, extra = corpus
    extra.rename(extra.with_name("moved_away"))
    bare = kb_cli("ingest", "--quiet", "--kb", str(kb_dir), env=env)
    assert bare.returncode == 0, bare.stderr
    assert "不存在" in bare.stderr and "保留" in bare.stderr
    assert LAW_TITLE in _titles(kb_dir, embed_cache)


def test_with_a_chroma_server_the_sources_travel_with_the_published_version(tmp_path, corpus, embed_cache):
    """A bare ingest from another machine's folder uses the published set, not its own defaults."""
    from chroma_proc import ChromaServer

    base, extra = corpus
    with ChromaServer(tmp_path / "chroma") as url:
        env = _env(embed_cache, KB_CHROMA_URL=url)
        first = kb_cli("ingest", "--quiet", "--source", str(base), "--source", str(extra),
                       "--kb", str(tmp_path / "writer-a"), env=env)
        assert first.returncode == 0, first.stderr
        other = kb_cli("ingest", "--quiet", "--kb", str(tmp_path / "writer-b"), env=env)
        assert other.returncode == 0, other.stderr
        assert "删除 remove 0" in other.stdout and "未变 2 个文件" in other.stdout
        listed = json.loads(kb_cli("sources", "--json", "--kb", str(tmp_path / "reader"), env=env).stdout)
        assert listed["sources"] == [str(base), str(extra)]
        reader = KnowledgeBase.open(Settings(dir=tmp_path / "reader", embed_cache=embed_cache, chroma_url=url),
                                    progress=False)
        assert not reader.answer(LAW_QUESTION).degraded
        assert LAW_TITLE in {d.title for d in reader.documents()}
