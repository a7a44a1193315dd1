"""The knowledge base: index clauses, retrieve them, answer with citations.

app/ and eval/ use only this public API::

    from kb import KnowledgeBase
    kb = KnowledgeBase.open()                  # builds or updates the index on first use
    ans = kb.answer("小微企业贷款难，有什么支持？")   # Answer(text, refused, citations, …)
    hits = kb.search("专精特新", {"doc_title": "青岛市“十四五”民营经济和中小企业发展规划"})
    c = kb.clause("专栏5")                      # Clause | None
"""
from kb.api import KnowledgeBase
from kb.model import REFUSAL, Answer, Citation, Hit, SearchFilters
from kb.serving import KnowledgeBaseNotReady
from kb.settings import Settings

__all__ = ["REFUSAL", "Answer", "Citation", "Hit", "KnowledgeBase", "KnowledgeBaseNotReady", "SearchFilters",
           "Settings"]
