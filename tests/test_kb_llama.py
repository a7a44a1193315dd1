"""The llama-index adapters: the knowledge base as a llama-index retriever and vector store."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_retriever_returns_clauses_with_citation_metadata(kb):
    from llama_index.core.schema import QueryBundle

    from kb.llama import KnowledgeBaseRetriever

    nodes = KnowledgeBaseRetriever(kb, top_k=5).retrieve(QueryBundle("专栏5"))
    assert nodes[0].node.node_id == "plan/ch3/s3/box5"
    assert nodes[0].node.metadata["label"].endswith("专栏5「“十四五”时期民营孵化器建设项目」")
    assert len(nodes) == 5


def test_chroma_vector_store_answers_a_vector_query(kb):
    from llama_index.core.vector_stores.types import VectorStoreQuery

    from kb.llama import LlamaIndexEmbedding, chroma_vector_store

    store = chroma_vector_store(kb)
    embedding = LlamaIndexEmbedding(kb.embedder)
    result = store.query(VectorStoreQuery(query_embedding=embedding.get_query_embedding("政府采购预留份额"),
                                          similarity_top_k=5))
    clause_ids = [n.metadata["clause_id"] for n in result.nodes]
    assert "plan/ch3/s1/item2" in clause_ids
