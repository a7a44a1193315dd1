"""The outline of a plan-style document: 前言, 章, 节, numbered items, 专栏 boxes, run-in topics.

Rules that hold for Chinese plans in general, not for one file:
- items are numbered ``N.`` and a number only opens an item when it is the next one
  (continuous across chapters, or restarting at 1 in a new section), so a list inside a
  box (专栏6 has its own 1./2.) or a stray number never opens or closes an item;
- a 「第一节」 after a chapter that already has sections means a new chapter whose
  ``第X章`` line is missing; the short line just before it is that chapter's title;
- a 节 heading with no title takes the next line as its title;
- outside items and boxes, paragraphs opening with a short phrase and 。 (「强化资金保障。」,
  「——经济规模不断扩大。」) are topics of their own, so a question about one goal does not
  retrieve the whole section.
"""
from __future__ import annotations

import re

from ingest.clause_builder import ClauseBuilder
from ingest.headings import (
    Heading,
    is_title_like,
    match_box,
    match_division,
    match_item,
    match_preface,
    match_topic,
)
from ingest.model import Block


class PlanParser:
    def __init__(self, builder: ClauseBuilder):
        self.b = builder
        self.last_item: int | None = None
        self.item_section: tuple | None = None
        self.box_list_next = 1
        self.awaiting_title: str | None = None  # "chapter" | "section" when the title is on the next line
        self.front_matter: list[str] = []
        self.started = False

    def feed(self, blocks: list[Block]) -> None:
        for block in blocks:
            self._feed(block.text.strip(), block.page)
        self._close()

    def _close(self) -> None:
        self.b.close(postprocess=tabulate_box if self._in("box") else None)

    def _in(self, kind: str) -> bool:
        return self.b.current is not None and self.b.current.kind == kind

    def _feed(self, line: str, page: int | None) -> None:
        if not line:
            return
        if self.awaiting_title and is_title_like(line, 40):
            self._set_title(self.awaiting_title, line)
            self.awaiting_title = None
            return
        self.awaiting_title = None

        if (h := match_preface(line)) is not None:
            self._start()
            self._close()
            self.b.pos.chapter = self.b.pos.section = None
            self.b.open("preface", h.title, page)
        elif (h := match_division(line)) is not None and h.kind in ("chapter", "section"):
            self._division(h, page)
        elif (h := match_box(line)) is not None and self.started:
            self._close()
            self.box_list_next = 1
            self.b.open("box", h.title, page, box=h.number)
        elif (h := match_item(line)) is not None and self._opens_item(h):
            self._close()
            self.last_item, self.item_section = h.number, (self.b.pos.chapter, self.b.pos.section)
            self.b.open("item", h.title, page, item=h.number)
            self.b.add(h.rest, page)
        elif self._in("box") and (h := match_item(line)) is not None and h.number == self.box_list_next:
            self.box_list_next += 1  # the box's own list: stays inside the box
            self.b.add(line, page)
        elif (self.started and not self._in("item") and not self._in("box")
              and self.b.pos.section is not None and (h := match_topic(line)) is not None):
            self._close()
            self.b.open("topic", h.title, page)
            self.b.add(h.rest, page)
        elif not self.started:
            self.front_matter.append(line)
        else:
            if self.b.current is None:
                self._open_lead(page)
            self.b.add(line, page)

    def _start(self) -> None:
        self.started = True

    def _opens_item(self, h: Heading) -> bool:
        if not self.started:
            return False
        if self._in("box"):
            return self.last_item is not None and h.number == self.last_item + 1
        if self.last_item is None:
            return True  # an excerpt may start at any item
        if h.number == self.last_item + 1:
            return True
        # In a new section numbering may restart at 1 (other plans) or skip ahead (an excerpt).
        new_section = (self.b.pos.chapter, self.b.pos.section) != self.item_section
        return new_section and (h.number == 1 or h.number > self.last_item)

    def _division(self, h: Heading, page: int | None) -> None:
        self._start()
        pos = self.b.pos
        if h.kind == "chapter":
            self._close()
            pos.chapter, pos.chapter_title = h.number, h.title or None
            pos.section = pos.section_title = None
            if not h.title:
                self.awaiting_title = "chapter"
            return
        if h.number == 1 and pos.section is not None:
            # 第一节 again: a chapter whose 第X章 line is missing; its title is the line before.
            orphan = self.b.take_last_paragraph()
            self._close()
            pos.chapter = (pos.chapter or 0) + 1
            pos.chapter_title = orphan if orphan and is_title_like(orphan, 40) else None
        else:
            self._close()
        pos.section, pos.section_title = h.number, h.title or None
        if not h.title:
            self.awaiting_title = "section"

    def _set_title(self, level: str, title: str) -> None:
        if level == "chapter":
            self.b.pos.chapter_title = title
        else:
            self.b.pos.section_title = title

    def _open_lead(self, page: int | None) -> None:
        pos = self.b.pos
        title = pos.section_title or pos.chapter_title or ""
        self.b.open("lead", title, page)


def tabulate_box(paragraphs: list[str]) -> list[str]:
    """Keep a district table readable: 「市南区」「旅游、金融保险…」 → 「市南区：旅游、金融保险…」.

    A box is a table when at least three of its lines are short labels followed by a value;
    a parenthesised line right after a label (「（含自贸片区）」) belongs to the label.
    """
    rows: list[str] = []
    i, pairs, n = 0, 0, len(paragraphs)
    while i < n:
        line = paragraphs[i]
        if is_title_like(line, 10) and not re.search(r"[、，,]", line) and i + 1 < n:
            label, j = line, i + 1
            while j < n and paragraphs[j].startswith(("（", "(")) and len(paragraphs[j]) <= 12:
                label, j = label + paragraphs[j], j + 1
            if j < n:
                rows.append(f"{label}：{paragraphs[j]}")
                pairs, i = pairs + 1, j + 1
                continue
        rows.append(line)
        i += 1
    return rows if pairs >= 3 else paragraphs
