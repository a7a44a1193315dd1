"""Embeddings cached by (model, content hash) in SQLite: unchanged text is never embedded twice."""
from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kb.embeddings import Embedder


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """Wraps an ``Embedder``; ``embed_passages`` looks in the cache before calling the model."""

    def __init__(self, embedder: Embedder, path: Path):
        self.inner = embedder
        self.name, self.dim = embedder.name, embedder.dim
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, vec BLOB, "
                         "PRIMARY KEY (model, hash))")
        self.computed = 0   # passages embedded by the model (not served from the cache)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str], batch: int = 16,
                       on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        hashes = [content_hash(t) for t in texts]
        found = self._lookup(set(hashes))
        todo = [i for i, h in enumerate(hashes) if h not in found]
        for start in range(0, len(todo), batch):
            idx = todo[start:start + batch]
            vecs = self.inner.embed_passages([texts[i] for i in idx])
            rows = [(self.name, hashes[i], v.astype(np.float32).tobytes()) for i, v in zip(idx, vecs)]
            with self._db:  # commit per batch: a killed ingest keeps what it paid for
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
            for i, v in zip(idx, vecs):
                found[hashes[i]] = v
            self.computed += len(idx)
            if on_batch:
                on_batch(len(idx))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[h] for h in hashes]).astype(np.float32)

    def remember(self, texts: list[str], vectors: np.ndarray) -> None:
        """Store vectors computed elsewhere for these texts (the benchmark's synthetic copies)."""
        rows = [(self.name, content_hash(t), v.astype(np.float32).tobytes()) for t, v in zip(texts, vectors)]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

    def _lookup(self, hashes: set[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        keys = list(hashes)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for h, blob in self._db.execute(
                    f"SELECT hash, vec FROM vectors WHERE model = ? AND hash IN ({marks})", [self.name, *chunk]):
                out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def close(self) -> None:
        self._db.close()
