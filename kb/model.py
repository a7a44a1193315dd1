"""The records that leave kb/: a retrieved ``Hit``, a composed ``Answer``, and what the
reference, search and document calls return (``Lookup``, ``SearchFilters``, ``DocumentInfo``)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TypedDict

from ingest.model import Clause

REFUSAL = "抱歉，现有文件中没有找到与该问题直接相关的规定。"
REFUSAL_EN = "Sorry, the documents in this knowledge base do not directly address this question."


@dataclass(frozen=True)
class Hit:
    """A clause found for a query, its fused score, and which retrievers found it."""

    clause: Clause
    score: float
    retrievers: tuple[str, ...] = ()   # "reference", "dense", "lexical"
    window: str | None = None          # the sentence window that matched, when not the whole clause


@dataclass(frozen=True)
class Citation:
    """A source of an answer; ``marker`` n is what [n] in the answer text points to."""

    marker: int
    clause: Clause
    score: float
    supporting: tuple[str, ...] = ()   # sentences of the clause used in the answer (highlighted in the app)

    def to_json(self) -> dict:
        c = self.clause
        return {
            "doc_title": c.doc_title, "chapter": c.chapter, "section": c.section, "item": c.item,
            "box": c.box, "article": c.article, "label": c.label, "page": c.page,
            "score": round(float(self.score), 6), "text": c.text,
            "id": c.id, "kind": c.kind, "marker": self.marker, "supporting": list(self.supporting),
        }


@dataclass
class Answer:
    question: str
    text: str
    refused: bool
    citations: list[Citation]
    latency_ms: float = 0.0
    mode: str = "extractive"       # "extractive" | "llm"
    verified: bool = True          # every sentence checked against its cited clause
    notices: list[str] = field(default_factory=list)  # shown to the user: question cut, LLM fell back…
    degraded: bool = False         # the vector store was unreachable: found by keywords (BM25) alone
    # Random and unique across processes and machines: feedback (POST /api/feedback) names the answer by it.
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> dict:
        return {
            "id": self.id, "question": self.question, "answer": self.text, "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "latency_ms": round(self.latency_ms, 2), "mode": self.mode, "verified": self.verified,
            "notices": list(self.notices), "degraded": self.degraded,
        }


# Events of ``KnowledgeBase.answer_stream``: text as it is produced, then the finished Answer.
StreamEvent = tuple[str, "str | Answer"]   # ("delta", "…") | ("answer", Answer)


class SearchFilters(TypedDict, total=False):
    doc_title: str      # a document's full title, as in Clause.doc_title
    chapter: int


@dataclass(frozen=True)
class DocumentInfo:
    """What the about page shows of one ingested document."""

    title: str
    short_title: str
    kind: str
    issuer: str | None
    date: str | None
    clause_count: int
    source: str          # file name
    ingested_at: str     # ISO timestamp of the last ingest that (re)processed it


@dataclass(frozen=True)
class Lookup:
    """The result of resolving a reference such as 「第7条」 or 「中小企业促进法第十条」."""

    clauses: list[Clause]      # best first: for 「第十条」 the plan's item 10, then the laws' 第十条
    message: str | None = None  # e.g. 「规划共44条，没有第50条」 when nothing matches
    is_reference: bool = False  # the text was a reference at all
