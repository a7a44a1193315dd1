"""The table of contents: document → chapter → section → clause, each clause opening to its text."""
from __future__ import annotations

from itertools import groupby

from app.clause_view import chapter_name, clause_card, section_name, short_name, status_badge
from app.markup import esc, snippet
from ingest.model import Clause
from kb.model import DocumentInfo, Standing


def _clause_entry(clause: Clause) -> str:
    # Articles are titled only 第十条; their first words say what they are about.
    lead = snippet(clause.text, (), 40) if clause.kind == "article" else ""
    return clause_card(clause, heading=short_name(clause), summary_html=esc(lead), extra_class="kb-toc-clause",
                       show_page=False)


def _group(css: str, title: str, count: int, inner: str, open_: bool = False, badge: str = "") -> str:
    return (f'<details class="{css}"{" open" if open_ else ""}><summary>{esc(title)}{badge}'
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


def document_toc_html(title: str, clauses: list[Clause], open_: bool = False,
                      standing: Standing | None = None) -> str:
    """One document's outline; clauses must be in reading order. ``standing`` adds its status badge
    (and its version to the title when the knowledge base holds several)."""
    parts = []
    for chapter, group in groupby(clauses, key=lambda c: (c.chapter, c.chapter_title)):
        group = list(group)
        if chapter[0] is None:
            parts.append("".join(_clause_entry(c) for c in group))
        else:
            parts.append(_group("kb-toc-chapter", chapter_name(*chapter), len(group), _sections_html(group)))
    version = f"（{standing.version}）" if standing and standing.version else ""
    return _group("kb-toc-doc", f"《{title}》{version}", len(clauses), "".join(parts), open_=open_,
                  badge=status_badge(standing))


def _document_of(clause: Clause, keys: list[str]) -> str:
    """The key of the document a clause belongs to (its id starts with it); the title without documents."""
    return next((k for k in keys if clause.id.startswith(k + "/")), clause.doc_title)


def toc_html(clauses: list[Clause], documents: list[DocumentInfo] | None = None) -> str:
    """Every document, in the order the knowledge base lists them; the first one starts open.
    With ``documents``, each carries its status badge and versions of one title stay apart."""
    if not clauses:
        return '<div class="kb-toc kb-empty">知识库中还没有文件。 No documents yet.</div>'
    info = {d.key: d for d in documents or () if d.key}
    keys = sorted(info, key=len, reverse=True)   # the longest key first: 「条例（2020年公布）」 before 「条例」
    docs: dict[str, list[Clause]] = {}
    for c in clauses:
        docs.setdefault(_document_of(c, keys), []).append(c)
    body = "".join(
        document_toc_html(group[0].doc_title, group, open_=(i == 0),
                          standing=info[key].standing if key in info else None)
        for i, (key, group) in enumerate(docs.items()))
    return f'<div class="kb-toc">{body}</div>'
