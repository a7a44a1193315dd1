"""Turn the text lines of PDF pages back into the paragraphs they were typeset from.

Two steps, both measured on the document itself rather than configured:
``strip_page_furniture`` drops running headers, footers and page numbers;
``join_paragraphs`` re-joins hard-wrapped lines. A line that is "full" (close to
the document's usual line length) continues into the next one unless the next
line is indented or visibly opens a new unit (第一章, 专栏3, 7.…, （一）…).
"""
from __future__ import annotations

import math
import re
from collections import Counter

from ingest.model import Block
from ingest.readers.lines import join_wrapped

# Headers and footers live in the first and last few lines of a page.
EDGE_LINES = 3
# A header/footer repeats on at least this share of pages (odd/even headers: ~half each).
RUNNING_SHARE = 0.4
# A line at least this share of the usual full width was wrapped, not ended.
FULL_LINE = 0.9

_NUM = r"[\d一二三四五六七八九十百零〇]{1,4}"
_PAGE_NUMBER = re.compile(
    rf"""^(?:
        [-—–－~～_·]*\s*\d{{1,4}}\s*[-—–－~～_·]*                      # 6, - 6 -, — 6 —, —6—
      | 第\s*{_NUM}\s*页(?:\s*[,，/、]?\s*共\s*{_NUM}\s*页)?          # 第6页, 第 6 页 共 20 页
      | 共\s*{_NUM}\s*页\s*[,，/、]?\s*第\s*{_NUM}\s*页                # 共20页 第6页
      | (?:page\s*)?\d{{1,4}}\s*(?:/|of)\s*\d{{1,4}}                    # 6/20, Page 6 of 20
      | page\s*\d{{1,4}}
    )$""",
    re.VERBOSE | re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")

_CN = "一二三四五六七八九十百千零〇两"
# Units that always start a paragraph: 第一章 / 第二节 / 第三条　(article + space) / 专栏7.
_STRONG_OPENER = re.compile(rf"^(?:第[{_CN}\d]+[编章节](?:\s|$)|第[{_CN}\d]+条[\s\u3000]|专栏\s*\d+)")
# Units that start a paragraph after a sentence end: 7.标题 / （一） / 一、 / —— / 第五条….
_OPENER = re.compile(rf"^(?:\d{{1,2}}[.．、](?!\d)\S|[（(][{_CN}\d]{{1,3}}[）)]|[{_CN}]{{1,3}}、|——|第[{_CN}\d]+条)")
_CLOSERS = "”’」』）)》"
_SENTENCE_END = "。；：！？!?;:"


def strip_page_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Drop page numbers and lines repeated at the top or bottom of most pages."""
    running = _running_keys(pages)

    def furniture(line: str) -> bool:
        text = line.strip()
        return bool(_PAGE_NUMBER.match(text)) or _key(text) in running

    kept = []
    for lines in pages:
        top, bottom = 0, len(lines)
        while top < min(EDGE_LINES, bottom) and furniture(lines[top]):
            top += 1
        while bottom > top and len(lines) - bottom < EDGE_LINES and furniture(lines[bottom - 1]):
            bottom -= 1
        kept.append(lines[top:bottom])
    return kept


def _key(line: str) -> str:
    """A header compared across pages: page and date digits vary, spacing does not matter."""
    return _DIGITS.sub("#", _SPACE.sub("", line))


def _running_keys(pages: list[list[str]]) -> set[str]:
    if len(pages) < 2:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        edges = lines[:EDGE_LINES] + lines[-EDGE_LINES:]
        seen.update({_key(line) for line in edges if line.strip()})
    needed = max(2, math.ceil(RUNNING_SHARE * len(pages)))
    return {key for key, pages_with_it in seen.items() if pages_with_it >= needed}


def join_paragraphs(pages: list[list[str]]) -> list[Block]:
    """Re-join hard-wrapped lines; each block keeps the (1-based) page it starts on."""
    lines = [(line, page) for page, page_lines in enumerate(pages, start=1) for line in page_lines]
    full = _full_width([_width(line) for line, _ in lines])
    blocks: list[Block] = []
    text, start, previous = "", 0, ""
    for line, page in lines:
        if text and not _continues(previous, line, full):
            blocks.append(Block(text, start))
            text = ""
        if not text:
            text, start = line.strip(), page
        else:
            text = join_wrapped(text, line)
        previous = line
    if text:
        blocks.append(Block(text, start))
    return blocks


def _width(line: str) -> int:
    """Characters a line occupies; pypdf's lone leading space (an x offset) is not one."""
    return len(line.rstrip().lstrip(" "))


def _full_width(widths: list[int]) -> float:
    """The length of a full line: the commonest length among the long lines.

    Returns infinity when too few lines share it: such a document is not hard-wrapped.
    """
    if not widths:
        return math.inf
    longest = max(widths)
    counts = Counter(w for w in widths if w >= 0.6 * longest)
    usual = max(counts, key=lambda w: (counts[w], w))
    wrapped = sum(n for w, n in counts.items() if w >= FULL_LINE * usual)
    return FULL_LINE * usual if wrapped >= 3 else math.inf


def _continues(previous: str, line: str, full: float) -> bool:
    """Whether ``line`` carries on the paragraph that ``previous`` belongs to."""
    if _width(previous) < full:
        return False
    if line.startswith(("\u3000", "  ", "\t")):  # a first-line indent
        return False
    text, before = line.strip(), previous.rstrip()
    if _STRONG_OPENER.match(text):
        return False
    last = before.rstrip(_CLOSERS)[-1:]  # "…。”" ends a sentence, "…“XX”" does not
    ends_sentence = bool(last) and last in _SENTENCE_END
    if ends_sentence and _OPENER.match(text):
        return False
    # A full line ends a sentence and a short line without its own ending follows: a title.
    if ends_sentence and _width(line) < full and text[-1] not in _SENTENCE_END + _CLOSERS:
        return False
    return True
