"""The records that leave kb/: a retrieved ``Hit``, a composed ``Answer``, and what the
reference, search and document calls return (``Lookup``, ``SearchFilters``, ``DocumentInfo``)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TypedDict

from ingest.model import Clause, DocumentDates

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
class Standing:
    """Whether a document is in force on the reference date, and which version it is (``kb.validity``)."""

    status: str                  # in_force | expired | not_yet_in_force | superseded | repealed
    label: str                   # 现行有效 · 规划期已届满 · 尚未施行 · 已被修订 · 已废止 …
    effective_from: str | None   # ISO date; a plan's period start
    effective_until: str | None  # ISO date, inclusive; a plan's period end
    version: str | None = None   # 「2025年修订」 when the KB holds several versions of the title
    note: str | None = None      # what a non-current version's label adds: 「2020年公布版，已被修订」

    def cite(self, label: str) -> str:
        """``label`` with the note after the document's 《title》."""
        if not self.note:
            return label
        head, sep, rest = label.partition("》")
        return f"{head}{sep}（{self.note}）{rest}" if sep else f"{label}（{self.note}）"

    def to_json(self) -> dict:
        return {"status": self.status, "status_label": self.label, "effective_from": self.effective_from,
                "effective_until": self.effective_until, "version": self.version}


@dataclass(frozen=True)
class Citation:
    """A source of an answer; ``marker`` n is what [n] in the answer text points to."""

    marker: int
    clause: Clause
    score: float
    supporting: tuple[str, ...] = ()   # sentences of the clause used in the answer (highlighted in the app)
    standing: Standing | None = None   # set once the answer is composed (kb.validity)

    @property
    def label(self) -> str:
        """The clause's citation label; a version not in force says which version it is."""
        return self.standing.cite(self.clause.label) if self.standing else self.clause.label

    def to_json(self) -> dict:
        c = self.clause
        standing = self.standing.to_json() if self.standing else {
            "status": None, "status_label": None, "effective_from": None, "effective_until": None, "version": None}
        return {
            "doc_title": c.doc_title, "chapter": c.chapter, "section": c.section, "item": c.item,
            "box": c.box, "article": c.article, "label": self.label, "page": c.page,
            "score": round(float(self.score), 6), "text": c.text,
            "id": c.id, "kind": c.kind, "marker": self.marker, "supporting": list(self.supporting),
            **standing,
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
    as_of: str | None = None       # the reference date the citations' status was decided on

    def to_json(self) -> dict:
        return {
            "id": self.id, "question": self.question, "answer": self.text, "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "latency_ms": round(self.latency_ms, 2), "mode": self.mode, "verified": self.verified,
            "notices": list(self.notices), "degraded": self.degraded, "as_of": self.as_of,
        }


# Events of ``KnowledgeBase.answer_stream``: text as it is produced, then the finished Answer.
StreamEvent = tuple[str, "str | Answer"]   # ("delta", "…") | ("answer", Answer)


class SearchFilters(TypedDict, total=False):
    doc_title: str      # a document's full title, as in Clause.doc_title
    chapter: int
    in_force: bool      # only clauses of documents in force on ``as_of`` (「只看现行有效」)
    as_of: str          # YYYY-MM-DD; default KB_TODAY, else today


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
    key: str = ""                        # the id prefix of its clauses (versions of one title differ here)
    dates: DocumentDates | None = None   # its dated events, 施行 date, period (ingest.validity)
    standing: Standing | None = None     # its status on the reference date (kb.validity)


@dataclass(frozen=True)
class Lookup:
    """The result of resolving a reference such as 「第7条」 or 「中小企业促进法第十条」."""

    clauses: list[Clause]      # best first: for 「第十条」 the plan's item 10, then the laws' 第十条
    message: str | None = None  # e.g. 「规划共44条，没有第50条」 when nothing matches
    is_reference: bool = False  # the text was a reference at all
