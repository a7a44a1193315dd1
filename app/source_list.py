"""An answer as text with its sources listed under it, for clients that show only text
(OpenAI-compatible chat front-ends, MCP agents), and the way back for the history they return.

    政府采购……预留给小微企业的比例不低于60%。[1]

    ---
    **来源 Sources**
    - [1] 《青岛市“十四五”民营经济和中小企业发展规划》第三章第一节 第2条「进一步放开市场准入」

The block is Markdown (a rule, a bold heading, a list) because those front-ends render Markdown.
"""
from __future__ import annotations

from app.chat_view import cited_and_related
from app.clause_view import citation_text
from kb.model import Answer, Citation

DIVIDER = "\n\n---\n"
SOURCES = "**来源 Sources**"
RELATED = "**相关条款 Related clauses**"
POSSIBLY_RELATED = "**可能相关的条款（不构成回答） Possibly related clauses (not an answer)**"
NOTICE = "> 提示 Notice："
_APPENDIX_STARTS = (SOURCES, RELATED, POSSIBLY_RELATED, NOTICE)


def _listed(citations: list[Citation]) -> str:
    return "\n".join(f"- [{c.marker}] {citation_text(c.clause)}" for c in citations)


def answer_with_sources(answer: Answer) -> str:
    """The answer text, unchanged, then notices and the sources its [n] markers point to."""
    parts: list[str] = []
    if answer.notices:
        parts.append("\n".join(NOTICE + n for n in answer.notices))
    if answer.refused and answer.citations:
        parts.append(f"{POSSIBLY_RELATED}\n{_listed(answer.citations)}")
    elif answer.citations:
        cited, related = cited_and_related(answer)
        parts.append(f"{SOURCES}\n{_listed(cited)}")
        if related:
            parts.append(f"{RELATED}\n{_listed(related)}")
    return answer.text + (DIVIDER + "\n\n".join(parts) if parts else "")


def strip_sources(content: str) -> str:
    """The answer text of a message ``answer_with_sources`` made; any other text unchanged.

    A follow-up reads the previous answer; the labels of its sources would only add noise.
    """
    text, divider, appendix = content.rpartition(DIVIDER)
    return text if divider and appendix.startswith(_APPENDIX_STARTS) else content
