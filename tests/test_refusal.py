"""Answer typing in the refusal policy: a value of the asked kind, in a sentence about the question."""
from __future__ import annotations

import pytest

from kb.answer_types import asked_types
from kb.refusal import answer_type_present

pytestmark = pytest.mark.unit


def test_question_kinds_are_recognised():
    assert [t.name for t in asked_types("办执照要多久？")] == ["duration"]
    assert [t.name for t in asked_types("奖励多少钱？")] == ["money"]
    assert [t.name for t in asked_types("年报截止到几月几号？")] == ["date"]
    assert "count" in [t.name for t in asked_types("新增多少家企业？")]
    assert asked_types("有什么支持？") == []


def test_a_date_about_something_else_is_no_answer():
    evidence = ["本条例自2020年1月1日起施行。"]
    assert not answer_type_present("个体工商户年报每年截止到几月几号？", evidence, ["个体工商户", "年报", "每年"])


def test_a_date_in_a_sentence_about_the_question_is_an_answer():
    evidence = ["个体工商户应当于每年1月1日至6月30日报送年度报告。"]
    assert answer_type_present("个体工商户年报每年截止到几月几号？", evidence, ["个体工商户", "年报", "每年"])


def test_money_questions_need_an_amount_near_their_subject():
    unrelated = ["2020年全市民营经济实现税收1146.8亿元。", "用好转贷基金和贷款风险补偿资金。"]
    assert not answer_type_present("创业担保贷款个人最高能贷多少万？", unrelated, ["创业", "担保", "贷款", "个人", "最高"])
    related = ["创业担保贷款个人最高额度为20万元。"]
    assert answer_type_present("创业担保贷款个人最高能贷多少万？", related, ["创业", "担保", "贷款"])


def test_questions_without_a_value_type_are_never_refused_here():
    assert answer_type_present("有什么支持？", [], ["支持"])
