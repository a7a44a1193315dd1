"""Index units: every clause, plus sentence windows of long clauses that resolve back to it.

A question about one sentence of a 600-character item should still find the item, and a
512-token encoder sees only the start of a long clause; windows cover the rest. Each unit
is embedded with its breadcrumb (document › chapter › section › title) in front.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ingest.model import Clause
from kb.text import split_sentences

# Bump when the unit recipe or the index parameters change: the collection name includes it,
# so old vectors are never reused.
CHUNKING_VERSION = "u4"
CLAUSE_HEAD_CHARS = 200   # the clause unit embeds the breadcrumb and this much of the text
WINDOW_CHARS = 180        # sentence windows cover the rest of a long clause, about this long each


@dataclass(frozen=True)
class Unit:
    id: str
    clause_id: str
    kind: str        # "clause" | "window"
    text: str        # what is embedded (breadcrumb + text)
    window: str      # the clause text this unit covers


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def sentence_windows(text: str, skip_chars: int = 0, size: int = WINDOW_CHARS) -> list[str]:
    """Consecutive sentences packed to about ``size`` characters, after the first ``skip_chars``
    (which the clause unit already covers). Windows do not overlap: every character is embedded
    about once, which keeps a full ingest within a minute on two cores."""
    sentences = split_sentences(text)
    windows: list[str] = []
    current, offset = "", 0
    for sentence in sentences:
        offset += len(sentence)
        if offset <= skip_chars:
            continue
        if current and len(current) + len(sentence) > size:
            windows.append(current)
            current = ""
        current += sentence
    if current:
        windows.append(current)
    return windows


def units_for(clause: Clause) -> list[Unit]:
    head = f"{breadcrumb(clause)}\n{clause.text[:CLAUSE_HEAD_CHARS]}"
    units = [Unit(f"{clause.id}#c:{_short_hash(head)}", clause.id, "clause", head, clause.text)]
    if len(clause.text) > CLAUSE_HEAD_CHARS:
        for n, win in enumerate(sentence_windows(clause.text, skip_chars=CLAUSE_HEAD_CHARS)):
            text = f"{clause.title}\n{win}" if clause.title else win
            units.append(Unit(f"{clause.id}#w{n}:{_short_hash(text)}", clause.id, "window", text, win))
    return units


def clause_of(unit_id: str) -> str:
    """The clause a unit id resolves to: ids are ``<clause id>#<part>:<hash>`` (``units_for``)."""
    return unit_id.split("#", 1)[0]


def unit_windows(clause: Clause) -> dict[str, str]:
    """Unit id → the clause text that unit covers, as ``units_for`` wrote them."""
    return {u.id: u.window for u in units_for(clause)}


def breadcrumb(clause: Clause) -> str:
    """Short document name › chapter › section › title: context the clause text itself lacks."""
    doc = "规划" if clause.doc_kind == "plan" else re.sub(r"^中华人民共和国", "", clause.doc_title)
    parts = [doc, clause.chapter_title, clause.section_title, clause.title]
    return " › ".join(p for p in parts if p)
