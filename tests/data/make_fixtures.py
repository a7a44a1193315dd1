"""Regenerate the reader fixtures in tests/data/ (deterministic: same bytes every run).

    python tests/data/make_fixtures.py

plan.pdf is the whole plan laid out like a government PDF (running header, ``— N —``
footer, hard-wrapped lines); plan.pdf.pages.json records, while laying it out, the
page on which each item, box and heading starts: the ground truth for the tests.
Needs reportlab, pypdf, python-docx and Pillow (the ``dev`` extra).
"""
from __future__ import annotations

import io
import json
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent
PLAN_TXT = DATA.parents[1] / "source_docs" / "青岛市十四五民营经济和中小企业发展规划.txt"
PLAN_TITLE = "青岛市“十四五”民营经济和中小企业发展规划"
FONT = "STSong-Light"  # an Adobe CID font: not embedded, so the PDFs stay small

# Page geometry (points, A4): 36 CJK characters of 12 pt per line, 33 lines a page.
PAGE_W, PAGE_H = 595.27, 841.89
BODY_SIZE, LINE_CHARS, LEADING = 12, 36, 21
LEFT = (PAGE_W - LINE_CHARS * BODY_SIZE) / 2
BODY_TOP, BODY_BOTTOM = 760, 70
INDENT = "\u3000\u3000"  # two full-width spaces, as typed in Word

CHAPTER = re.compile(r"^(第[一二三四五六七八九十]+章|主要任务和行动措施$|前\s*言$)")
BOX = re.compile(r"^专栏(\d+)")
ITEM = re.compile(r"^(\d{1,2})\.(?!\d)")


# ---------------------------------------------------------------- plan.pdf

@dataclass
class PlanLayout:
    """Every drawn line as (page, style, text), plus where each unit starts."""

    lines: list[tuple[int, str, str]] = field(default_factory=list)
    items: dict[int, int] = field(default_factory=dict)
    boxes: dict[int, int] = field(default_factory=dict)
    headings: list[tuple[str, int]] = field(default_factory=list)
    split_numbers: list[str] = field(default_factory=list)
    page: int = 1
    row: int = 0

    def place(self, style: str, text: str) -> int:
        if self.row == self._rows_per_page():
            self.page, self.row = self.page + 1, 0
        self.lines.append((self.page, style, text))
        self.row += 1
        return self.page

    @staticmethod
    def _rows_per_page() -> int:
        return (BODY_TOP - BODY_BOTTOM) // LEADING + 1


def wrap(paragraph: str, width: int = LINE_CHARS) -> list[str]:
    """Hard-wrap every ``width`` characters, as a typesetter would: never next to a
    space and never inside a Latin word (those move down); digits may split."""
    lines, start = [], 0
    while start < len(paragraph):
        end = min(start + width, len(paragraph))
        while end < len(paragraph) and end > start + width - 6 and _bad_break(paragraph, end):
            end -= 1
        lines.append(paragraph[start:end])
        start = end
    return lines


def _bad_break(text: str, at: int) -> bool:
    left, right = text[at - 1], text[at]
    latin = left.isascii() and left.isalpha() and right.isascii() and right.isalpha()
    return left == " " or right == " " or latin


def layout_plan(source_lines: list[str]) -> PlanLayout:
    layout = PlanLayout()
    next_item = 1
    for raw in source_lines:
        text = raw.strip()
        if not text:
            continue
        if CHAPTER.match(text) or BOX.match(text):
            page = layout.place("centre", text)
            layout.headings.append((text, page))
            if box := BOX.match(text):
                layout.boxes[int(box.group(1))] = page
            continue
        if raw.startswith(" " * 10):  # the notice's signature: right-aligned
            layout.place("right", text)
            continue
        # "——" goal bullets hang at the margin; every other paragraph is indented.
        para = text if text.startswith("——") else INDENT + text
        wrapped = wrap(para)
        page = layout.place("body", wrapped[0])
        for left, right in zip(wrapped, wrapped[1:]):
            layout.place("body", right)
            if left[-1].isdigit() and right[0].isdigit():
                layout.split_numbers.append(f"{left[-4:]}|{right[:4]}")
        if text.startswith("第") and re.match(r"^第[一二三四五六七八九十]+节", text):
            layout.headings.append((text, page))
        if (item := ITEM.match(text)) and int(item.group(1)) == next_item:
            layout.items[next_item] = page
            next_item += 1
    return layout


def write_plan_pdf(layout: PlanLayout, path: Path) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(PAGE_W, PAGE_H), invariant=1)
    pdf.setTitle(PLAN_TITLE)
    pages = layout.lines[-1][0]
    for page in range(1, pages + 1):
        pdf.setFont(FONT, 9)
        pdf.drawCentredString(PAGE_W / 2, 800, PLAN_TITLE)
        pdf.setLineWidth(0.5)
        pdf.line(LEFT, 794, PAGE_W - LEFT, 794)
        y = BODY_TOP
        for _, style, text in (line for line in layout.lines if line[0] == page):
            if style == "centre":
                pdf.setFont(FONT, 14)
                pdf.drawCentredString(PAGE_W / 2, y, text)
            elif style == "right":
                pdf.setFont(FONT, BODY_SIZE)
                pdf.drawRightString(PAGE_W - LEFT, y, text)
            else:
                pdf.setFont(FONT, BODY_SIZE)
                pdf.drawString(LEFT, y, text)
            y -= LEADING
        pdf.setFont(FONT, 10.5)
        pdf.drawCentredString(PAGE_W / 2, 40, f"— {page} —")
        pdf.showPage()
    pdf.save()


def make_plan_pdf() -> PlanLayout:
    layout = layout_plan(PLAN_TXT.read_text(encoding="utf-8").splitlines())
    write_plan_pdf(layout, DATA / "plan.pdf")
    truth = {
        "pages": layout.lines[-1][0],
        "items": {str(n): p for n, p in layout.items.items()},
        "boxes": {str(n): p for n, p in layout.boxes.items()},
        "headings": [{"text": t, "page": p} for t, p in layout.headings],
        "split_numbers": layout.split_numbers,
    }
    (DATA / "plan.pdf.pages.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return layout
