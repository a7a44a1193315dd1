"""条款检索 tab: references and keywords, filtered by document and chapter."""
from __future__ import annotations

import gradio as gr

from app.failures import banner_html, describe_failure
from app.search_view import ALL_CHAPTERS, chapter_choices, search_results_html
from kb import KnowledgeBase, SearchFilters

ALL_DOCUMENTS = "__all__"
# kb lists references and exact matches first, then clauses found by meaning, this many in all.
SEARCH_TOP_K = 30


def run_search(kb: KnowledgeBase, query: str, doc_title: str, chapter: int | None) -> str:
    """The results HTML for one search (raises what the kb raises)."""
    query = (query or "").strip()
    if not query:
        return search_results_html("", [], {})
    filters: SearchFilters = {}
    if doc_title and doc_title != ALL_DOCUMENTS:
        filters["doc_title"] = doc_title
    if chapter:
        filters["chapter"] = int(chapter)
    hits = kb.search(query, filters, top_k=SEARCH_TOP_K)
    message = None
    if not hits:
        lookup = kb.lookup(query)
        message = lookup.message if lookup.is_reference else None
    short_titles = {d.title: d.short_title for d in kb.documents()}
    return search_results_html(query, hits, short_titles, message)


def build_search_tab(kb: KnowledgeBase, banner: gr.HTML) -> None:
    try:
        documents, clauses = kb.documents(), kb.clauses()
    except Exception:  # noqa: BLE001 - an unreadable index: the banner says so, the filters stay empty
        documents, clauses = [], []
    doc_choices = [("全部文件 All documents", ALL_DOCUMENTS)] + [(f"《{d.short_title}》", d.title) for d in documents]
    with gr.Row(equal_height=True):
        query = gr.Textbox(label="引用或关键词 · Reference or keywords", scale=5, elem_id="kb-search-query",
                           placeholder="第7条、专栏5、中小企业促进法第十条、专精特新")
        doc = gr.Dropdown(doc_choices, value=ALL_DOCUMENTS, label="文件 Document", scale=3, elem_id="kb-search-doc")
        chapter = gr.Dropdown(chapter_choices(clauses, False), value=ALL_CHAPTERS, label="章 Chapter",
                              scale=2, elem_id="kb-search-chapter")
        go = gr.Button("检索 Search", variant="primary", scale=1, elem_id="kb-search-go")
    results = gr.HTML(search_results_html("", [], {}), elem_id="kb-search-results", js_on_load=None)

    def search(q: str, doc_title: str, chap: int):
        try:
            return run_search(kb, q, doc_title, chap), gr.skip()
        except Exception as err:  # noqa: BLE001 - shown in the banner, not as a traceback
            message = describe_failure(err)
            return gr.skip(), gr.update(value=banner_html(message), visible=True)

    def pick_document(doc_title: str):
        one = doc_title and doc_title != ALL_DOCUMENTS
        clauses = kb.clauses(doc_title if one else None)
        return gr.update(choices=chapter_choices(clauses, bool(one)), value=ALL_CHAPTERS)

    inputs, outputs = [query, doc, chapter], [results, banner]
    query.submit(search, inputs, outputs, api_name="search")
    go.click(search, inputs, outputs, api_visibility="private")
    doc.input(pick_document, doc, chapter, queue=False, api_visibility="private").then(
        search, inputs, outputs, api_visibility="private")
    chapter.input(search, inputs, outputs, api_visibility="private")
