"""The table of contents: document → chapter → section → clause, each clause opening to its text."""
from __future__ import annotations

from itertools import groupby

from app.clause_view import chapter_name, clause_card, section_name, short_name
from app.markup import esc, snippet
from ingest.model import Clause


def _clause_entry(clause: Clause) -> str:
    # Articles are titled only 第十条; their first words say what they are about.
    lead = snippet(clause.text, (), 40) if clause.kind == "article" else ""
    return clause_card(clause, heading=short_name(clause), summary_html=esc(lead), extra_class="kb-toc-clause",
                       show_page=False)


def _group(css: str, title: str, count: int, inner: str, open_: bool = False) -> str:
    return (f'<details class="{css}"{" open" if open_ else ""}><summary>{esc(title)}'
            f'<span class="kb-toc-count">{count}</span></summary>{inner}</details>')


def _sections_html(clauses: list[Clause]) -> str:
    parts = []
    for section, group in groupby(clauses, key=lambda c: (c.section, c.section_title)):
        group = list(group)
        entries = "".join(_clause_entry(c) for c in group)
        if section[0] is None:
            parts.append(entries)
        else:
            parts.append(_group("kb-toc-section", section_name(*section), len(group), entries))
    return "".join(parts)


def document_toc_html(title: str, clauses: list[Clause], open_: bool = False) -> str:
    """One document's outline; clauses must be in reading order."""
    parts = []
    for chapter, group in groupby(clauses, key=lambda c: (c.chapter, c.chapter_title)):
        group = list(group)
        if chapter[0] is None:
            parts.append("".join(_clause_entry(c) for c in group))
        else:
            parts.append(_group("kb-toc-chapter", chapter_name(*chapter), len(group), _sections_html(group)))
    return _group("kb-toc-doc", f"《{title}》", len(clauses), "".join(parts), open_=open_)


def toc_html(clauses: list[Clause]) -> str:
    """Every document, in the order the knowledge base lists them; the first one starts open."""
    if not clauses:
        return '<div class="kb-toc kb-empty">知识库中还没有文件。 No documents yet.</div>'
    docs: dict[str, list[Clause]] = {}
    for c in clauses:
        docs.setdefault(c.doc_title, []).append(c)
    body = "".join(document_toc_html(title, group, open_=(i == 0)) for i, (title, group) in enumerate(docs.items()))
    return f'<div class="kb-toc">{body}</div>'
