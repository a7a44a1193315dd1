"""``KnowledgeBase``: the one object app/, eval/ and the CLI talk to."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import numpy as np

from ingest.model import Clause
from kb.answering import Answerer
from kb.build import IngestReport
from kb.embed_cache import CachedEmbedder
from kb.model import Answer, DocumentInfo, Hit, Lookup, SearchFilters, Standing, StreamEvent
from kb.serving import Serving, Snapshot
from kb.settings import Settings
from kb.source_set import IngestPlan, SourceListing
from kb.vectors import VectorIndex

__all__ = ["DocumentInfo", "KnowledgeBase", "Lookup", "SearchFilters", "StreamEvent"]


class KnowledgeBase:
    """Open with ``KnowledgeBase.open()``; see the package docstring for usage."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self._serving = Serving(self.settings)
        self._answerer = Answerer(self.settings, self._serving.snapshot)

    @classmethod
    def open(cls, settings: Settings | None = None, *, progress: bool = True, wait: bool = False) -> KnowledgeBase:
        """Open the knowledge base as it is: a reader never adds or removes documents. Only a KB
        with no generation yet is built (from ``settings.sources``), and a damaged one rebuilt from
        the sources it remembers. With a Chroma server: the version published there.
        ``wait``: retry a Chroma server that cannot be reached when nothing is cached (the app)."""
        kb = cls(settings)
        kb._serving.open_index(progress=progress, wait=wait)
        return kb

    def ingest(self, *, sources: list[Path] | None = None, progress: bool = True, on_progress=None,
               on_plan: Callable[[IngestPlan], None] | None = None,
               on_wait: Callable[[str], None] | None = None) -> IngestReport:
        """Bring the index up to date with the remembered sources, or replace them with ``sources``;
        one writer at a time. Returns an ``IngestReport``.

        ``on_plan(plan)`` sees what will be added, removed or kept before anything changes;
        ``on_progress(stage, done, total)`` lets the app draw its own progress bar;
        ``on_wait(message)`` is told when another ingest holds the knowledge base.
        """
        return self._serving.writer.ingest(sources, progress=progress, on_progress=on_progress,
                                           on_plan=on_plan, on_wait=on_wait)

    def plan_ingest(self, sources: list[Path] | None = None) -> IngestPlan:
        """What ``ingest(sources=...)`` would add, remove or keep, changing nothing (``--dry-run``)."""
        return self._serving.writer.plan(sources)

    def sources(self) -> SourceListing:
        """The remembered sources (None for a KB never ingested) and, under each, every file:
        present, changed since ingest, missing on disk, or new."""
        return self._serving.source_states()

    def gc(self, *, dry_run: bool = False) -> list[str]:
        """Delete this model's collections of other chunking versions (once this version is published)."""
        return self._serving.writer.gc(dry_run=dry_run)

    def answer(self, question: str, history: list[dict] | None = None, as_of: str | None = None, *,
               mode: str | None = None) -> Answer:
        """Answer a question (history: earlier ``{"role", "content"}`` messages, oldest first);
        ``as_of`` (YYYY-MM-DD) answers as of that day: which documents are in force then.

        ``mode="extractive"`` skips a configured LLM (the /v1 endpoint offers both as models).
        """
        return self._answerer.answer(question, history, mode, as_of)

    def answer_stream(self, question: str, history: list[dict] | None = None,
                      as_of: str | None = None) -> Iterator[StreamEvent]:
        """Like ``answer`` but yields ("delta", text) pieces first and ("answer", Answer) last."""
        return self._answerer.answer_stream(question, history, as_of)

    def explain(self, question: str, history: list[dict] | None = None, *, params=None, keep: int = 20):
        """The extractive answer with every stage's record (``kb.answering.Explanation``): the analysed
        question, the ranked candidates and their features, the weighed sentences, the answerability
        judgement. ``params`` (a ``kb.params.Params``) overrides the fitted ones: what ``python -m
        eval.fit`` learns from."""
        return self._answerer.explain(question, history, params=params, keep=keep)

    def search(self, query: str, filters: SearchFilters | None = None, top_k: int = 20) -> list[Hit]:
        """References resolve first, then clauses containing the words, then hybrid retrieval."""
        return self._answerer.search(query, filters or {}, top_k)

    def clause(self, ref: str) -> Clause | None:
        """A clause by id (``plan/ch3/s1/item7``) or by reference (「专栏5」「中小企业促进法第十条」)."""
        return self._answerer.clause(ref)

    def lookup(self, ref: str) -> Lookup:
        return self._answerer.lookup(ref)

    def clauses(self, doc_title: str | None = None) -> list[Clause]:
        """All clauses in reading order (the table of contents), optionally of one document."""
        return self._answerer.clauses(doc_title)

    def documents(self, as_of: str | None = None) -> list[DocumentInfo]:
        """Every document, with its dates and its status on ``as_of`` (default KB_TODAY, else today)."""
        return self._answerer.documents(as_of)

    def reference_date(self, as_of: str | None = None) -> date:
        """The day statuses are decided on: ``as_of``, else KB_TODAY, else today."""
        return self._answerer.validity.day(as_of)

    def standing(self, clause: Clause, as_of: str | None = None) -> Standing | None:
        """Whether a clause's document is in force on ``as_of``, and which version it is."""
        return self._answerer.standing(clause, as_of)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for ``texts`` embedded the way questions are (one row per text), so that the
        cosine of two rows says how alike two questions are; the admin view groups wordings by it."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray(self.embedder.embed_queries(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    @property
    def embed_model(self) -> str:
        return self.settings.embed_model

    def health(self) -> dict:
        """{"ok": bool, "documents": n, "clauses": n, "vector_store": "...", "error": str | None}."""
        return self._serving.health()

    # -- the parts, for adapters (kb.llama), the benchmark and tests; answers never need them ----
    def snapshot(self) -> Snapshot:
        """The generation served now (catalog, BM25 index, retriever), immutable."""
        return self._serving.snapshot()

    @property
    def embedder(self) -> CachedEmbedder:
        """The embedding model in use, behind its cache."""
        return self._serving.embedder

    @property
    def vectors(self) -> VectorIndex:
        """The Chroma collection of this model's unit vectors."""
        return self._serving.vectors

    def close(self) -> None:
        """Release the vector store's client (a later call reconnects)."""
        self._serving.close()
