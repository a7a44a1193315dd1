"""Validity end to end on a real knowledge base: ``python -m kb ask --kb DIR --json`` with KB_TODAY,
``--as-of``, ``as_of`` in POST /api/ask, and a knowledge base holding two versions of one regulation."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.server import BackgroundServer, create_app
from conftest import PLAN_TITLE, needs_related
from ingest.sources import PROJECT_SOURCES, SHARED_RELATED
from kb import KnowledgeBase, Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow, needs_related]
ROOT = Path(__file__).resolve().parents[1]
PAYMENT = "保障中小企业款项支付条例"


def older_payment_regulation(folder: Path) -> Path:
    """The 2020 text, made here from the real 2025 one (never committed): no 2025 revision line,
    in force from 2020-09-01."""
    text = (SHARED_RELATED / f"{PAYMENT}(2025修订).md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "2025年3月17日" not in line]
    path = folder / f"{PAYMENT}(2020).md"
    path.write_text("\n".join(lines).replace("本条例自2025年6月1日起施行", "本条例自2020年9月1日起施行"),
                    encoding="utf-8")
    return path


def ask(kb_dir: Path, question: str, today: str | None = None, *flags: str) -> dict:
    """What the outside check runs: ``python -m kb ask --kb DIR --json`` (KB_TODAY set or not)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_") or k == "KB_EMBED_CACHE"}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", **({"KB_TODAY": today} if today else {}))
    out = subprocess.run([sys.executable, "-m", "kb", "ask", "--kb", str(kb_dir), "--json", *flags, question],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def kb_dir(kb) -> Path:
    return kb.settings.dir


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory, embed_cache) -> Path:
    """A KB folder built by ``python -m kb ingest`` with the older text added by ``--source``."""
    older = tmp_path_factory.mktemp("older")
    older_payment_regulation(older)
    kb_dir = tmp_path_factory.mktemp("kb-two-versions")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "KB_EMBED_CACHE": str(embed_cache)}
    subprocess.run([sys.executable, "-m", "kb", "ingest", "--kb", str(kb_dir), "--quiet", "--source", str(PROJECT_SOURCES),
                    "--source", str(SHARED_RELATED), "--source", str(older)], check=True, env=env, cwd=ROOT, timeout=600)
    return kb_dir


def test_on_2026_12_01_the_plan_is_expired_and_its_answer_names_the_period(kb_dir):
    body = ask(kb_dir, "小微企业贷款难，规划有哪些融资支持？", "2026-12-01")
    plan = [c for c in body["citations"] if c["doc_title"] == PLAN_TITLE]
    assert plan and all(c["status"] == "expired" and c["status_label"] == "规划期已届满" for c in plan)
    assert plan[0]["effective_from"] == "2021-01-01" and plan[0]["effective_until"] == "2025-12-31"
    [notice] = [n for n in body["notices"] if "规划期" in n]
    assert "2021—2025年" in notice and body["as_of"] == "2026-12-01"


def test_on_2024_01_01_the_plan_is_in_force_and_carries_no_notice(kb_dir):
    body = ask(kb_dir, "小微企业贷款难，规划有哪些融资支持？", "2024-01-01")
    assert {c["status"] for c in body["citations"] if c["doc_title"] == PLAN_TITLE} == {"in_force"}
    assert not [n for n in body["notices"] if "规划期" in n]


def test_as_of_2024_the_payment_regulation_is_not_yet_in_force_and_its_date_is_in_the_answer(kb_dir):
    body = ask(kb_dir, "款项支付条例什么时候开始施行？", "2024-01-01")
    first = body["citations"][0]
    assert first["doc_title"] == PAYMENT and first["status"] == "not_yet_in_force"
    assert first["effective_from"] == "2025-06-01" and first["id"] == f"{PAYMENT}/art37"
    assert "2025年6月1日" in body["answer"] and "尚未施行" in body["answer"] and not body["refused"]


def test_as_of_on_the_command_line_overrides_kb_today(kb_dir):
    body = ask(kb_dir, "款项支付条例什么时候开始施行？", "2024-01-01", "--as-of", "2026-12-01")
    assert body["citations"][0]["status"] == "in_force" and "现行有效" in body["answer"]


@pytest.mark.parametrize("question, says, cited", [
    ("这个规划现在还有效吗？", "规划期已届满", PLAN_TITLE),
    ("中小企业促进法最近一次修订是哪一年？", "2017年", "中华人民共和国中小企业促进法"),
    ("现在有效的文件有哪些？", "现行有效", "中华人民共和国中小企业促进法"),
])
def test_validity_questions_are_answered_and_cited_to_the_document(kb, question, says, cited):
    answer = kb.answer(question, as_of="2026-12-01")
    assert not answer.refused and answer.mode == "metadata" and says in answer.text
    assert answer.citations[0].clause.doc_title == cited and "[1]" in answer.text


