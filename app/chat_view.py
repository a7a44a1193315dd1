"""The chat's HTML: question and answer bubbles, and the source cards under an answer.

Chatbot messages are handed to Gradio as HTML with Markdown rendering off, so
everything here is escaped first; [n] markers become superscripts that open card n.
"""
from __future__ import annotations

from app.clause_view import clause_card
from app.markup import MARKER, esc, mark_citations, snippet, text_block
from kb.model import Answer, Citation

THINKING = "正在检索条款… Searching the documents…"


def question_html(question: str) -> str:
    return f'<div class="kb-msg kb-question">{text_block(question)}</div>'


def partial_answer_html(text: str) -> str:
    """An answer still streaming in."""
    body = mark_citations(text_block(text)) if text else esc(THINKING)
    return f'<div class="kb-msg kb-answer kb-streaming">{body}</div>'


def notices_html(notices: list[str]) -> str:
    if not notices:
        return ""
    items = "".join(f"<li>{esc(n)}</li>" for n in notices)
    return f'<ul class="kb-notices">{items}</ul>'


def answer_html(answer: Answer) -> str:
    """The finished answer bubble; a refusal is styled as one and says where to look next."""
    body = mark_citations(text_block(answer.text))
    if answer.refused:
        hint = ("下方列出了可能相关的条款。 Possibly related clauses are listed below."
                if answer.citations else "请换个说法，或在「条款检索」中查找。 Try rephrasing or use clause search.")
        return (f'<div class="kb-msg kb-answer kb-refusal"><div class="kb-refusal-head">未找到直接依据 · No direct answer</div>'
                f'{body}<div class="kb-refusal-hint">{esc(hint)}</div>{notices_html(answer.notices)}</div>')
    count = len(cited_markers(answer)) or len(answer.citations)
    how = ("大模型归纳，引用已逐句核验 · LLM answer, citations verified" if answer.mode == "llm"
           else "原文摘录 · quoted from the documents")
    foot = (f'<div class="kb-answer-foot">{how} · 依据 {count} 个条款，见下方出处 · {count} source(s) below</div>'
            if count else "")
    return f'<div class="kb-msg kb-answer">{body}{notices_html(answer.notices)}{foot}</div>'


def error_html(message: str) -> str:
    return f'<div class="kb-msg kb-answer kb-error">{text_block(message)}</div>'


def _citation_card(citation: Citation) -> str:
    clause = citation.clause
    lead = citation.supporting[0] if citation.supporting else snippet(clause.text, (), 90)
    return clause_card(clause, marker=citation.marker, supporting=citation.supporting,
                       summary_html=esc(lead))


def cited_markers(answer: Answer) -> set[int]:
    """The [n] markers the answer text actually uses."""
    return {int(n) for n in MARKER.findall(answer.text)}


def cited_and_related(answer: Answer) -> tuple[list[Citation], list[Citation]]:
    """The citations the text's markers point to (all of them when it uses none), and the rest."""
    used = cited_markers(answer)
    cited = [c for c in answer.citations if c.marker in used] or list(answer.citations)
    return cited, [c for c in answer.citations if c not in cited]


def sources_html(answer: Answer | None) -> str:
    """The cards under the latest answer: [n] label, page, text with supporting sentences marked."""
    if answer is None:
        return ('<div class="kb-sources kb-empty">回答的出处会显示在这里：点开卡片查看条款全文并复制引用。'
                '<br>Sources of each answer appear here: open a card for the full clause and its citation.</div>')
    if not answer.citations:
        return '<div class="kb-sources kb-empty">没有可引用的条款。 No clause to cite.</div>'
    if answer.refused:
        head = f"可能相关的条款（不构成回答） · Possibly related clauses (not an answer)（{len(answer.citations)}）"
        return _fold("kb-sources-refused", head, "".join(_citation_card(c) for c in answer.citations))
    cited, related = cited_and_related(answer)
    cards = "".join(_citation_card(c) for c in cited)
    if related:
        cards += '<div class="kb-sources-head kb-related-head">相关条款 · Related clauses</div>'
        cards += "".join(_citation_card(c) for c in related)
    return _fold("", f"出处 · Sources（{len(cited)}）", cards)


def _fold(extra_class: str, head: str, cards: str) -> str:
    """The sources as one fold under the answer: open on a wide screen, closed on a phone by the
    page script (assets/app.js), so the answer comes first there and its sources a tap away."""
    classes = " ".join(x for x in ("kb-sources", "kb-sources-fold", extra_class) if x)
    return (f'<details class="{classes}" open><summary class="kb-sources-head">{esc(head)}</summary>'
            f'{cards}</details>')
