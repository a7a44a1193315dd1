"""Follow-up questions: 「那小微企业呢？」 after a question about procurement means
「政府采购 … 小微企业」. An elliptical question borrows the previous user turn's words.

Whether a question leans on the conversation is decided by its words when they say so
(「那…呢」「其中」, kb/lexicon/questions.toml) and otherwise, for a short question, by evidence:
「专栏5」 or 「破产怎么办」 after a talk about loans is a new topic when it finds its answer alone.
"""
from __future__ import annotations

import re

from kb.lexicon import Lexicon
from kb.references import parse_references

SHORT_QUESTION = 12   # characters: a question this short may lean on the one before


def user_turns(history: list[dict] | None) -> list[str]:
    return [m["content"] for m in history or []
            if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)]


def leaning(question: str, history: list[dict] | None, lexicon: Lexicon) -> str:
    """"yes" (its words lean on the conversation), "maybe" (short: decide by evidence) or "no"."""
    if not user_turns(history) or parse_references(question):
        return "no"
    if lexicon.is_elliptical(question):
        return "yes"
    return "maybe" if len(question.strip()) <= SHORT_QUESTION else "no"


def previous_answer(history: list[dict] | None) -> str:
    """The last assistant turn without its [n] markers: a follow-up usually continues in the
    clause that answer came from (「那小微企业呢？」 after the procurement shares of one clause)."""
    for m in reversed(history or []):
        if isinstance(m, dict) and m.get("role") == "assistant" and isinstance(m.get("content"), str):
            return re.sub(r"\[\d+\]", "", m["content"])[:2000]
    return ""


def contextual_text(question: str, history: list[dict] | None) -> str:
    """The text to retrieve with: the question, preceded by the last user turn."""
    previous = user_turns(history)
    return f"{previous[-1].strip()} {question}" if previous else question
