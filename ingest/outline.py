"""The outline of a parsed document as a tree, so an official can check the parse at a glance."""
from __future__ import annotations

from ingest.citation import division_path
from ingest.model import Clause, Document
from ingest.numerals import int_to_cn_numeral


def clause_line(c: Clause) -> str:
    page = f"  p.{c.page}" if c.page else ""
    if c.kind == "item":
        name = f"{c.item}. {c.title}"
    elif c.kind == "box":
        name = f"专栏{c.box} {c.title}"
    elif c.kind == "article":
        name = f"{c.title}  {c.text[:24].splitlines()[0]}…"
    elif c.kind == "lead":
        name = "（导语）"
    else:
        name = c.title
    return f"{name}  [{len(c.text)}字]{page}"


def document_tree(doc: Document) -> list[str]:
    meta = " · ".join(x for x in (doc.kind, doc.issuer, doc.date, f"{len(doc.clauses)} 条款",
                                  doc.encoding) if x)
    lines = [f"《{doc.title}》  {meta}"]
    chapter = section = object()
    for c in doc.clauses:
        if c.chapter != chapter:
            chapter, section = c.chapter, object()
            if c.chapter is not None:
                lines.append(f"  第{int_to_cn_numeral(c.chapter)}章 {c.chapter_title or ''}".rstrip())
        if c.section != section:
            section = c.section
            if c.section is not None:
                lines.append(f"    {division_path(c.chapter, c.section)[-3:]} {c.section_title or ''}".rstrip())
        depth = 2 + (c.chapter is not None) + (c.section is not None)
        lines.append("  " * depth + "· " + clause_line(c))
    return lines


def counts(doc: Document) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in doc.clauses:
        out[c.kind] = out.get(c.kind, 0) + 1
    return out
