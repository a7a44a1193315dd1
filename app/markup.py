"""Text → safe HTML: every piece of document or user text passes through here.

Document text is only ever shown as text. We split it into plain and highlighted
runs on the raw string and escape each run, so a clause containing ``<script>``
or ``<img onerror=…>`` renders inert, and Markdown is never involved.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable

# Separators between search terms: spaces and ASCII/CJK punctuation.
_TERM_SPLIT = re.compile(r"[\s,.;:!?'\"()\[\]{}<>/\\|，。；：！？、“”‘’（）【】《》「」『』…—·]+")
MARKER = re.compile(r"\[(\d{1,2})\]")


def esc(text: object) -> str:
    """HTML-escape anything (quotes too, so the result is safe inside attributes)."""
    return html.escape("" if text is None else str(text), quote=True)


def text_block(text: str) -> str:
    """Escaped text whose line breaks survive in any container (also the chatbot's)."""
    return esc(text).replace("\n", "<br>")


def query_terms(query: str) -> list[str]:
    """Words of a search query worth highlighting, longest first.

    Single CJK characters are dropped: highlighting every 的 or 和 helps nobody.
    """
    terms = dict.fromkeys(t for t in _TERM_SPLIT.split(query.strip()) if len(t) >= 2)
    return sorted(terms, key=len, reverse=True)   # stable: equal lengths keep query order


def find_spans(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Sorted, merged (start, end) ranges of every occurrence of any needle (case-insensitive)."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for needle in needles:
        n = needle.strip().lower()
        if not n:
            continue
        start = lowered.find(n)
        while start != -1:
            spans.append((start, start + len(n)))
            start = lowered.find(n, start + len(n))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def highlight(text: str, needles: Iterable[str], css_class: str = "kb-hit") -> str:
    """Escaped ``text`` with each occurrence of a needle wrapped in ``<mark class=…>``."""
    out, pos = [], 0
    for s, e in find_spans(text, needles):
        out.append(text_block(text[pos:s]))
        out.append(f'<mark class="{esc(css_class)}">{text_block(text[s:e])}</mark>')
        pos = e
    out.append(text_block(text[pos:]))
    return "".join(out)


def count_matches(text: str, needles: Iterable[str]) -> int:
    return len(find_spans(text, needles))


def snippet(text: str, needles: Iterable[str], width: int = 80) -> str:
    """A short excerpt around the first match (or the start), as raw text with ellipses."""
    spans = find_spans(text, needles)
    start = max(0, spans[0][0] - width // 3) if spans else 0
    end = min(len(text), start + width)
    piece = text[start:end].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if end < len(text) else "")


def mark_citations(escaped: str) -> str:
    """Turn [1] markers in already-escaped answer text into clickable superscripts.

    The chatbot's sanitizer drops data-* attributes, so the page script reads n from the text.
    """
    return MARKER.sub(r'<sup class="kb-marker" title="查看来源 / View source">[\1]</sup>', escaped)
