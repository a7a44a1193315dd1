"""Each metric of the harness on hand-made cases: ties, empty results, duplicates, no markers, refusals."""
import pytest

from eval.metrics import (
    Case,
    answer_sentences,
    citation_precision,
    citation_recall,
    cited_markers,
    fact_recall,
    faithfulness,
    false_refusal_rate,
    hit_at_k,
    latency,
    mrr,
    percentile,
    refusal_accuracy,
)
from eval.targets import rank_matches, ref_of_citation, target_matches

pytestmark = pytest.mark.unit

ITEM7 = {"doc": "规划", "item": 7}
ART40 = {"doc": "中小企业促进法", "article": 40}
TEXT7 = "加大财政贴息力度，对符合条件的小微企业贷款给予贴息。支持政府性融资担保机构扩大业务。"
TEXT40 = "政府采购应当预留本部门年度政府采购项目预算总额的百分之三十以上，专门面向中小企业采购。"


def ref(doc="规划", marker=None, text="", id=None, score=0.5, **fields):
    fields.setdefault("item", None)
    r = {"doc": doc, "marker": marker, "text": text, "score": score,
         "id": id or f"{doc}/{'-'.join(f'{k}{v}' for k, v in sorted(fields.items()))}"}
    for f in ("chapter", "section", "item", "box", "article"):
        r.setdefault(f, fields.get(f))
    return r


def case(id="q1", type="factoid", expect=(ITEM7,), refs=(), answer="", refused=False, facts=(), **kw):
    return Case(id=id, type=type, expect=tuple(expect), refs=tuple(refs), answer=answer, refused=refused,
                facts=tuple(facts), **kw)


# --- matching ---------------------------------------------------------------------------------

def test_target_needs_same_document_by_equality_not_substring():
    assert target_matches({"doc": "优化营商环境条例", "article": 5}, ref("优化营商环境条例", article=5))
    assert not target_matches({"doc": "优化营商环境条例", "article": 5}, ref("青岛市优化营商环境条例", article=5))


def test_target_accepts_when_every_given_field_agrees():
    in_section = ref(chapter=2, section=3, item=None)
    assert target_matches({"doc": "规划", "chapter": 2, "section": 3}, in_section)
    assert not target_matches({"doc": "规划", "chapter": 2, "section": 2}, in_section)
    assert not target_matches(ITEM7, ref(item=8))
    assert not target_matches(ITEM7, ref(box=7))


def test_ref_of_citation_uses_short_titles():
    cit = {"doc_title": "中华人民共和国中小企业促进法", "article": 40, "marker": 1, "id": "中小企业促进法/art40"}
    assert target_matches(ART40, ref_of_citation(cit))
    plan = {"doc_title": "青岛市“十四五”民营经济和中小企业发展规划", "item": 7, "id": "plan/ch3/s1/item7"}
    assert target_matches(ITEM7, ref_of_citation(plan))


def test_duplicate_citations_count_once_in_ranking():
    refs = [ref(item=3, id="a"), ref(item=3, id="a"), ref(item=7, id="b")]
    assert rank_matches(refs, [ITEM7]) == [False, True]


# --- hit@k and MRR ----------------------------------------------------------------------------

def test_hit_at_k_and_mrr_by_rank():
    cases = [case("q1", refs=[ref(item=7)]),
             case("q2", refs=[ref(item=1, id="x"), ref(item=2, id="y"), ref(item=7, id="z")]),
             case("q3", refs=[ref(item=1, id="x")])]
    assert hit_at_k(cases, 1)["score"] == pytest.approx(1 / 3)
    assert hit_at_k(cases, 3)["score"] == pytest.approx(2 / 3)
    assert [r["rank"] for r in hit_at_k(cases, 5)["per_question"]] == [1, 3, None]
    assert mrr(cases)["score"] == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_ties_keep_the_order_the_retriever_gave():
    tied = case(refs=[ref(item=1, id="x", score=0.8), ref(item=7, id="y", score=0.8)])
    assert hit_at_k([tied], 1)["score"] == 0.0
    assert mrr([tied])["score"] == 0.5


def test_empty_results_score_zero_and_no_questions_score_none():
    assert hit_at_k([case(refs=[])], 5)["score"] == 0.0
    assert mrr([case(refs=[])])["score"] == 0.0
    assert hit_at_k([], 1) == {"score": None, "per_question": []}


def test_unanswerable_and_skipped_questions_are_not_in_retrieval_metrics():
    cases = [case("q1", refs=[ref(item=7)]), case("q2", type="unanswerable", expect=()),
             case("q3", refs=[], skipped=True)]
    result = hit_at_k(cases, 1)
    assert [r["id"] for r in result["per_question"]] == ["q1"] and result["score"] == 1.0


