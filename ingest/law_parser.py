"""The outline of a law or regulation: 章/节 headings and 条 articles.

An article's 款 (paragraphs) and 项 (（一）…) stay inside its text, one paragraph per line.
An article number opens a new article only when it is the next in sequence, so a
paragraph that starts with a cross-reference (「第五条规定的…」) stays where it is.
The preamble (adoption and revision dates) is document metadata, not a clause.
"""
from __future__ import annotations

import re

from ingest.clause_builder import ClauseBuilder
from ingest.headings import match_article, match_division
from ingest.model import Block
from ingest.numerals import int_to_cn_numeral

_PREAMBLE_END = re.compile(r"^<!--\s*INFO END\s*-->$")
_MD_TITLE = re.compile(r"^#\s+(.+)$")


def looks_like_law(blocks: list[Block]) -> bool:
    """Three or more lines that open with 第X条 make a document of articles."""
    count = 0
    for b in blocks:
        if match_article(b.text.strip()):
            count += 1
            if count >= 3:
                return True
    return False


class LawParser:
    def __init__(self, builder: ClauseBuilder):
        self.b = builder
        self.last_article: int | None = None
        self.front_matter: list[str] = []
        self.preamble: list[str] = []
        self.md_title: str | None = None
        self.in_body = False
        self.awaiting_title: str | None = None
        self._next_chapter: int | None = None

    def feed(self, blocks: list[Block]) -> None:
        has_marker = any(_PREAMBLE_END.match(b.text.strip()) for b in blocks)
        next_chapters = _next_chapter_numbers(blocks)
        for block, next_chapter in zip(blocks, next_chapters):
            self._next_chapter = next_chapter
            self._feed(block.text.strip(), block.page, has_marker)
        self.b.close()

    def _feed(self, line: str, page: int | None, has_marker: bool) -> None:
        if not line:
            return
        if not self.in_body:
            if _PREAMBLE_END.match(line):
                self.in_body = True
                return
            if self.md_title is None and (m := _MD_TITLE.match(line)):
                self.md_title = m.group(1).strip()
                return
            if has_marker or not (match_division(line) or match_article(line)):
                (self.preamble if self.md_title else self.front_matter).append(line)
                return
            self.in_body = True
        if self.awaiting_title:
            self._title(line)
            return
        if (h := match_division(line)) is not None and h.kind in ("chapter", "section"):
            self.b.close()
            pos = self.b.pos
            if h.kind == "chapter":
                pos.chapter, pos.chapter_title = h.number, h.title or None
                pos.section = pos.section_title = None
            else:
                pos.section, pos.section_title = h.number, h.title or None
            if not h.title:
                self.awaiting_title = h.kind
        elif (h := match_article(line)) is not None and self._is_next(h.number):
            self.last_article = h.number
            self.b.open("article", _article_title(h.number), page, article=h.number)
            self.b.add(h.rest, page)
        elif self._is_unnumbered_chapter(line):
            # A chapter title whose 第X章 was lost (the numbering jumps past it): give it the missing number.
            self.b.close()
            pos = self.b.pos
            pos.chapter, pos.chapter_title = (pos.chapter or 0) + 1, line
            pos.section = pos.section_title = None
        elif self.b.current is not None:
            self.b.add(line, page)
        else:
            self.preamble.append(line)

    def _title(self, line: str) -> None:
        if self.awaiting_title == "chapter":
            self.b.pos.chapter_title = line
        else:
            self.b.pos.section_title = line
        self.awaiting_title = None

    def _is_unnumbered_chapter(self, line: str) -> bool:
        current = self.b.pos.chapter
        return (current is not None and self._next_chapter is not None
                and self._next_chapter > current + 1 and len(line) <= 15
                and not re.search(r"[。；;：:，,！？（(）)、]", line))

    def _is_next(self, number: int) -> bool:
        return self.last_article is None or number == self.last_article + 1


def _next_chapter_numbers(blocks: list[Block]) -> list[int | None]:
    """For each block, the number of the next explicit 第X章 heading after it (None if none follows)."""
    out: list[int | None] = [None] * len(blocks)
    upcoming = None
    for i in range(len(blocks) - 1, -1, -1):
        out[i] = upcoming
        h = match_division(blocks[i].text.strip())
        if h is not None and h.kind == "chapter":
            upcoming = h.number
    return out


def _article_title(number: int) -> str:
    return f"第{int_to_cn_numeral(number)}条"