def test_a_bad_as_of_is_refused_with_a_message_before_anything_runs(kb_dir):
    out = subprocess.run([sys.executable, "-m", "kb", "ask", "--kb", str(kb_dir), "--as-of", "2024-02-30", "问题"],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 2 and "YYYY-MM-DD" in out.stderr and "参考日期" in out.stderr


def test_post_api_ask_takes_as_of(kb):
    with BackgroundServer(create_app(kb)) as url, httpx.Client(base_url=url, timeout=60) as client:
        r = client.post("/api/ask", json={"question": "款项支付条例什么时候开始施行？", "as_of": "2024-01-01"})
        assert r.status_code == 200, r.text
        assert r.json()["citations"][0]["status"] == "not_yet_in_force" and r.json()["as_of"] == "2024-01-01"
        bad = client.post("/api/ask", json={"question": "款项支付条例什么时候开始施行？", "as_of": "明年"})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("as_of: 参考日期「明年」无效")


def test_with_an_older_version_added_the_version_in_force_from_2025_06_01_is_first(two_versions):
    body = ask(two_versions, "机关、事业单位从中小企业采购，付款期限有什么规定？", "2026-12-01")
    payment = [c for c in body["citations"] if c["doc_title"] == PAYMENT]
    assert body["citations"][0] == payment[0]
    assert payment[0]["effective_from"] == "2025-06-01" and payment[0]["status"] == "in_force"
    assert payment[0]["version"] == "2025年修订"
    older = [c for c in payment if c["effective_from"] == "2020-09-01"]
    assert older and all(c["status"] == "superseded" and "（2020年公布版，已被修订）" in c["label"] for c in older)
    positions = {c["effective_from"]: i for i, c in reversed(list(enumerate(payment)))}
    assert positions["2025-06-01"] < positions["2020-09-01"]


def test_before_the_revision_took_effect_the_older_version_is_the_one_in_force(two_versions):
    body = ask(two_versions, "款项支付条例什么时候开始施行？", "2024-01-01")
    first, second = body["citations"][:2]
    assert (first["effective_from"], first["status"]) == ("2020-09-01", "in_force")
    assert (second["effective_from"], second["status"]) == ("2025-06-01", "not_yet_in_force")
    assert body["answer"].index("2020年9月1日") < body["answer"].index("2025年6月1日")


def test_the_ask_command_keeps_the_version_an_earlier_ingest_added(two_versions):
    """``ask`` without --source must not drop what ``ingest --source`` put in the folder."""
    ask(two_versions, "款项支付条例什么时候开始施行？")
    titles = [d["title"] for d in json.loads((two_versions / "catalog.json").read_text(encoding="utf-8"))["documents"]]
    assert titles.count(PAYMENT) == 2 and len(titles) == len(set(titles)) + 1   # nothing else doubled


def test_a_folder_built_from_a_copy_of_the_sources_is_not_mixed_with_the_default_ones(tmp_path, embed_cache):
    copy = tmp_path / "sources"
    copy.mkdir()
    for f in [*PROJECT_SOURCES.glob("*.txt"), *SHARED_RELATED.glob("*.md")]:
        (copy / f.name).write_bytes(f.read_bytes())
    older_payment_regulation(copy)
    kb_dir = tmp_path / "kb"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "KB_EMBED_CACHE": str(embed_cache)}
    subprocess.run([sys.executable, "-m", "kb", "ingest", "--kb", str(kb_dir), "--quiet", "--source", str(copy)],
                   check=True, env=env, cwd=ROOT, timeout=600)
    body = ask(kb_dir, "款项支付条例什么时候开始施行？", "2026-12-01")
    assert [c["effective_from"] for c in body["citations"]] == ["2025-06-01", "2020-09-01"]
    documents = json.loads((kb_dir / "catalog.json").read_text(encoding="utf-8"))["documents"]
    assert len(documents) == 7 and all(d["source"].startswith(str(copy)) for d in documents)


def test_only_in_force_search_leaves_out_the_superseded_version(two_versions, embed_cache):
    kb = KnowledgeBase.open(Settings(dir=two_versions, embed_cache=embed_cache, today="2026-12-01"), progress=False)
    hits = kb.search("不得无预算、超预算开展采购", {"doc_title": PAYMENT}, top_k=10)
    versions = {kb.standing(h.clause).effective_from for h in hits}
    assert versions == {"2020-09-01", "2025-06-01"}
    current = kb.search("不得无预算、超预算开展采购", {"doc_title": PAYMENT, "in_force": True}, top_k=10)
    assert current and {kb.standing(h.clause).status for h in current} == {"in_force"}
    [old] = [d for d in kb.documents() if d.title == PAYMENT and d.standing.status == "superseded"]
    assert old.dates.effective_from == "2020-09-01" and old.key == f"{PAYMENT}（2020年公布）"


def test_a_sidecar_added_later_is_read_by_the_next_ingest(tmp_path, embed_cache):
    """Only the sidecar changed, not the document: the next ingest still re-reads its dates."""
    folder = tmp_path / "sources"
    folder.mkdir()
    law = folder / "优化营商环境条例(2019).md"
    law.write_bytes((SHARED_RELATED / law.name).read_bytes())
    kb = KnowledgeBase(Settings(dir=tmp_path / "kb", sources=[folder], embed_cache=embed_cache, today="2026-12-01"))
    kb.ingest(progress=False)
    assert [d.standing.status for d in kb.documents()] == ["in_force"]
    (folder / f"{law.name}.meta.toml").write_text("repealed_on = 2026-01-01\n", encoding="utf-8")
    report = kb.ingest(progress=False)
    assert report.changed == [law.name]
    [doc] = kb.documents()
    assert (doc.standing.status, doc.dates.sidecar) == ("repealed", f"{law.name}.meta.toml")
