"""Compose an LLM answer from retrieved citations: stream, verify, renumber — or fall back.

``kb.answering`` calls ``stream_llm_answer`` (or ``llm_answer``) with the sources it retrieved and
the extractive answer it already composed; that answer is returned, with a one-line notice,
whenever the model fails or too little of what it wrote can be verified.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace

from kb.compose import QUOTED_IN_CHINESE
from kb.llm.client import LLMUnavailable, complete_chat, stream_chat
from kb.llm.prompt import build_messages, question_language
from kb.llm.verify import render, strip_thinking, verify_answer
from kb.model import Answer, Citation, StreamEvent
from kb.settings import Settings

log = logging.getLogger(__name__)

# Notices that describe the extractive answer's form rather than the question; an LLM answer
# does not inherit them (the others — question cut, reference not found — still apply).
EXTRACTIVE_ONLY_NOTICES = frozenset({QUOTED_IN_CHINESE})

_NOTICES = {
    "zh": {
        "timeout": "大模型服务响应超时，已改用原文摘录回答。",
        "rate_limit": "大模型服务繁忙（请求过多），已改用原文摘录回答。",
        "malformed": "大模型服务返回了无法解析的结果，已改用原文摘录回答。",
        "empty": "大模型没有给出回答，已改用原文摘录回答。",
        "unverified": "大模型的回答未能通过引用核验，已改用原文摘录回答。",
        "other": "大模型服务暂不可用，已改用原文摘录回答。",
        "dropped": "已删去大模型回答中 {n} 句无法在所引条文中核实的内容。",
    },
    "en": {
        "timeout": "The language model timed out; answered with excerpts from the documents instead.",
        "rate_limit": "The language model is busy (rate limited); answered with excerpts from the documents instead.",
        "malformed": "The language model returned an unreadable reply; answered with excerpts from the documents instead.",
        "empty": "The language model gave no answer; answered with excerpts from the documents instead.",
        "unverified": "The language model's answer failed citation checks; answered with excerpts from the documents instead.",
        "other": "The language model is unavailable; answered with excerpts from the documents instead.",
        "dropped": "Removed {n} sentence(s) of the model's answer that the cited clauses do not support.",
    },
}


def notice(kind: str, question: str, **values) -> str:
    table = _NOTICES[question_language(question)]
    return table.get(kind, table["other"]).format(**values)


def fall_back(extractive: Answer, kind: str, started: float) -> Answer:
    """The extractive answer, saying why the model's was not used."""
    return replace(extractive, mode="extractive", notices=[*extractive.notices, notice(kind, extractive.question)],
                   latency_ms=extractive.latency_ms + (time.monotonic() - started) * 1000)


def finish(raw: str, citations: list[Citation], extractive: Answer, started: float) -> Answer:
    """Verify the model's full reply and build the LLM answer, or fall back."""
    if not strip_thinking(raw):
        return fall_back(extractive, "empty", started)
    checked = verify_answer(raw, citations)
    if not checked.acceptable:
        log.info("LLM answer rejected (kept %.0f%%): %s", checked.kept_share * 100,
                 [(s.body.strip(), s.reason) for s in checked.dropped])
        return fall_back(extractive, "unverified", started)
    text, cited = render(checked, citations)
    notices = [n for n in extractive.notices if n not in EXTRACTIVE_ONLY_NOTICES]
    # A lead-in such as 「主要渠道如下：」 carries no claim; dropping it is not worth a notice.
    claims_dropped = [d for d in checked.dropped if not d.body.rstrip().endswith(("：", ":"))]
    if claims_dropped and not checked.refused:
        notices.append(notice("dropped", extractive.question, n=len(claims_dropped)))
    return Answer(
        question=extractive.question, text=text, refused=checked.refused, citations=cited,
        latency_ms=extractive.latency_ms + (time.monotonic() - started) * 1000,
        mode="llm", verified=True, notices=notices,
    )


class HideThinking:
    """Holds back a reasoning model's <think>…</think> from the streamed deltas."""

    def __init__(self):
        self.buffer = ""
        self.thinking = False

    def feed(self, piece: str) -> str:
        self.buffer += piece
        out = ""
        while self.buffer:
            tag = "</think>" if self.thinking else "<think>"
            at = self.buffer.find(tag)
            if at >= 0:
                if not self.thinking:
                    out += self.buffer[:at]
                self.buffer = self.buffer[at + len(tag):]
                self.thinking = not self.thinking
                continue
            # Keep a possible partial tag at the end for the next piece.
            keep = next((k for k in range(len(tag) - 1, 0, -1) if self.buffer.endswith(tag[:k])), 0)
            if not self.thinking:
                out += self.buffer[:len(self.buffer) - keep]
            self.buffer = self.buffer[len(self.buffer) - keep:] if keep else ""
            break
        return out


def stream_llm_answer(settings: Settings, question: str, history: list[dict] | None,
                      citations: list[Citation], extractive: Answer) -> Iterator[StreamEvent]:
    """Yield ("delta", text) while the model streams, then ("answer", Answer) — verified LLM
    answer or the extractive one with a notice. Ends within ``settings.llm_timeout``."""
    started = time.monotonic()
    messages = build_messages(question, history, citations)
    pieces: list[str] = []
    visible = HideThinking()
    try:
        for piece in stream_chat(settings, messages, started + settings.llm_timeout):
            pieces.append(piece)
            shown = visible.feed(piece)
            if shown:
                yield "delta", shown
    except LLMUnavailable as exc:
        log.warning("LLM unavailable (%s); using the extractive answer", exc)
        yield "answer", fall_back(extractive, exc.kind, started)
        return
    yield "answer", finish("".join(pieces), citations, extractive, started)


def llm_answer(settings: Settings, question: str, history: list[dict] | None,
               citations: list[Citation], extractive: Answer) -> Answer:
    """The same answer from one non-streaming request (for the CLI, the JSON API and the eval)."""
    started = time.monotonic()
    try:
        raw = complete_chat(settings, build_messages(question, history, citations), started + settings.llm_timeout)
    except LLMUnavailable as exc:
        log.warning("LLM unavailable (%s); using the extractive answer", exc)
        return fall_back(extractive, exc.kind, started)
    return finish(raw, citations, extractive, started)
