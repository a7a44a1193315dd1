"""llama-index adapters: the knowledge base inside llama-index pipelines (imported on demand).

    from kb.llama import KnowledgeBaseRetriever
    retriever = KnowledgeBaseRetriever(kb)              # a llama-index BaseRetriever
    RetrieverQueryEngine.from_args(retriever, llm=…)   # any llama-index query engine on top

The product's own query path does not import llama-index (it costs seconds of cold start).
"""
from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import PrivateAttr

from kb.embeddings import Embedder


class LlamaIndexEmbedding(BaseEmbedding):
    """Any ``Embedder`` as a llama-index embedding (queries and passages keep their roles)."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs):
        super().__init__(model_name=embedder.name, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_queries([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def clause_node(clause, score: float | None = None) -> NodeWithScore:
    """A clause as a llama-index node: its text, with the citation fields as metadata."""
    node = TextNode(id_=clause.id, text=clause.text, metadata={
        "label": clause.label, "doc_title": clause.doc_title, "chapter": clause.chapter,
        "section": clause.section, "item": clause.item, "box": clause.box, "article": clause.article,
        "page": clause.page})
    return NodeWithScore(node=node, score=score)


class KnowledgeBaseRetriever(BaseRetriever):
    """The hybrid retriever (references, dense, BM25, priors) behind llama-index's retriever interface."""

    def __init__(self, kb, top_k: int = 5, **kwargs):
        super().__init__(**kwargs)
        self._kb, self._top_k = kb, top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [clause_node(h.clause, h.score) for h in self._kb.search(query_bundle.query_str, top_k=self._top_k)]


def chroma_vector_store(kb):
    """The knowledge base's Chroma collection as a llama-index ``ChromaVectorStore``."""
    from llama_index.vector_stores.chroma import ChromaVectorStore

    return ChromaVectorStore(chroma_collection=kb.vectors.collection)
