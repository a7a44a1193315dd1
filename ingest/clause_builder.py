"""Accumulates the paragraphs of the clause being read and emits finished ``Clause`` records."""
from __future__ import annotations

from dataclasses import dataclass, field

from ingest.citation import clause_id, clause_label
from ingest.model import Clause, DocKind


@dataclass
class Position:
    """Where the reader is in the document's hierarchy."""

    chapter: int | None = None
    chapter_title: str | None = None
    section: int | None = None
    section_title: str | None = None


@dataclass
class OpenClause:
    kind: str
    title: str
    page: int | None
    item: int | None = None
    box: int | None = None
    article: int | None = None
    paragraphs: list[str] = field(default_factory=list)


class ClauseBuilder:
    """Collects clauses of one document; ``open`` starts one, ``add`` appends a paragraph."""

    def __init__(self, doc_key: str, doc_title: str, doc_kind: DocKind):
        self.doc_key, self.doc_title, self.doc_kind = doc_key, doc_title, doc_kind
        self.pos = Position()
        self.current: OpenClause | None = None
        self.clauses: list[Clause] = []
        self._seq: dict[tuple, int] = {}

    def open(self, kind: str, title: str, page: int | None, **numbers: int | None) -> None:
        self.close()
        self.current = OpenClause(kind, title, page, **numbers)

    def add(self, text: str, page: int | None) -> None:
        if self.current is None:
            return
        if self.current.page is None:
            self.current.page = page
        self.current.paragraphs.append(text)

    def take_last_paragraph(self) -> str | None:
        """Give back the last paragraph read (it turned out to be a heading)."""
        if self.current and self.current.paragraphs:
            return self.current.paragraphs.pop()
        return None

    def close(self, postprocess=None) -> None:
        c, self.current = self.current, None
        if c is None or not (c.paragraphs or c.kind in ("item", "box", "article", "topic")):
            return
        paragraphs = postprocess(c.paragraphs) if postprocess else c.paragraphs
        text = "\n".join(p for p in paragraphs if p)
        if not text.strip():
            return
        p = self.pos
        scope = (p.chapter, p.section, c.kind)
        self._seq[scope] = self._seq.get(scope, 0) + 1
        numbers = dict(chapter=p.chapter, section=p.section, item=c.item, box=c.box, article=c.article)
        self.clauses.append(Clause(
            id=clause_id(self.doc_key, c.kind, seq=self._seq[scope], **numbers),
            doc_title=self.doc_title, doc_kind=self.doc_kind, kind=c.kind, title=c.title,
            text=text, label=clause_label(self.doc_title, c.kind, title=c.title, **numbers),
            order=len(self.clauses), chapter_title=p.chapter_title, section_title=p.section_title,
            page=c.page, **numbers,
        ))
