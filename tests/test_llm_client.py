"""The client's deadline, the missing-extra error, and hiding a reasoning model's thoughts."""
from __future__ import annotations

import sys
import threading
import time

import pytest

from kb.llm.answer import HideThinking, fall_back, notice
from kb.llm.client import LLMUnavailable, _run, require_client
from kb.model import Answer

pytestmark = pytest.mark.unit


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_index.llms.openai_like", None)   # as if not installed
    with pytest.raises(ImportError, match=r"pip install -e '\.\[llm\]'"):
        require_client()


def test_worker_that_never_answers_is_abandoned_at_the_deadline():
    release = threading.Event()

    def work(emit, cancelled):
        emit("早")
        release.wait(10)          # a stalled socket

    started = time.monotonic()
    got = []
    with pytest.raises(LLMUnavailable) as err:
        for piece in _run(work, time.monotonic() + 0.5):
            got.append(piece)
    release.set()
    assert err.value.kind == "timeout" and got == ["早"]
    # Given up at the 0.5 s deadline, long before the stalled worker (10 s) would have returned;
    # the wide bound leaves room for a busy shared machine.
    assert time.monotonic() - started < 5


def test_worker_is_told_to_stop_when_the_reader_goes_away():
    stopped = threading.Event()

    def work(emit, cancelled):
        for i in range(1000):
            if cancelled.is_set():
                stopped.set()
                return
            emit(str(i))
            time.sleep(0.01)

    stream = _run(work, time.monotonic() + 5)
    assert next(stream) == "0"
    stream.close()
    assert stopped.wait(2)


def test_worker_errors_reach_the_reader_classified():
    def work(emit, cancelled):
        raise ValueError("Expecting value: line 1 column 1")

    with pytest.raises(LLMUnavailable) as err:
        list(_run(work, time.monotonic() + 2))
    assert err.value.kind == "malformed"


@pytest.mark.parametrize("pieces, shown", [
    (["答案[1]。"], "答案[1]。"),
    (["<think>想一想</think>答案[1]。"], "答案[1]。"),
    (["<thi", "nk>想", "一想</th", "ink>答", "案[1]。"], "答案[1]。"),
    (["开头<", "b>粗体"], "开头<b>粗体"),
    (["<think>一直在想"], ""),
])
def test_thinking_is_not_streamed(pieces, shown):
    hide = HideThinking()
    assert "".join(hide.feed(p) for p in pieces) == shown


def test_fallback_keeps_the_extractive_answer_and_adds_one_notice():
    extractive = Answer("融资渠道？", "原文摘录[1]", False, [], latency_ms=10.0, notices=["问题过长，已截断。"])
    out = fall_back(extractive, "connect", time.monotonic())
    assert out.text == extractive.text and out.mode == "extractive" and out.verified
    assert out.notices == ["问题过长，已截断。", notice("connect", "融资渠道？")]
    assert out.notices[-1] == "大模型服务暂不可用，已改用原文摘录回答。"
    assert extractive.notices == ["问题过长，已截断。"]     # the engine's copy is untouched


def test_reply_that_is_only_thinking_counts_as_empty():
    from kb.llm.answer import finish

    extractive = Answer("融资渠道？", "原文摘录[1]", False, [])
    out = finish("<think>来源里好像没有……</think>\n", [], extractive, time.monotonic())
    assert out.mode == "extractive" and out.notices == ["大模型没有给出回答，已改用原文摘录回答。"]


def test_dropped_claims_are_disclosed_but_a_dropped_lead_in_is_not():
    from ingest.model import Clause
    from kb.llm.answer import finish
    from kb.model import Citation

    plan = "青岛市“十四五”民营经济和中小企业发展规划"
    item6 = Clause(id="plan/ch3/s1/item6", doc_title=plan, doc_kind="plan", kind="item", title="加强司法保障",
                   text="优化公共法律服务网络，新增规范化公共法律服务站20个、社区司法工作室100个。",
                   label=f"《{plan}》第三章第一节 第6条「加强司法保障」", order=6, item=6)
    citations = [Citation(1, item6, 0.9)]
    extractive = Answer("法律服务站新增多少？", "原文摘录[1]", False, citations)
    good = "优化公共法律服务网络，新增规范化公共法律服务站20个、社区司法工作室100个[1]。"
    assert finish("具体如下：\n" + good, citations, extractive, time.monotonic()).notices == []
    out = finish(good + "另新增律师事务所5家[1]。", citations, extractive, time.monotonic())
    assert out.mode == "llm" and out.text == good
    assert out.notices == ["已删去大模型回答中 1 句无法在所引条文中核实的内容。"]
