"""The knowledge-base contract, run against embedded Chroma and a real `chroma run` server alike."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PLAN_TITLE, ROOT, needs_related

from kb import KnowledgeBase, Settings
from kb.model import REFUSAL
from kb.vectors import VectorStoreUnavailable

pytestmark = pytest.mark.integration

CITATION_FIELDS = {"doc_title", "chapter", "section", "item", "box", "article", "label", "page", "score", "text"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", params=["embedded", "server"])
def backend_kb(request, tmp_path_factory, embed_cache, full_sources, kb):
    if request.param == "embedded":
        return kb
    url = request.getfixturevalue("chroma_server")
    settings = Settings(dir=tmp_path_factory.mktemp("kb-server"), sources=full_sources,
                        embed_cache=embed_cache, chroma_url=url)
    return KnowledgeBase.open(settings, progress=False)


class TestContract:
    def test_answer_json_contract(self, backend_kb):
        data = backend_kb.answer("小微企业贷款难，有什么支持？").to_json()
        assert {"question", "answer", "refused", "citations", "latency_ms"} <= set(data)
        assert data["refused"] is False and len(data["citations"]) >= 5
        for c in data["citations"]:
            assert CITATION_FIELDS <= set(c)
        scores = [c["score"] for c in data["citations"]]
        assert scores == sorted(scores, reverse=True)
        assert "[1]" in data["answer"]

    def test_financing_question_cites_the_financing_item(self, backend_kb):
        ans = backend_kb.answer("小微企业贷款难，有什么支持？")
        top = ans.citations[0].clause
        assert top.doc_title == PLAN_TITLE and top.item in (7, 8)

    def test_numbers_in_the_answer_are_verbatim_from_the_cited_clause(self, backend_kb):
        ans = backend_kb.answer("我想开个小公司，办执照要多久？")
        assert "0.5个工作日" in ans.text
        assert ans.citations[0].clause.item == 1
        for sentence in ans.citations[0].supporting:
            assert sentence in ans.citations[0].clause.text

    def test_reference_lookup(self, backend_kb):
        assert backend_kb.clause("专栏5").box == 5
        assert backend_kb.clause("第三章第五节第43条").item == 43
        ans = backend_kb.answer("第7条")
        assert ans.citations[0].clause.id == "plan/ch3/s1/item7" and "贴息" in ans.text

    def test_out_of_domain_question_is_refused_with_nearest_clauses(self, backend_kb):
        ans = backend_kb.answer("红烧肉怎么做才好吃？")
        assert ans.refused and REFUSAL in ans.text and len(ans.citations) >= 5
        assert "红烧肉" in ans.text   # the refusal says what the documents do not hold

    def test_english_question(self, backend_kb):
        ans = backend_kb.answer("How many 5G base stations will be built in the urban area?")
        assert not ans.refused and any(c.clause.item == 28 for c in ans.citations[:3])

    def test_follow_up_uses_the_conversation(self, backend_kb):
        history = [{"role": "user", "content": "政府采购要给中小企业预留多少份额？"},
                   {"role": "assistant", "content": "预留该部分采购项目预算总额的30%以上专门面向中小企业采购。[1]"}]
        ans = backend_kb.answer("那小微企业呢？", history=history)
        # Plan item 2 and the SME law's 第四十条 both set the micro-enterprise share.
        assert {c.clause.id for c in ans.citations[:2]} & {"plan/ch3/s1/item2", "中小企业促进法/art40"}
        assert "60%" in ans.text or "百分之六十" in ans.text

    def test_search_finds_every_clause_that_mentions_a_term(self, backend_kb):
        hits = backend_kb.search("专精特新")
        keyword = [h for h in hits if "keyword" in h.retrievers]
        assert len(keyword) >= 5 and all("专精特新" in h.clause.text + h.clause.title for h in keyword)
        only_plan = backend_kb.search("专精特新", {"doc_title": PLAN_TITLE})
        assert only_plan and all(h.clause.doc_title == PLAN_TITLE for h in only_plan)

    def test_health(self, backend_kb):
        info = backend_kb.health()
        assert info["ok"] and info["clauses"] > 80 and info["vectors"] >= info["clauses"]


@pytest.mark.parametrize("question,message", [
    ("", "请输入"), ("   \n\t ", "请输入"), ("😀😀🎉", "没有识别到文字"),
])
def test_empty_and_meaningless_questions_get_a_clear_message(kb, question, message):
    ans = kb.answer(question)
    assert ans.refused and message in ans.text


def test_huge_question_is_cut_with_a_notice(kb):
    ans = kb.answer("小微企业贷款难，有什么支持？" * 1500)   # 21,000 characters
    assert any("问题过长" in n for n in ans.notices)
    assert not ans.refused and ans.citations


@needs_related
def test_law_question_cites_the_law(kb):
    ans = kb.answer("大企业拖欠我们货款，合同没写付款期限，法律上应该多少天内付？")
    assert ans.citations[0].clause.doc_title == "保障中小企业款项支付条例"


def test_unreachable_chroma_server_gives_a_clear_message(tmp_path, embed_cache, full_sources):
    settings = Settings(dir=tmp_path, sources=full_sources, embed_cache=embed_cache,
                        chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(VectorStoreUnavailable) as err:
        KnowledgeBase.open(settings, progress=False)
    message = str(err.value)   # what the person at the terminal reads: which server, and what to do
    assert settings.chroma_url in message and "chroma run" in message and "KB_CHROMA_URL" in message


def _cli(*args: str, stdin: str | None = None, kb_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kb", *args, "--kb", str(kb_dir)], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_cli_ask_json_and_stdin(kb):
    kb_dir = kb.settings.dir
    out = _cli("ask", "--json", "专栏5", kb_dir=kb_dir)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["citations"][0]["box"] == 5 and data["refused"] is False
    out = _cli("ask", "--json", "-", stdin="第7条\n\n红烧肉怎么做？\n", kb_dir=kb_dir)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["refused"] for r in rows] == [False, True]
    human = _cli("ask", "政府采购给中小企业预留多少？", kb_dir=kb_dir)
    assert "来源" in human.stdout and "《" in human.stdout and "Traceback" not in human.stderr


def test_cli_without_a_knowledge_base_says_how_to_build_one(tmp_path):
    out = subprocess.run([sys.executable, "-c", "from kb import KnowledgeBase, Settings;"
                          f"KnowledgeBase(Settings(dir=r'{tmp_path}')).answer('第7条')"],
                         capture_output=True, text=True, cwd=ROOT)
    assert "python -m kb ingest" in out.stderr


def test_follow_up_continues_where_the_previous_answer_came_from(kb):
    """「那大型企业呢？」 after the payment deadline of 机关、事业单位 asks about the same article's next rule."""
    first_q = "机关事业单位从中小企业采购，货款最晚多久要付？"
    first = kb.answer(first_q)
    history = [{"role": "user", "content": first_q}, {"role": "assistant", "content": first.text}]
    follow = kb.answer("那大型企业呢？", history=history)
    assert follow.citations[0].clause.id == first.citations[0].clause.id
    assert "大型企业" in follow.text


@pytest.mark.parametrize("question", ["明天青岛天气怎么样？", "今天股市怎么样", "青岛哪家海鲜馆子好吃？"])
def test_a_place_name_alone_does_not_make_a_question_answerable(kb, question):
    ans = kb.answer(question)
    assert ans.refused and REFUSAL in ans.text


@pytest.mark.parametrize("question", ["借钱太难了", "青岛对小微企业贷款有啥支持？"])
def test_colloquial_questions_with_implied_terms_are_answered(kb, question):
    assert not kb.answer(question).refused
