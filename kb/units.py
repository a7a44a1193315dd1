"""Index units: every clause, plus sentence windows of long clauses that resolve back to it.

A question about one sentence of a 600-character item should still find the item, and a
512-token encoder sees only the start of a long clause; windows cover the rest. Each unit
is embedded with its breadcrumb (document › chapter › section › title) in front.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ingest.model import Clause
from kb.text import split_sentences

# Bump when the unit recipe changes: the collection name includes it, so old vectors are never reused.
CHUNKING_VERSION = "u2"
CLAUSE_HEAD_CHARS = 320   # the clause unit embeds the breadcrumb and this much of the text
WINDOW_CHARS = 150        # sentence windows of long clauses, about this long
LONG_CLAUSE_CHARS = 200   # clauses longer than this also get windows


@dataclass(frozen=True)
class Unit:
    id: str
    clause_id: str
    kind: str        # "clause" | "window"
    text: str        # what is embedded (breadcrumb + text)
    window: str      # the clause text this unit covers


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def sentence_windows(text: str, size: int = WINDOW_CHARS) -> list[str]:
    """Consecutive sentences packed to about ``size`` characters, each window overlapping the last by one sentence."""
    sentences = split_sentences(text)
    windows: list[str] = []
    i = 0
    while i < len(sentences):
        j, length = i, 0
        while j < len(sentences) and (j == i or length + len(sentences[j]) <= size):
            length += len(sentences[j])
            j += 1
        windows.append("".join(sentences[i:j]))
        if j >= len(sentences):
            break
        i = j - 1 if j - 1 > i else j
    return windows


def units_for(clause: Clause) -> list[Unit]:
    crumb = clause.breadcrumb
    head = f"{crumb}\n{clause.text[:CLAUSE_HEAD_CHARS]}"
    units = [Unit(f"{clause.id}#c:{_short_hash(head)}", clause.id, "clause", head, clause.text)]
    if len(clause.text) > LONG_CLAUSE_CHARS:
        short_crumb = f"{clause.title}" if clause.title else ""
        for n, win in enumerate(sentence_windows(clause.text)):
            text = f"{short_crumb}\n{win}" if short_crumb else win
            units.append(Unit(f"{clause.id}#w{n}:{_short_hash(text)}", clause.id, "window", text, win))
    return units
