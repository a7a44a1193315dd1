"""Expected answer types: a question asking 「多久」 wants a duration, 「多少钱」 an amount.

Retrieval prefers clauses that contain a value of the asked type, and the refusal policy
refuses when none of the best clauses does (QA systems have used answer typing since TREC).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_CN = "一二三四五六七八九十百千万两半"


@dataclass(frozen=True)
class AnswerType:
    name: str
    asks: re.Pattern     # in the question
    value: re.Pattern    # in a clause that can answer it


ANSWER_TYPES = (
    AnswerType("money",
               re.compile(r"多少钱|多少(万|亿)?元|(奖励|补贴|补助|资助|贷|罚)[^，。？?]{0,4}多少(万|亿)?(?![户家个人项条])|how much money"),
               re.compile(rf"\d+(\.\d+)?\s*(万|亿)?元|[{_CN}]+元")),
    AnswerType("rate",
               re.compile(r"利率|征收率|税率|费率|比例|比重|占比|百分之几|百分比|percentage|\brate\b|share of"),
               re.compile(r"\d+(\.\d+)?\s*[%％]|[百千万]分之|倍")),
    AnswerType("date",
               re.compile(r"几月几[号日]|哪一?天|截止到?几|什么日期|which date|what date|when did|since when"),
               re.compile(rf"\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|[{_CN}]+月[{_CN}]+日")),
    AnswerType("phone", re.compile(r"电话|热线|联系方式|phone|hotline"), re.compile(r"\d{5,}")),
    AnswerType("duration",
               re.compile(r"多久|多长时间|几天|多少天|几个工作日|多少个工作日|期限|how long|within how many days"),
               re.compile(rf"(\d+(\.\d+)?|[{_CN}]+)\s*个?(工作日|日|天|小时|个月|月|年)(内|以内)?")),
    AnswerType("count",
               re.compile(r"多少(家|个|户|处|件|项|名|人|条)|几(家|个|户|处)|how many"),
               re.compile(rf"(\d+|[{_CN}]+)\s*(家|个|户|处|件|项|名|人|条)")),
)


def asked_types(question: str) -> list[AnswerType]:
    low = question.lower()
    return [t for t in ANSWER_TYPES if t.asks.search(low)]


def has_value(text: str, answer_type: AnswerType) -> bool:
    return bool(answer_type.value.search(text))
