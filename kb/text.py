"""Chinese text helpers shared by indexing and answering: sentences, width folding, question hygiene."""
from __future__ import annotations

import re
import unicodedata

_SENTENCE = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;]+[”’」』）)]*|\n|$)")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def split_sentences(text: str) -> list[str]:
    """Sentences in reading order, keeping their closing punctuation (。；！？ and a closing quote)."""
    out = []
    for m in _SENTENCE.finditer(text):
        s = m.group(0).strip()
        if s:
            out.append(s)
    return out


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
