"""``KnowledgeBase``: the one object app/, eval/ and the CLI talk to."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypedDict

from ingest.model import Clause
from kb.model import Answer, Hit
from kb.settings import Settings


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


# Events of ``KnowledgeBase.answer_stream``: text as it is produced, then the finished Answer.
StreamEvent = tuple[str, "str | Answer"]   # ("delta", "…") | ("answer", Answer)


class KnowledgeBase:
    """Open with ``KnowledgeBase.open()``; see the package docstring for usage."""

    def __init__(self, settings: Settings | None = None):
        from kb.engine import Engine

        self.settings = settings or Settings()
        self._engine = Engine(self.settings)

    @classmethod
    def open(cls, settings: Settings | None = None, *, progress: bool = True) -> KnowledgeBase:
        """Open the knowledge base, building or updating it first when the sources changed
        (with a Chroma server: taking the version published there, when there is one)."""
        kb = cls(settings)
        kb._engine.open_index(progress=progress)
        return kb

    def ingest(self, *, progress: bool = True, on_progress=None):
        """Bring the index up to date with the sources; returns an ``IngestReport``.

        ``on_progress(stage, done, total)`` lets the app draw its own progress bar.
        """
        return self._engine.ingest(progress=progress, on_progress=on_progress)

    def answer(self, question: str, history: list[dict] | None = None, *, mode: str | None = None) -> Answer:
        """Answer a question (history: earlier ``{"role", "content"}`` messages, oldest first).

        ``mode="extractive"`` skips a configured LLM (the /v1 endpoint offers both as models).
        """
        return self._engine.answer(question, history, mode)

    def answer_stream(self, question: str, history: list[dict] | None = None) -> Iterator[StreamEvent]:
        """Like ``answer`` but yields ("delta", text) pieces first and ("answer", Answer) last."""
        return self._engine.answer_stream(question, history)

    def search(self, query: str, filters: SearchFilters | None = None, top_k: int = 20) -> list[Hit]:
        """References resolve first, then clauses containing the words, then hybrid retrieval."""
        return self._engine.search(query, filters or {}, top_k)

    def clause(self, ref: str) -> Clause | None:
        """A clause by id (``plan/ch3/s1/item7``) or by reference (「专栏5」「中小企业促进法第十条」)."""
        return self._engine.clause(ref)

    def lookup(self, ref: str) -> Lookup:
        return self._engine.lookup(ref)

    def clauses(self, doc_title: str | None = None) -> list[Clause]:
        """All clauses in reading order (the table of contents), optionally of one document."""
        return self._engine.clauses(doc_title)

    def documents(self) -> list[DocumentInfo]:
        return self._engine.documents()

    @property
    def embed_model(self) -> str:
        return self._engine.embed_model_name

    def health(self) -> dict:
        """{"ok": bool, "documents": n, "clauses": n, "vector_store": "...", "error": str | None}."""
        return self._engine.health()
