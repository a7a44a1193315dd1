"""What a question implies beyond its words: official terms, jurisdiction, questions about a document itself."""
from __future__ import annotations

import pytest

from kb.query_terms import (
    asks_about_document,
    expand_for_lexical,
    implied_terms,
    query_jurisdictions,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("question, about", [
    ("规划的编制依据是什么", True),
    ("这个民营经济规划是照着哪些法律和文件编出来的？", True),
    ("中小企业促进法的立法目的是什么", True),
    ("为什么要出台这个规划", True),
    ("这份规划是干什么用的", True),
    ("What is the purpose of the SME Promotion Law?", True),
    # questions that merely contain 为什么 / 根据 are about the measures, not the document
    ("为什么中小企业贷款难", False),
    ("中小企业是根据什么标准划定的？", False),
    ("为什么出口企业退税慢", False),
    ("小微企业贷款难，有什么支持？", False),
])
def test_questions_about_the_document_itself(question, about):
    assert asks_about_document(question) is about


def test_colloquial_words_imply_the_documents_wording():
    assert "融资" in implied_terms("借钱太难了")
    assert "智能审批" in implied_terms("登记能不能系统自动批")
    assert implied_terms("政府采购预留份额") == ""
    assert expand_for_lexical("政府采购预留份额") == "政府采购预留份额"


def test_jurisdiction_cues():
    assert query_jurisdictions("省里对民营企业有什么规定") == {"shandong"}
    assert query_jurisdictions("青岛市的政策") == {"qingdao"}
    assert query_jurisdictions("小微企业贷款") == set()


def test_quoted_coinages_become_words_even_in_a_long_quoted_list():
    from kb.tokenize import Tokenizer, mine_domain_terms

    text = "推进“个转企、小升规、规改股、股上市”，落实“拿地即开工”。"
    terms = mine_domain_terms([text])
    assert {"个转企", "小升规", "规改股", "股上市", "拿地即开工"} <= set(terms)
    assert "个转企" in Tokenizer.for_corpus([text]).tokenize("个体户怎么个转企")


def test_previous_answer_is_the_last_assistant_turn_without_markers():
    from kb.followup import previous_answer

    history = [{"role": "user", "content": "问"}, {"role": "assistant", "content": "第一句。[1]"},
               {"role": "user", "content": "再问"}, {"role": "assistant", "content": "30日内支付[2]"}]
    assert previous_answer(history) == "30日内支付"
    assert previous_answer([{"role": "assistant", "content": None}, "垃圾"]) == ""
    assert previous_answer(None) == ""
