"""The outline of a short official document without 章, 节, 条 or numbered items: a notice.

    关于进一步支持小微企业发展的通知          ← title            (front matter)
    各区、市人民政府，市政府各部门：          ← addressees       (front matter)
    为进一步…，现就有关事项通知如下：        ← lead clause
    一、加大融资支持力度。鼓励…              ← a topic titled 加大融资支持力度
    二、…
    青岛市人民政府办公厅 / 2023年5月10日      ← signature        (front matter: issuer and date)

Used when the plan parser found no structure at all, so such a file is ingested, not refused.
"""
from __future__ import annotations

import re

from ingest.clause_builder import ClauseBuilder
from ingest.headings import is_title_like, lead_phrase
from ingest.model import Block
from ingest.numerals import CN_NUMERAL_CHARS

_NUMBERED = re.compile(rf"^[{CN_NUMERAL_CHARS}]+[、．.]\s*(.+)$")
_DATE_LINE = re.compile(r"^[\s（(]*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日[\s）)]*$")


def _ends_with_colon(line: str) -> bool:
    return line.endswith(("：", ":"))


def _is_signature(line: str) -> bool:
    return bool(_DATE_LINE.match(line)) or is_title_like(line, 24)


class NoticeParser:
    def __init__(self, builder: ClauseBuilder):
        self.b = builder
        self.front_matter: list[str] = []

    def feed(self, blocks: list[Block]) -> None:
        lines = [(b.text.strip(), b.page) for b in blocks if b.text.strip()]
        end = len(lines)
        while end > 0 and _is_signature(lines[end - 1][0]):   # signature: issuer, date
            end -= 1
        start = 1   # the title, possibly wrapped over a few short lines
        while start < min(end, 3) and is_title_like(lines[start][0]) and not _ends_with_colon(lines[start][0]):
            start += 1
        if start < end and _ends_with_colon(lines[start][0]):
            start += 1   # the addressees
        self.front_matter = [t for t, _ in lines[:start]] + [t for t, _ in lines[end:]]
        for text, page in lines[start:end]:
            if m := _NUMBERED.match(text):
                self.b.open("topic", lead_phrase(m.group(1)), page)
                self.b.add(text, page)
            elif self.b.current is None:
                self.b.open("lead", "", page)
                self.b.add(text, page)
            else:
                self.b.add(text, page)
        self.b.close()
