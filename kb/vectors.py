"""Chroma holds the unit vectors: embedded under the KB folder, or a ``chroma run`` server.

chromadb is used directly: incremental ingest needs exact control of ids, and importing
llama-index on the query path would cost more than the 3-second cold start allows. The same
collection is available to llama-index as a ``ChromaVectorStore`` through ``kb.llama``.
"""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from kb.units import CHUNKING_VERSION, Unit, clause_of


class VectorStoreUnavailable(RuntimeError):
    """The vector store cannot be reached; the message tells the user what to do."""


def collection_name(model_name: str) -> str:
    """Derived from the embedding model and chunking version, so switching models never mixes vectors."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model_name).strip("-._")[:40]
    return f"plankb-{slug}-{CHUNKING_VERSION}"


def _client(kb_dir: Path, url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if not url:
        return chromadb.PersistentClient(path=str(kb_dir / "chroma"), settings=settings)
    parsed = urlparse(url if "://" in url else f"http://{url}")
    try:
        return chromadb.HttpClient(host=parsed.hostname or "127.0.0.1", port=parsed.port or 8000,
                                   ssl=parsed.scheme == "https", settings=settings)
    except Exception as err:  # chromadb raises ValueError/ConnectionError variants when it cannot connect
        raise VectorStoreUnavailable(
            f"无法连接向量数据库 Chroma 服务器 {url}：请确认服务已启动（chroma run --path … --port …），"
            f"或取消 KB_CHROMA_URL 以使用内置数据库。({type(err).__name__}: {err})") from err


RETRY_SECONDS = 2.0   # after a failure, calls fail at once for this long instead of waiting on a dead server


class VectorIndex:
    """The unit vectors of one embedding model and chunking version (collection ``name``).

    The client connects on first use, not when the object is made, and reconnects by itself after
    a failure (at most every ``RETRY_SECONDS``): a process can read its catalog and answer by
    keywords while the vector store is unreachable, and needs no restart when it comes back.
    Opening the index never deletes anything (old collections go through ``python -m kb gc``).
    """

    def __init__(self, kb_dir: Path, model_name: str, url: str | None = None):
        self.kb_dir, self.model_name, self.url = kb_dir, model_name, url
        self.name = collection_name(model_name)
        self._client = None
        self._collection = None
        self._connecting = threading.Lock()
        self._failed_at = 0.0
        self._last_error: VectorStoreUnavailable | None = None
        # Set by a reader that found fewer vectors than its generation needs (a server restarted
        # empty): queries then fail with this message, so answers say they used keywords alone.
        self.shortfall: str | None = None

    def connect(self):
        """Open the client and the collection now; returns the chromadb collection."""
        with self._connecting:
            if self._collection is not None:
                return self._collection
            if self._last_error is not None and time.monotonic() - self._failed_at < RETRY_SECONDS:
                raise VectorStoreUnavailable(str(self._last_error))
            try:
                if self._client is None:
                    self._client = self.guarded(lambda: _client(self.kb_dir, self.url))
                client = self._client
                # A few thousand vectors: a wide HNSW search is still sub-millisecond and makes the
                # neighbours exact, so a KB built in another order ranks the same (measured: it did not).
                self._collection = self.guarded(lambda: client.get_or_create_collection(
                    self.name, metadata={"hnsw:space": "cosine", "hnsw:construction_ef": 200,
                                         "hnsw:search_ef": 200, "hnsw:M": 32,
                                         "embedding_model": self.model_name}))
            except VectorStoreUnavailable as err:
                self._failed_at, self._last_error = time.monotonic(), err
                raise
            self._last_error = None
            return self._collection

    def _use(self, call):
        """``call(collection)``; a failure forgets the collection, so it is looked up again (a server
        that restarted, or lost it, is found by name) once ``RETRY_SECONDS`` have passed."""
        collection = self.connect()
        try:
            return self.guarded(lambda: call(collection))
        except VectorStoreUnavailable as err:
            with self._connecting:
                if self._collection is collection:
                    self._collection = None
                self._failed_at, self._last_error = time.monotonic(), err
            raise

    @property
    def client(self):
        """The chromadb client (connected)."""
        self.connect()
        return self._client

    @property
    def collection(self):
        """The chromadb collection (for adapters such as ``kb.llama.chroma_vector_store``)."""
        return self.connect()

    def side_collection(self, name: str):
        """Another collection on the same client, holding records looked up by id and metadata only
        (``kb.publish`` keeps the published generation there)."""
        client = self.client
        return self.guarded(lambda: client.get_or_create_collection(name, embedding_function=None))

    def guarded(self, call):
        """Run ``call``; any failure of the store becomes ``VectorStoreUnavailable`` with a message for the user."""
        try:
            return call()
        except VectorStoreUnavailable:
            raise
        except Exception as err:
            where = f"Chroma 服务器 {self.url}" if self.url else "内置 Chroma 数据库"
            raise VectorStoreUnavailable(
                f"向量数据库不可用（{where}）：{type(err).__name__}: {err}。"
                "请检查服务器是否运行，或重新执行 python -m kb ingest。") from err

    def sibling_collections(self) -> list[str]:
        """Collections of this embedding model built with another chunking version, and their state
        collections (``python -m kb gc`` decides which may go)."""
        slug = re.escape(self.name.rsplit("-", 1)[0].removeprefix("plankb-"))
        pattern = re.compile(rf"^plankb-(state-|lease-)?{slug}-[^-]+$")
        names = [getattr(c, "name", c) for c in self.guarded(self.client.list_collections)]
        own = {self.name, *(self.name.replace("plankb-", f"plankb-{role}-", 1) for role in ("state", "lease"))}
        return sorted(n for n in names if pattern.match(n) and n not in own)

    def drop_collection(self, name: str) -> None:
        if name == self.name:
            raise ValueError(f"refusing to drop the collection in use: {name}")
        self.guarded(lambda: self.client.delete_collection(name))

    def close(self) -> None:
        """Release the client; the next use reconnects, and an embedded Chroma then re-reads what
        other processes wrote."""
        with self._connecting:
            client, self._client, self._collection = self._client, None, None
            self._last_error = None
        close = getattr(client, "close", None)
        if close:
            close()

    def ids(self) -> set[str]:
        return set(self._use(lambda col: col.get(include=[])["ids"]))

    def add(self, units: list[Unit], vectors: np.ndarray) -> None:
        if not units:
            return
        self._use(lambda col: col.upsert(
            ids=[u.id for u in units], embeddings=vectors.tolist(),
            metadatas=[{"clause_id": u.clause_id, "kind": u.kind} for u in units],
            documents=[u.window for u in units]))

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            self._use(lambda col, chunk=chunk: col.delete(ids=chunk))

    def count(self) -> int:
        return int(self._use(lambda col: col.count()))

    def query(self, vector: np.ndarray, top_k: int) -> list[tuple[str, str, float]]:
        """(unit id, clause id, cosine similarity), best first."""
        # No count() first: chromadb returns what it has when asked for more (an empty list when
        # empty), and a count per question was a second round trip to a server. Only distances
        # come back: the clause id is read off the unit id and its text is rebuilt from the catalog
        # (``kb.units.unit_windows``); fetching the texts was half the query's time (2 of 4 ms).
        if self.shortfall:
            raise VectorStoreUnavailable(self.shortfall)
        result = self._use(lambda col: col.query(
            query_embeddings=[vector.tolist()], n_results=top_k, include=["distances"]))
        if not result["ids"] or not result["ids"][0]:
            return []
        # cosine space: distance = 1 - similarity
        return [(uid, clause_of(uid), 1.0 - float(dist)) for uid, dist in zip(result["ids"][0], result["distances"][0])]
