"""Recognise the headings of Chinese official documents in a single line.

The usual hierarchy: 第X编 › 第X章 › 第X节 › 第X条 (laws) or numbered items 1. (plans),
plus 专栏N boxes, 前言, and run-in topics (「强化资金保障。…」, 「——经济规模不断扩大。…」).
A heading is a whole short line; a cross-reference inside a sentence ("本法第三十条规定的…")
is never one, because the patterns demand heading shape and the parsers demand the
next number in sequence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.numerals import CN_NUMERAL_CHARS, cn_numeral_to_int

_NUM = rf"[{CN_NUMERAL_CHARS}0-9０-９]+"
_SENTENCE_END = re.compile(r"[。；;！？!?]")

# Simplified and traditional forms (條/節/編/專欄) so a Big5 regulation parses too.
_CHAPTER = re.compile(rf"^#*\s*第({_NUM})([编編章节節])[\s　]*(.*)$")
_ARTICLE = re.compile(rf"^#*\s*第({_NUM})[条條](?:[\s　]+|$)(.*)$")
_BOX = re.compile(rf"^(?:专栏|專欄)\s*({_NUM})\s*[：:.．、]?\s*(.*)$")
_ITEM = re.compile(r"^(\d{1,3})[.．、](?!\d)\s*(.+)$")
_PREFACE = re.compile(r"^(前\s*言|序\s*言|引\s*言)$")
_DASH_TOPIC = re.compile(r"^[—－-]{1,2}\s*([^。]{2,40}?)[。：:]")
_RUN_IN_TOPIC = re.compile(r"^([^。，、；：:“”\"（）()\d—]{2,14})。")


@dataclass(frozen=True)
class Heading:
    kind: str  # part | chapter | section | article | box | item | preface | topic
    number: int | None
    title: str
    rest: str = ""  # text after the heading on the same line (items, articles, topics)


def _is_heading_shaped(title: str) -> bool:
    return len(title) <= 40 and not _SENTENCE_END.search(title)


def squeeze_title(title: str) -> str:
    """「总 则」 → 「总则」: drop spaces between CJK characters in a heading title."""
    return re.sub(r"(?<=[\u4e00-\u9fff])[\s　]+(?=[\u4e00-\u9fff])", "", title.strip())


def match_division(line: str) -> Heading | None:
    """第X编 / 第X章 / 第X节 headings (the title may be empty: it is then on the next line)."""
    m = _CHAPTER.match(line)
    if not m or not _is_heading_shaped(m.group(3)):
        return None
    kind = {"编": "part", "編": "part", "章": "chapter", "节": "section", "節": "section"}[m.group(2)]
    return Heading(kind, cn_numeral_to_int(m.group(1)), squeeze_title(m.group(3)))


def match_article(line: str) -> Heading | None:
    m = _ARTICLE.match(line)
    if not m:
        return None
    return Heading("article", cn_numeral_to_int(m.group(1)), "", m.group(2).strip())


def match_box(line: str) -> Heading | None:
    m = _BOX.match(line)
    if not m:
        return None
    return Heading("box", cn_numeral_to_int(m.group(1)), squeeze_title(m.group(2)))


def match_item(line: str) -> Heading | None:
    """``7.完善融资机制。运用…`` → item 7 titled 完善融资机制 (the words before the first 。)."""
    m = _ITEM.match(line)
    if not m:
        return None
    body = m.group(2).strip()
    return Heading("item", int(m.group(1)), lead_phrase(body), body)


def match_preface(line: str) -> Heading | None:
    m = _PREFACE.match(line.strip())
    return Heading("preface", None, re.sub(r"\s", "", m.group(1))) if m else None


def match_topic(line: str) -> Heading | None:
    """A run-in topic that opens a paragraph: 「强化资金保障。…」 or 「——坚持创新驱动，强化转型升级。…」."""
    m = _DASH_TOPIC.match(line) or _RUN_IN_TOPIC.match(line)
    if not m:
        return None
    return Heading("topic", None, m.group(1).strip(), line.lstrip("—－- "))


def lead_phrase(text: str, limit: int = 40) -> str:
    """The words before the first 。 (or the first clause when no 。 comes soon)."""
    head = re.split(r"[。！？]", text, maxsplit=1)[0]
    if len(head) > limit:
        head = re.split(r"[，；：]", head, maxsplit=1)[0][:limit]
    return head.strip()


def is_title_like(line: str, limit: int = 24) -> bool:
    """A short line that ends no sentence: a heading without a number, a table cell."""
    return 0 < len(line) <= limit and not _SENTENCE_END.search(line)