def test_any_target_counts_for_hits():
    c = case(expect=(ITEM7, ART40), refs=[ref("中小企业促进法", article=40)])
    assert hit_at_k([c], 1)["score"] == 1.0


def test_precomputed_ranks_replace_refs():
    c = case(ranks=(False, False, True))
    assert hit_at_k([c], 3)["score"] == 1.0 and mrr([c])["score"] == pytest.approx(1 / 3)


# --- citation precision / recall --------------------------------------------------------------

def test_cited_markers_reads_single_and_grouped_markers():
    assert cited_markers("甲[2]。乙[1,3]，丙[2]") == [2, 1, 3]
    assert cited_markers("没有标记") == []


def test_citation_precision_counts_only_cited_sources():
    refs = [ref(item=7, marker=1, id="a"), ref(item=2, marker=2, id="b"), ref(item=9, marker=3, id="c")]
    c = case(refs=refs, answer="贴息[1]。采购[2]。")
    row = citation_precision([c])["per_question"][0]
    assert row["value"] == 0.5 and row["cited"] == 2


def test_citation_precision_duplicates_count_once():
    refs = [ref(item=7, marker=1, id="a"), ref(item=7, marker=2, id="a"), ref(item=2, marker=3, id="b")]
    c = case(refs=refs, answer="贴息[1][2]。采购[3]。")
    assert citation_precision([c])["score"] == 0.5


def test_no_markers_leaves_precision_undefined_and_recall_zero():
    c = case(refs=[ref(item=7, marker=1)], answer="贴息。")
    p = citation_precision([c])
    assert p["score"] is None and p["per_question"][0]["note"]
    assert citation_recall([c])["score"] == 0.0


def test_refusals_are_left_out_of_precision():
    c = case(refs=[ref(item=7, marker=1)], answer="抱歉[1]", refused=True)
    assert citation_precision([c])["per_question"] == []


def test_citation_recall_multi_needs_every_target_others_any():
    refs = [ref(item=7, marker=1, id="a"), ref("中小企业促进法", article=40, marker=2, id="b")]
    multi = case(type="multi", expect=(ITEM7, ART40), refs=refs, answer="贴息[1]。")
    either = case(type="factoid", expect=(ITEM7, ART40), refs=refs, answer="贴息[1]。")
    assert citation_recall([multi])["score"] == 0.5
    assert citation_recall([either])["score"] == 1.0


# --- facts and faithfulness -------------------------------------------------------------------

def test_fact_recall_is_verbatim_modulo_whitespace():
    c = case(facts=("贴息", "融资 担保", "50%"), answer="给予贴息[1]，支持融资\n担保[1]。")
    row = fact_recall([c])["per_question"][0]
    assert row["value"] == pytest.approx(2 / 3) and row["missing"] == ["50%"]


def test_fact_recall_of_a_refusal_is_zero():
    c = case(facts=("贴息",), answer="抱歉，现有文件中没有找到与该问题直接相关的规定。", refused=True)
    assert fact_recall([c])["score"] == 0.0


def test_answer_sentences_strip_markers_and_bullets():
    assert answer_sentences("- 加大财政贴息力度[1]。\n2. 支持担保[2]；") == [
        ("加大财政贴息力度", [1]), ("支持担保", [2])]


def test_markers_after_the_full_stop_belong_to_the_sentence_before():
    assert answer_sentences("加大贴息力度。[1]\n支持担保。[2][3]") == [("加大贴息力度", [1]), ("支持担保", [2, 3])]


def test_a_lead_in_and_its_list_item_are_checked_separately():
    law = "有下列情形之一的，依法追究责任：（一）拖延验收；（二）要求施工单位垫资建设。"
    refs = [ref("保障中小企业款项支付条例", marker=1, text=law, article=30, id="a")]
    spliced = case(expect=({"doc": "保障中小企业款项支付条例", "article": 30},), refs=refs,
                   answer="有下列情形之一的，依法追究责任：（二）要求施工单位垫资建设。[1]")
    glued = case(expect=spliced.expect, refs=refs, answer="拖延验收要求施工单位垫资建设。[1]")
    assert [r["value"] for r in faithfulness([spliced, glued])["per_question"]] == [1.0, 0.0]


