"""Faults that must lose nothing: an ingest killed again and again, a damaged knowledge-base folder."""
from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, PLAN_TXT, ROOT, expected_unit_ids

from kb import KnowledgeBase, KnowledgeBaseNotReady, Settings
from kb.generation import verify

pytestmark = pytest.mark.integration

LAW = DATA / "law_gb18030.txt"


def _state(kb: KnowledgeBase) -> dict:
    """What a user can observe of a knowledge base: clauses, documents, vectors."""
    docs = [{k: v for k, v in vars(d).items() if k != "ingested_at"} for d in kb.documents()]
    return {"clauses": [c.to_json() for c in kb.clauses()], "documents": docs,
            "vectors": kb.vectors.ids(), "vector_count": kb.vectors.count(),
            "lexical": kb.snapshot().lexical.clause_ids}


def _kill_ingest_at(env: dict, when: str, delay: float) -> str:
    """Start ``python -m kb ingest``; SIGKILL it ``delay`` s after ``when`` ("start", the embedding bar
    appearing, or the bar reaching 100%, after which BM25, catalog and manifest are written)."""
    proc = subprocess.Popen([sys.executable, "-m", "kb", "ingest"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    marker = {"start": "", "embedding": "嵌入向量", "writing": "100%|"}[when]
    seen, deadline = "", time.monotonic() + 120
    while marker not in seen and time.monotonic() < deadline:
        char = proc.stdout.read(1)
        if not char:
            break
        seen += char
    time.sleep(delay)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return "finished first" if finished else f"killed {delay:.2f} s after {when}"


@pytest.mark.slow
def test_five_kills_then_a_clean_run_equal_a_build_from_scratch(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "plan.txt").write_bytes(PLAN_TXT.read_bytes())   # ~170 units, a fresh cache: real embedding work
    kb_dir, cache = tmp_path / "kb", tmp_path / "cache.sqlite"
    env = dict(os.environ, KB_DIR=str(kb_dir), KB_SOURCES=json.dumps([str(src)]), KB_EMBED_CACHE=str(cache))
    env.pop("KB_CHROMA_URL", None)
    rng = random.Random(20240507)
    plan = [("start", rng.uniform(0.5, 2.5)), ("embedding", rng.uniform(0.3, 3.0)),
            ("embedding", rng.uniform(0.3, 3.0)), ("writing", rng.uniform(0.0, 0.5)),
            ("writing", rng.uniform(0.0, 0.5))]
    outcomes = [_kill_ingest_at(env, when, delay) for when, delay in plan]
    print("kills:", outcomes)   # shown with pytest -s
    assert sum(o.startswith("killed") for o in outcomes) >= 4, outcomes

    survivor = KnowledgeBase.open(Settings(dir=kb_dir, sources=[src], embed_cache=cache), progress=False)
    scratch = KnowledgeBase.open(Settings(dir=tmp_path / "scratch", sources=[src], embed_cache=cache),
                                 progress=False)
    after, fresh = _state(survivor), _state(scratch)
    assert after == fresh, outcomes
    assert after["vector_count"] == len(after["vectors"]) == len(expected_unit_ids(survivor))   # no duplicates
    assert survivor.clause("第7条").item == 7 and not survivor.answer("小微企业贷款难怎么办？").refused


def _truncate_catalog(kb_dir: Path) -> None:
    data = (kb_dir / "catalog.json").read_bytes()
    (kb_dir / "catalog.json").write_bytes(data[:len(data) // 2])


def _garbage_lexical(kb_dir: Path) -> None:
    for path in (kb_dir / "lexical").rglob("*.npy"):
        path.write_bytes(os.urandom(path.stat().st_size))


def _truncate_sentence_vectors(kb_dir: Path) -> None:
    path = kb_dir / "sentences" / "vectors.npy"
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 3])


def _drop_manifest(kb_dir: Path) -> None:
    (kb_dir / "manifest.json").unlink()


def _other_collection(kb_dir: Path) -> None:
    manifest = json.loads((kb_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["collection"] = "plankb-some-other-model-u1"
    (kb_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _corrupt_chroma(kb_dir: Path) -> None:
    (kb_dir / "chroma" / "chroma.sqlite3").write_bytes(b"not a database " * 4096)


CORRUPTIONS = {"truncated catalog.json": _truncate_catalog, "garbage lexical files": _garbage_lexical,
               "truncated sentence vectors": _truncate_sentence_vectors,
               "missing manifest": _drop_manifest, "manifest of another collection": _other_collection,
               "corrupt chroma sqlite": _corrupt_chroma}


def test_a_folder_written_by_an_older_version_is_rebuilt_with_the_documents_dates(built_kb, tmp_path, embed_cache):
    """A folder from before document dates were read (manifest format 2, no dates in the catalog)
    would serve every document as 现行有效 for ever: at start it is rebuilt from the same sources."""
    src, original, state = built_kb
    kb_dir = tmp_path / "kb"
    shutil.copytree(original, kb_dir)
    catalog = json.loads((kb_dir / "catalog.json").read_text(encoding="utf-8"))
    for doc in catalog["documents"]:
        doc.pop("dates", None)
        doc.pop("meta_stamp", None)
    (kb_dir / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    manifest = json.loads((kb_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 2
    (kb_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert "旧版本" in verify(kb_dir)[1]

    kb = KnowledgeBase.open(Settings(dir=kb_dir, sources=[src], embed_cache=embed_cache), progress=False)
    assert _state(kb) == state
    [doc] = kb.documents(as_of="2026-12-01")
    assert doc.dates.effective_from == "2023-06-01"


@pytest.fixture(scope="module")
def built_kb(tmp_path_factory, embed_cache) -> tuple[Path, Path, dict]:
    src = tmp_path_factory.mktemp("src")
    (src / "law.txt").write_bytes(LAW.read_bytes())
    kb_dir = tmp_path_factory.mktemp("kb") / "kb"
    kb = KnowledgeBase.open(Settings(dir=kb_dir, sources=[src], embed_cache=embed_cache), progress=False)
    state = _state(kb)
    kb.close()
    return src, kb_dir, state


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_a_damaged_folder_is_detected_at_start_and_rebuilt(kind, built_kb, tmp_path, embed_cache, caplog):
    src, original, state = built_kb
    kb_dir = tmp_path / "kb"
    shutil.copytree(original, kb_dir)
    CORRUPTIONS[kind](kb_dir)
    settings = Settings(dir=kb_dir, sources=[src], embed_cache=embed_cache)

    # Never silently used: without a rebuild a damaged folder is refused with a clear message, and
    # a damaged vector database answers from keywords alone, flagged, saying what repairs it.
    if kind == "corrupt chroma sqlite":
        degraded = KnowledgeBase(settings).answer("小微企业服务")
        assert degraded.degraded and any("向量数据库" in n and "python -m kb ingest" in n for n in degraded.notices)
    else:
        with pytest.raises(KnowledgeBaseNotReady, match="python -m kb ingest"):
            KnowledgeBase(settings).answer("小微企业服务")

    with caplog.at_level(logging.WARNING, logger="kb"):
        kb = KnowledgeBase.open(settings, progress=False)
    assert any("损坏" in r.getMessage() and "重建" in r.getMessage() for r in caplog.records), caplog.text
    assert _state(kb) == state
    assert verify(kb_dir, kb.vectors.name)[1] is None
    assert kb.clause("第三条").article == 3 and not kb.answer("小微企业服务").refused
