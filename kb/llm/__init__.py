"""Optional LLM answers over any OpenAI-compatible endpoint, every citation verified.

``kb.answering``, when ``settings.llm_base_url`` is set::

    from kb.llm import stream_llm_answer
    for kind, value in stream_llm_answer(settings, question, history, citations, extractive):
        ...   # ("delta", "…") while streaming, then ("answer", Answer)

The llama-index client (the ``llm`` extra) is imported only when a request is made.
"""
from kb.llm.answer import llm_answer, stream_llm_answer
from kb.llm.client import LLMUnavailable, require_client
from kb.llm.verify import Verification, render, verify_answer

__all__ = [
           "LLMUnavailable",
           "Verification",
           "llm_answer",
           "render",
           "require_client",
           "stream_llm_answer",
           "verify_answer",
]
