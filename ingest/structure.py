"""From a reader's ``SourceText`` to a ``Document`` of clauses: pick the parser, read the metadata."""
from __future__ import annotations

from ingest.clause_builder import ClauseBuilder
from ingest.law_parser import LawParser, looks_like_law
from ingest.metadata import (
    doc_kind,
    iso_date,
    issuer,
    short_title,
    title_from_filename,
    title_from_front_matter,
)
from ingest.model import Document, SourceText
from ingest.plan_parser import PlanParser


def parse_source(source: SourceText, doc_key: str | None = None) -> Document:
    """Parse one file's text. ``doc_key`` overrides the id prefix (used when two short titles clash)."""
    blocks = [b for b in source.blocks if b.text.strip()]
    law = looks_like_law(blocks)
    title = _title(source, blocks, law)
    kind = doc_kind(title)
    if law and kind in ("plan", "other"):
        kind = "regulation"
    short = short_title(title, kind)
    key = doc_key or ("plan" if short == "规划" else short)
    builder = ClauseBuilder(key, title, kind)
    if law:
        parser = LawParser(builder)
        parser.feed(blocks)
        meta_lines = parser.preamble or parser.front_matter
    else:
        parser = PlanParser(builder)
        parser.feed(blocks)
        meta_lines = parser.front_matter
    return Document(
        title=title, short_title=short, kind=kind, path=source.path, clauses=builder.clauses,
        issuer=issuer(meta_lines), date=iso_date("\n".join(meta_lines)), preamble=meta_lines,
        encoding=source.encoding, warnings=list(source.warnings), doc_key=doc_key,
    )


def _title(source: SourceText, blocks, law: bool) -> str:
    head = [b.text.strip() for b in blocks[:8]]
    if head and head[0].startswith("# "):
        return head[0][2:].strip()
    if found := title_from_front_matter(head):
        return found
    # A first line that names a plan or regulation is the title (plain-text laws).
    if head and len(head[0]) <= 40 and doc_kind(head[0].strip("《》")) != "other":
        return head[0].strip("《》")
    return title_from_filename(source.path)
