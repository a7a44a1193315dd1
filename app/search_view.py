"""Clause-search results: counts per document, then one highlighted card per hit."""
from __future__ import annotations

from collections import Counter

from app.clause_view import chapter_name, clause_card
from app.markup import count_matches, esc, highlight, query_terms, snippet
from ingest.model import Clause
from kb.model import Hit, Standing

ALL_CHAPTERS = 0
_EXACT = {"reference", "keyword"}   # hits found by reference or literal words, listed first by kb
_RETRIEVER_NAMES = {"reference": "引用定位 reference", "keyword": "关键词 keyword",
                    "lexical": "词项 lexical", "bigram": "字词 bigram", "dense": "语义 semantic"}


def chapter_choices(clauses: list[Clause], one_document: bool) -> list[tuple[str, int]]:
    """Chapters to filter by; across all documents only the number is shared, so no titles then."""
    seen: dict[int, str | None] = {}
    for c in clauses:
        if c.chapter is not None and c.chapter not in seen:
            seen[c.chapter] = c.chapter_title if one_document else None
    return [("全部章节 All chapters", ALL_CHAPTERS)] + [(chapter_name(n, t), n) for n, t in sorted(seen.items())]


def document_counts(hits: list[Hit]) -> list[tuple[str, int]]:
    """(doc_title, number of hits) in order of first appearance."""
    counts = Counter(h.clause.doc_title for h in hits)
    order = list(dict.fromkeys(h.clause.doc_title for h in hits))
    return [(title, counts[title]) for title in order]


def _hit_card(hit: Hit, terms: list[str], open_: bool, standing: Standing | None = None) -> str:
    clause = hit.clause
    found = " · ".join(_RETRIEVER_NAMES.get(r, r) for r in hit.retrievers)
    matches = count_matches(clause.text, terms) if terms else 0
    meta = [found] if found else []
    if matches:
        meta.append(f"{matches} 处匹配 · {matches} match(es)")
    excerpt = snippet(hit.window or clause.text, terms, 120)
    summary = (f'<span class="kb-excerpt">{highlight(excerpt, terms)}</span>'
               f'<span class="kb-hit-meta">{esc(" · ".join(meta))}</span>')
    return clause_card(clause, summary_html=summary, terms=terms, open_=open_, show_page=False,
                       standing=standing, label=standing.cite(clause.label) if standing else None)


def search_results_html(query: str, hits: list[Hit], short_titles: dict[str, str],
                        message: str | None = None, standings: dict[str, Standing] | None = None) -> str:
    """Results for ``query``; ``message`` explains an empty result (e.g. 「规划共44条，没有第50条」);
    ``standings`` (clause id → status) puts a status badge on each card."""
    if not query.strip():
        return ('<div class="kb-results kb-empty">输入引用（第7条、专栏5、中小企业促进法第十条）或关键词（专精特新）。'
                '<br>Type a reference or keywords.</div>')
    if not hits:
        text = message or f"没有找到与「{query}」相关的条款。 No clause matches."
        return f'<div class="kb-results kb-empty">{esc(text)}</div>'
    terms = query_terms(query)
    counts = "".join(
        f'<span class="kb-count"><b>{esc(short_titles.get(title, title))}</b> {n} 条</span>'
        for title, n in document_counts(hits))
    head = (f'<div class="kb-results-head">共 {len(hits)} 条结果 · {len(hits)} result(s)'
            f'<span class="kb-counts">{counts}</span></div>')
    # A resolved reference (「专栏5」) opens straight away and is not highlighted word by word.
    # kb lists exact matches first; after them comes retrieval by meaning.
    related_from = next((i for i, h in enumerate(hits) if not _EXACT & set(h.retrievers)), len(hits))
    cards = []
    for i, h in enumerate(hits):
        if i == related_from > 0:
            cards.append('<div class="kb-results-sub">其他相关条款 · Related clauses</div>')
        cards.append(_hit_card(h, [] if "reference" in h.retrievers else terms,
                               open_=(i == 0 and "reference" in h.retrievers) or len(hits) == 1,
                               standing=(standings or {}).get(h.clause.id)))
    return f'<div class="kb-results">{head}{"".join(cards)}</div>'