def test_faithful_when_every_sentence_is_in_its_cited_clause():
    refs = [ref(item=7, marker=1, text=TEXT7, id="a"), ref("中小企业促进法", article=40, marker=2, text=TEXT40, id="b")]
    good = case(refs=refs, answer="加大财政贴息力度，对符合条件的小微企业贷款给予贴息。[1]\n"
                                  "政府采购应当预留本部门年度政府采购项目预算总额的百分之三十以上[2]")
    crossed = case("q2", refs=refs, answer="加大财政贴息力度[2]。")
    invented = case("q3", refs=refs, answer="贴息比例为百分之五十[1]。")
    result = faithfulness([good, crossed, invented])
    assert [r["value"] for r in result["per_question"]] == [1.0, 0.0, 0.0]
    assert result["per_question"][2]["unsupported"] == ["贴息比例为百分之五十"]


def test_unmarked_sentence_may_come_from_any_cited_clause_but_not_uncited_ones():
    refs = [ref(item=7, marker=1, text=TEXT7, id="a"), ref(item=2, marker=2, text=TEXT40, id="b")]
    ok = case(refs=refs, answer="加大财政贴息力度[1]。支持政府性融资担保机构扩大业务。")
    uncited = case(refs=refs, answer="加大财政贴息力度[1]。政府采购应当预留本部门年度政府采购项目预算总额的百分之三十以上。")
    none = case(refs=refs, answer="加大财政贴息力度。")
    assert [r["value"] for r in faithfulness([ok, uncited, none])["per_question"]] == [1.0, 0.0, 0.0]


def test_faithfulness_skips_refusals_and_llm_answers():
    refs = [ref(item=7, marker=1, text=TEXT7)]
    assert faithfulness([case(refs=refs, answer="抱歉。", refused=True),
                         case(refs=refs, answer="大意如此[1]。", mode="llm")])["score"] is None


# --- refusals and latency ---------------------------------------------------------------------

def test_refusal_accuracy_and_false_refusals():
    cases = [case("u1", type="unanswerable", expect=(), refused=True),
             case("u2", type="unanswerable", expect=(), refused=False),
             case("a1", refused=True), case("a2"), case("a3"), case("a4")]
    assert refusal_accuracy(cases)["score"] == 0.5
    assert false_refusal_rate(cases)["score"] == 0.25
    assert refusal_accuracy([case()])["score"] is None


def test_latency_percentiles_are_measured_values():
    cases = [case(f"q{i}", latency_ms=float(ms)) for i, ms in enumerate([10, 20, 30, 40, 1000])]
    assert latency(cases, 0.5)["score"] == 30.0
    assert latency(cases, 0.95)["score"] == 1000.0
    assert percentile([], 0.5) is None


# --- what a reader sees first ---------------------------------------------------------------

def test_key_fact_counts_only_when_the_first_sentence_holds_it():
    from eval.metrics import key_fact, key_fact_first

    leads = case(id="a", facts=("0.5个工作日", "全程网办"), answer="企业开办时间压缩至0.5个工作日。[1]另有全程网办。[1]")
    buried = case(id="b", facts=("0.5个工作日",), answer="深化商事制度改革。[1]企业开办时间压缩至0.5个工作日。[1]")
    refused = case(id="c", facts=("0.5个工作日",), refused=True, answer="没有找到0.5个工作日")
    assert [r["value"] for r in key_fact_first([leads, buried, refused])["per_question"]] == [1.0, 0.0, 0.0]
    assert key_fact([leads, buried, refused])["score"] == pytest.approx(2 / 3)


def test_factoid_answer_length_excludes_markers_and_whitespace():
    from eval.metrics import factoid_answer_chars

    short = case(id="a", answer="贷款贴息 [1]\n风险补偿[2]")
    longer = case(id="b", answer="一二三四五六七八九十。[1]")
    other = case(id="c", type="multi", answer="很长很长很长很长很长很长很长很长的回答")
    assert factoid_answer_chars([short, longer, other])["score"] == pytest.approx((8 + 11) / 2)


def test_near_miss_refusal_and_whether_the_refusal_names_the_gap():
    from eval.metrics import gap_named, near_miss_refusal

    named = case(id="a", type="unanswerable", expect=(), refused=True, absent=("起征点",),
                 answer="现有文件未涉及“起征点”。")
    silent = case(id="b", type="unanswerable", expect=(), refused=True, absent=("缴费基数",), answer="没有找到。")
    answered = case(id="c", type="unanswerable", expect=(), refused=False, absent=("试用期",))
    off_topic = case(id="d", type="unanswerable", expect=(), refused=True)
    cases = [named, silent, answered, off_topic]
    assert near_miss_refusal(cases)["score"] == pytest.approx(2 / 3)
    assert gap_named(cases)["score"] == 0.5
