"""The llama-index default pipeline (eval's baseline) scaled to the same corpus size as the KB.

The chunks are ``eval.baselines.llamaindex_default``'s (SentenceSplitter 1024/200 over the real
source files, the same embedding model, an in-memory ``VectorStoreIndex``, top 5); at N× each
chunk is copied N-1 times the way ``bench.synthetic`` copies clauses: perturbed text, the real
chunk's vector plus noise.
"""
from __future__ import annotations

import random

import numpy as np

from bench.synthetic import SEED, VECTOR_NOISE, perturb
from kb.settings import Settings


def real_files(settings: Settings) -> list:
    """The source files of the real corpus, without the synthetic copies' files (in the KB folder,
    or named ``copyNNN_…`` by ``bench.copies``)."""
    from bench.copies import is_copy
    from ingest.readers import supported_suffixes
    from ingest.sources import discover

    files, _ = discover(settings.sources, supported_suffixes())
    kb_dir = settings.dir.resolve()
    return [f for f in files if kb_dir not in f.resolve().parents and not is_copy(f)]


def scaled_llamaindex_retriever(settings: Settings, factor: int, top_k: int = 5):
    """(retriever, number of nodes): a default llama-index retriever over ``factor`` × the chunks."""
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import MetadataMode, TextNode

    from eval.baselines.llamaindex_default import LlamaIndexDefaultBaseline
    from kb.embed_cache import CachedEmbedder
    from kb.embeddings import load_embedder
    from kb.llama import LlamaIndexEmbedding

    embedder = CachedEmbedder(load_embedder(settings.embed_model), settings.embed_cache_path)
    base = LlamaIndexDefaultBaseline(real_files(settings), embedder, [], {}, top_k=top_k)
    real = base.nodes
    # Served from the embedding cache: the baseline has just embedded these very texts.
    vectors = embedder.embed_passages([n.get_content(metadata_mode=MetadataMode.EMBED) for n in real])
    rng, noise = random.Random(SEED), np.random.default_rng(SEED)
    alphabet = "".join(ch for n in real for ch in n.get_content() if "\u4e00" <= ch <= "\u9fff")
    nodes = [TextNode(id_=n.node_id, text=n.get_content(), metadata=n.metadata, embedding=v.tolist())
             for n, v in zip(real, vectors)]
    for k in range(1, factor):
        for n, v in zip(real, vectors):
            noisy = v + noise.normal(0.0, VECTOR_NOISE, v.shape).astype(np.float32)
            nodes.append(TextNode(id_=f"{n.node_id}~{k}", text=perturb(n.get_content(), rng, alphabet),
                                  metadata=n.metadata, embedding=(noisy / np.linalg.norm(noisy)).tolist()))
    index = VectorStoreIndex(nodes, embed_model=LlamaIndexEmbedding(embedder), show_progress=False)
    return index.as_retriever(similarity_top_k=top_k), len(nodes)
