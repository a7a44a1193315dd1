"""The knowledge base as an MCP server (official ``mcp`` SDK): tools for agents, documents as resources.

One server definition, two transports: stdio (``python -m kb.mcp``, for Claude Desktop and Cline) and
streamable HTTP at ``/mcp`` on the app (``mcp_http_app``). Every tool calls the same ``KnowledgeBase``
as the page, the JSON API and /v1; each returns readable text for the model plus structured content
(the same JSON contract as ``/api/ask`` and ``/api/clause``) for programs.
"""
from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any, Literal
from urllib.parse import quote, unquote

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from analytics import QuestionLog
from app.api import REFERENCE_FORMS
from app.clause_view import chapter_name, citation_text, section_name, short_name
from app.markup import snippet
from app.source_list import answer_with_sources
from ingest.model import Clause
from kb import KnowledgeBase
from kb.model import DocumentInfo

INSTRUCTIONS = (
    "青岛市“十四五”民营经济和中小企业发展规划及相关法律法规（中小企业促进法、保障中小企业款项支付条例等）的知识库。"
    "Use `ask` for a question in plain words (answers quote the documents, each sentence marked [n]); "
    "`get_clause` for a reference such as 专栏5, 第7条 or 中小企业促进法第十条; `search_clauses` to find every clause "
    "about a topic; `list_documents` and `table_of_contents` to see what is there. When you answer a person, "
    "quote the text and give the `citation` of each clause you used."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
SCHEME = "plankb://document/"


class ClauseResult(BaseModel):
    """A clause in the JSON contract of ``/api/clause`` (further fields pass through)."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(description="Stable clause id, e.g. plan/ch3/s3/box5; get_clause accepts it.")
    citation: str = Field(description="The citation to give a person: label and page.")
    doc_title: str
    label: str
    text: str


class SearchHit(ClauseResult):
    score: float
    found_by: list[str] = Field(description="reference, keyword, dense and/or lexical")


class SearchResult(BaseModel):
    query: str
    hits: list[SearchHit]


class DocumentResult(BaseModel):
    title: str
    short_title: str
    kind: str = Field(description="plan, law, regulation or other")
    issuer: str | None
    date: str | None
    clause_count: int
    uri: str = Field(description="The document's MCP resource (full text with clause labels)")


class DocumentList(BaseModel):
    documents: list[DocumentResult]


class TocEntry(BaseModel):
    document: str
    chapter: str | None
    section: str | None
    id: str | None = Field(description="Clause id (entries of one document), else None")
    name: str
    clauses: int = 1


class TableOfContents(BaseModel):
    document: str | None
    entries: list[TocEntry]


class AskResult(BaseModel):
    """The answer in the JSON contract of ``/api/ask``."""

    model_config = ConfigDict(extra="allow")
    question: str
    answer: str = Field(description="The answer text with [n] markers pointing at citations[].marker")
    refused: bool = Field(description="True when the documents do not address the question")
    citations: list[dict[str, Any]]
    notices: list[str]


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str


def _result(text: str, data: BaseModel) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=data.model_dump(mode="json"))


def clause_result(clause: Clause) -> ClauseResult:
    return ClauseResult(**clause.to_json(), citation=citation_text(clause))


def resolve_document(kb: KnowledgeBase, name: str) -> DocumentInfo:
    """A document by full title, short title or file name; else one whose title contains ``name``."""
    docs = kb.documents()
    wanted = name.strip().strip("《》")
    for d in docs:
        if wanted in (d.title, d.short_title, d.source, d.source.rsplit(".", 1)[0]):
            return d
    partial = [d for d in docs if wanted and (wanted in d.title or wanted in d.short_title)]
    if len(partial) == 1:
        return partial[0]
    names = "；".join(f"{d.short_title}（{d.title}）" for d in docs)
    what = "不止一个文件符合" if partial else "没有这个文件"
    raise ToolError(f"{what}「{name}」/ {'ambiguous' if partial else 'no such'} document {name!r}。"
                    f"现有文件 / documents: {names}")


def _toc_name(clause: Clause) -> str:
    # Articles are titled only 第十条; their first words say what they are about.
    lead = snippet(clause.text, (), 40) if clause.kind == "article" else ""
    return f"{short_name(clause)} {lead}".strip()


def _toc(kb: KnowledgeBase, doc: DocumentInfo | None) -> TableOfContents:
    if doc is not None:   # every clause of one document, with its id
        entries = [TocEntry(document=doc.short_title, chapter=chapter_name(c.chapter, c.chapter_title) if c.chapter
                            else None, section=section_name(c.section, c.section_title) or None, id=c.id,
                            name=_toc_name(c)) for c in kb.clauses(doc.title)]
        return TableOfContents(document=doc.title, entries=entries)
    entries = []          # the outline of every document: chapters and sections with their clause counts
    for d in kb.documents():
        for (ch, ch_title, sec, sec_title), group in groupby(
                kb.clauses(d.title), key=lambda c: (c.chapter, c.chapter_title, c.section, c.section_title)):
            name = " ".join(x for x in (chapter_name(ch, ch_title) if ch else "", section_name(sec, sec_title)) if x)
            entries.append(TocEntry(document=d.short_title, chapter=chapter_name(ch, ch_title) if ch else None,
                                    section=section_name(sec, sec_title) or None, id=None,
                                    name=name or "（无章节）", clauses=len(list(group))))
    return TableOfContents(document=None, entries=entries)


def _document_text(kb: KnowledgeBase, doc: DocumentInfo) -> str:
    """A document in reading order, each clause under its citation label (Markdown)."""
    head = f"# 《{doc.title}》\n\n" + "，".join(x for x in (doc.issuer, doc.date) if x)
    return head + "".join(f"\n\n## {citation_text(c)}\n\n{c.text}" for c in kb.clauses(doc.title))


def build_mcp(kb: KnowledgeBase, question_log: QuestionLog | None = None) -> MCPServer:
    """The server with its tools and resources; run it with ``.run("stdio")`` or serve ``mcp_http_app``.
    Every answer of ``ask`` goes to ``question_log`` (as "mcp") when there is one."""
    server = MCPServer("plan-kb", title="青岛民营经济规划知识库 · Qingdao SME plan knowledge base",
                       instructions=INSTRUCTIONS, log_level="WARNING")   # the SDK configures root logging

    @server.tool(annotations=READ_ONLY)
    def search_clauses(query: str, document: str | None = None,
                       top_k: Annotated[int, Field(ge=1, le=50)] = 10) -> Annotated[CallToolResult, SearchResult]:
        """Find the clauses about a topic or containing words, best first, across all documents.

        A reference in the query (专栏5, 第7条, 中小企业促进法第十条) comes first, then every clause
        containing all the words, then semantic matches. `document` narrows the search to one
        document (full title, short title such as 规划 or 中小企业促进法, or file name); `top_k` caps
        the semantic matches (keyword and reference matches are all returned). Each hit has the
        full clause text and its `citation`.
        """
        if not query.strip():
            raise ToolError("query: 请给出检索词 / give words to search for")
        filters = {"doc_title": resolve_document(kb, document).title} if document else None
        hits = kb.search(query, filters, top_k=top_k)
        result = SearchResult(query=query, hits=[SearchHit(**clause_result(h.clause).model_dump(),
                                                           score=round(float(h.score), 4),
                                                           found_by=list(h.retrievers)) for h in hits])
        lines = [f"[{i}] {h.citation}（{h.id}）\n{h.text}" for i, h in enumerate(result.hits, 1)]
        text = "\n\n".join(lines) if lines else f"没有找到与「{query}」相关的条款 / no clause matches {query!r}"
        return _result(text, result)

    @server.tool(annotations=READ_ONLY)
    def get_clause(ref: str) -> Annotated[CallToolResult, ClauseResult]:
        """The full text of one clause by reference or id, with its citation.

        `ref` may be a clause id (plan/ch3/s1/item7) or a reference as people write it:
        专栏5, 第7条, 规划第7条, 第二章第三节, 中小企业促进法第十条, 保障中小企业款项支付条例第九条.
        A reference that matches several clauses (第十条 exists in several laws) returns the first:
        the plan's, unless the document is named.
        """
        found = kb.clause(ref.strip())
        if found is None:
            lookup = kb.lookup(ref.strip())
            reason = (lookup.message or f"没有找到「{ref}」 / no clause matches {ref!r}").rstrip("。")
            raise ToolError(f"{reason}。{REFERENCE_FORMS}")
        result = clause_result(found)
        return _result(f"{result.citation}（{result.id}）\n\n{found.text}", result)

    @server.tool(annotations=READ_ONLY)
    def list_documents() -> Annotated[CallToolResult, DocumentList]:
        """The documents in the knowledge base: the Qingdao plan and the related laws and regulations,
        with issuer, date and clause count. Use a short title as `document` in the other tools."""
        result = DocumentList(documents=[
            DocumentResult(title=d.title, short_title=d.short_title, kind=d.kind, issuer=d.issuer, date=d.date,
                           clause_count=d.clause_count, uri=SCHEME + quote(d.short_title)) for d in kb.documents()])
        text = "\n".join(f"- 《{d.title}》（{d.short_title}；{d.kind}；{d.issuer or '—'}；{d.date or '—'}）"
                         f"{d.clause_count} 个条款 · {d.uri}" for d in result.documents)
        return _result(text, result)

    @server.tool(annotations=READ_ONLY)
    def table_of_contents(document: str | None = None) -> Annotated[CallToolResult, TableOfContents]:
        """The outline of the documents.

        Without `document`: every document's chapters and sections with their clause counts.
        With `document` (title, short title or file name): every clause of that document in
        reading order, with the clause id `get_clause` takes.
        """
        result = _toc(kb, resolve_document(kb, document) if document else None)
        if result.document:
            text = "\n".join(f"{e.id}  {' '.join(x for x in (e.chapter, e.section) if x)} · {e.name}"
                             for e in result.entries)
        else:
            text = "\n".join(f"{e.document} · {e.name}（{e.clauses} 个条款）" for e in result.entries)
        return _result(text, result)

    @server.tool(annotations=READ_ONLY)
    def ask(question: str, history: list[Message] | None = None) -> Annotated[CallToolResult, AskResult]:
        """Answer a question about the plan and the laws, quoting the documents with [n] citations.

        Ask in plain Chinese or English (小微企业贷款难，有什么支持？). `history` holds earlier turns,
        oldest first ({"role": "user"|"assistant", "content": ...}), so a follow-up such as
        其中小微企业的比例呢？ is understood. The result says `refused: true` when the documents do
        not address the question; then do not make an answer up. Each citation has the clause text,
        its label and page.
        """
        if not question.strip():
            raise ToolError("question: 问题不能为空 / the question must not be empty")
        turns = [m.model_dump() for m in history or []]
        answer = kb.answer(question, turns or None)
        if question_log is not None:
            question_log.record(answer, "mcp", follow_up=bool(turns))
        return _result(answer_with_sources(answer), AskResult(**answer.to_json()))

    @server.resource(SCHEME + "{name}", mime_type="text/markdown",
                     description="A document's full text in reading order, each clause under its citation label")
    def document(name: str) -> str:
        try:
            return _document_text(kb, resolve_document(kb, unquote(name)))
        except ToolError as err:
            raise ResourceError(str(err)) from None

    for d in _documents_or_none(kb):   # listed for discovery; read through the template above
        server.resource(SCHEME + quote(d.short_title), name=d.short_title, title=f"《{d.title}》",
                        mime_type="text/markdown")(_reader(kb, d.short_title))
    return server


def _reader(kb: KnowledgeBase, short_title: str):
    def read() -> str:
        return _document_text(kb, resolve_document(kb, short_title))
    return read


def _documents_or_none(kb: KnowledgeBase) -> list[DocumentInfo]:
    try:
        return kb.documents()
    except Exception:  # noqa: BLE001 - a KB that cannot be read yet still serves its tools (which then explain)
        return []


def mcp_http_app(kb: KnowledgeBase, path: str = "/mcp", question_log: QuestionLog | None = None):
    """(ASGI app serving ``path``, its session manager): the app's lifespan enters ``manager.run()``.

    Stateless: any of several app processes behind a proxy can answer any request, with no sticky
    sessions. No DNS-rebinding host check: behind a proxy the Host header is the public name, and
    what protects the endpoint is KB_API_KEYS (app.access), as for /v1 and /api.
    """
    server = build_mcp(kb, question_log)
    app = server.streamable_http_app(
        streamable_http_path=path, stateless_http=True, json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    return app, server.session_manager
