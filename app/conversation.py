"""A chat session as plain data: turns in, chatbot messages and kb history out (no Gradio here)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from app.chat_view import answer_html, error_html, partial_answer_html, question_html
from app.failures import describe_failure
from kb import Answer, KnowledgeBase


@dataclass
class Turn:
    question: str                 # as sent to kb, already cut to the length limit
    answer: Answer | None = None
    partial: str = ""
    error: str | None = None
    pasted_chars: int = 0         # length before cutting, when the paste was too long

    @property
    def shown_question(self) -> str:
        if not self.pasted_chars:
            return self.question
        return f"{self.question}…（已截断，原文 {self.pasted_chars} 字 · cut）"


@dataclass
class Conversation:
    """Kept in a ``gr.State``: Gradio reads state on the server when a queued event starts,
    so a question asked while another is answered sees the finished earlier turn."""

    turns: list[Turn] = field(default_factory=list)

    def history(self) -> list[dict]:
        """Earlier exchanges as kb expects them (``{"role", "content"}``, oldest first)."""
        out: list[dict] = []
        for t in self.turns:
            if t.answer is not None:
                out += [{"role": "user", "content": t.question},
                        {"role": "assistant", "content": t.answer.text}]
        return out

    def messages(self) -> list[dict]:
        """What the chatbot shows: escaped HTML for every bubble."""
        out: list[dict] = []
        for t in self.turns:
            out.append({"role": "user", "content": question_html(t.shown_question)})
            if t.error:
                body = error_html(t.error)
            elif t.answer is not None:
                body = answer_html(t.answer)
            else:
                body = partial_answer_html(t.partial)
            out.append({"role": "assistant", "content": body})
        return out

    @property
    def last_answer(self) -> Answer | None:
        for t in reversed(self.turns):
            if t.answer is not None:
                return t.answer
        return None


def new_turn(question: str, limit: int) -> Turn:
    """A turn for ``question``, cut the way kb cuts it (whitespace collapsed, ``limit`` characters)."""
    q = " ".join(question.split())
    return Turn(q[:limit], pasted_chars=len(q) if len(q) > limit else 0)


def ask(kb: KnowledgeBase, conversation: Conversation, question: str, limit: int) -> Iterator[Turn]:
    """Append a turn and fill it as the answer streams; yields the turn after every change.

    A failing knowledge base (lost Chroma server, missing index) ends the turn with a readable
    error instead of raising.
    """
    history = conversation.history()
    turn = new_turn(question, limit)
    conversation.turns.append(turn)
    yield turn
    try:
        for kind, payload in kb.answer_stream(question, history):
            if kind == "delta":
                turn.partial += payload
                yield turn
            elif kind == "answer":
                turn.answer = payload
        if turn.answer is None:
            raise RuntimeError("answer_stream ended without an answer")
    except Exception as err:  # noqa: BLE001 - anything the kb raises becomes a message
        turn.error = describe_failure(err)
    yield turn
