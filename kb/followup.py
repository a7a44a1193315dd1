"""Follow-up questions: 「那小微企业呢？」 after a question about procurement means
「政府采购 … 小微企业」. An elliptical question borrows the previous user turn's words."""
from __future__ import annotations

import re

from kb.references import parse_references

_ELLIPSIS = re.compile(r"^(那|那么|还有|另外|其他|其它|再|这个|这些|它|他们|what about|and |how about)|呢[？?]?$|"
                       r"(这个|这些|这项|该项|上述|上面|刚才|它的|其中)", re.IGNORECASE)
SHORT_QUESTION = 12


def is_follow_up(question: str) -> bool:
    """Elliptical (「那…呢？」) or very short — unless it names a clause itself (「那第8条呢？」)."""
    if parse_references(question):
        return False
    return bool(_ELLIPSIS.search(question.strip())) or len(question.strip()) <= SHORT_QUESTION


def previous_answer(history: list[dict] | None) -> str:
    """The last assistant turn without its [n] markers: a follow-up usually continues in the
    clause that answer came from (「那小微企业呢？」 after the procurement shares of one clause)."""
    for m in reversed(history or []):
        if isinstance(m, dict) and m.get("role") == "assistant" and isinstance(m.get("content"), str):
            return re.sub(r"\[\d+\]", "", m["content"])[:2000]
    return ""


def contextual_query(question: str, history: list[dict] | None) -> str:
    """The text to retrieve with: the question, preceded by the last user turn when it leans on it."""
    if not history or not is_follow_up(question):
        return question
    previous = [m.get("content", "") for m in history
                if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)]
    if not previous:
        return question
    return f"{previous[-1].strip()} {question}"
