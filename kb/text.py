"""Chinese text helpers shared by indexing and answering: sentences, width folding, question hygiene."""
from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
SENTENCE_STOPS = "。！？!?；;"
_CLOSERS = "”’」』）)*"
_ENUMERATOR = re.compile(r"\s*(?:\d{1,2}|[A-Za-z])")


def sentence_spans(text: str, stops: str = SENTENCE_STOPS, marker: re.Pattern | None = None) -> list[str]:
    """The one sentence splitter. Lossless: the pieces join back to ``text``, each line break a
    piece of its own. A sentence ends at a run of ``stops`` (or a "." before a space, the end or a
    Chinese character, except the "1." of a numbered list), with the closing quotes after it and,
    when ``marker`` is given, the citation markers that follow it."""
    end = re.compile(rf"(?:[{re.escape(stops)}]+|\.(?=\s|$|[\u3400-\u9fff]))[{re.escape(_CLOSERS)}]*"
                     + (rf"(?:{marker.pattern})*" if marker else ""))
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        pos = 0
        for m in end.finditer(body):
            if m.group(0).startswith(".") and _ENUMERATOR.fullmatch(body[pos:m.start()]):
                continue   # the "1." of a numbered list, not a full stop
            pieces.append(body[pos:m.end()])
            pos = m.end()
        if pos < len(body):
            pieces.append(body[pos:])
        if len(body) < len(line):
            pieces.append(line[len(body):])
    return pieces


def split_sentences(text: str) -> list[str]:
    """Sentences in reading order, stripped, keeping their closing punctuation (。；！？ and a closing quote)."""
    return [s for s in (p.strip() for p in sentence_spans(text)) if s]


def fold_width(text: str) -> str:
    """Full-width digits, letters and ％ to half-width, so 「３０％」 matches 「30%」."""
    return unicodedata.normalize("NFKC", text)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def is_english(text: str) -> bool:
    """Mostly Latin words and no Chinese: answer in English."""
    return not has_cjk(text) and len(_LATIN_WORD.findall(text)) >= 2


def has_meaning(text: str) -> bool:
    """Some letter, digit or CJK character: an emoji-only or punctuation-only question has none."""
    return any(ch.isalnum() for ch in text)


def clean_question(text: str, max_chars: int) -> tuple[str, list[str]]:
    """Strip, collapse whitespace, and cut an over-long paste; returns the question and notices."""
    notices = []
    q = re.sub(r"\s+", " ", text or "").strip()
    if len(q) > max_chars:
        notices.append(f"问题过长（{len(q)} 字），已只取前 {max_chars} 字。")
        q = q[:max_chars]
    return q, notices
