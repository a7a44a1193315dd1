"""Chroma holds the unit vectors: embedded under the KB folder, or a ``chroma run`` server.

chromadb is used directly: incremental ingest needs exact control of ids, and importing
llama-index on the query path would cost more than the 3-second cold start allows. The same
collection is available to llama-index as a ``ChromaVectorStore`` through ``kb.llama``.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from kb.units import CHUNKING_VERSION, Unit


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


class VectorIndex:
    """The unit vectors of one embedding model and chunking version (collection ``name``).

    The client connects on first use, not when the object is made: a process can read its
    catalog and answer by keywords while the vector store is still unreachable.
    """

    def __init__(self, kb_dir: Path, model_name: str, url: str | None = None):
        self.kb_dir, self.model_name, self.url = kb_dir, model_name, url
        self.name = collection_name(model_name)
        self._client = None
        self._collection = None
        self._connecting = threading.Lock()

    def connect(self):
        """Open the client and the collection now; returns the chromadb collection."""
        with self._connecting:
            if self._collection is None:
                client = self.guarded(lambda: _client(self.kb_dir, self.url))
                # A few thousand vectors: a wide HNSW search is still sub-millisecond and makes the
                # neighbours exact, so a KB built in another order ranks the same (measured: it did not).
                self._collection = self.guarded(lambda: client.get_or_create_collection(
                    self.name, metadata={"hnsw:space": "cosine", "hnsw:construction_ef": 200,
                                         "hnsw:search_ef": 200, "hnsw:M": 32,
                                         "embedding_model": self.model_name}))
                self._client = client
                self._drop_older_versions(client)
            return self._collection

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

    def _drop_older_versions(self, client) -> None:
        """Collections of the same model built with an older chunking recipe are never read again."""
        prefix = self.name.rsplit("-", 1)[0] + "-"
        for name in self.guarded(client.list_collections):
            name = getattr(name, "name", name)
            if name.startswith(prefix) and name != self.name:
                self.guarded(lambda name=name: client.delete_collection(name))

    def close(self) -> None:
        """Release the client; the next use reconnects, and an embedded Chroma then re-reads what
        other processes wrote."""
        with self._connecting:
            client, self._client, self._collection = self._client, None, None
        close = getattr(client, "close", None)
        if close:
            close()

    def ids(self) -> set[str]:
        return set(self.guarded(lambda: self.collection.get(include=[])["ids"]))

    def add(self, units: list[Unit], vectors: np.ndarray) -> None:
        if not units:
            return
        self.guarded(lambda: self.collection.upsert(
            ids=[u.id for u in units], embeddings=vectors.tolist(),
            metadatas=[{"clause_id": u.clause_id, "kind": u.kind} for u in units],
            documents=[u.window for u in units]))

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            self.guarded(lambda chunk=chunk: self.collection.delete(ids=chunk))

    def count(self) -> int:
        return int(self.guarded(lambda: self.collection.count()))

    def query(self, vector: np.ndarray, top_k: int) -> list[tuple[str, str, float, str]]:
        """(unit id, clause id, cosine similarity, unit text), best first."""
        # No count() first: chromadb returns what it has when asked for more (an empty list when
        # empty), and a count per question was a second round trip to a server.
        result = self.guarded(lambda: self.collection.query(
            query_embeddings=[vector.tolist()], n_results=top_k, include=["metadatas", "documents", "distances"]))
        if not result["ids"] or not result["ids"][0]:
            return []
        rows = zip(result["ids"][0], result["metadatas"][0], result["distances"][0], result["documents"][0])
        # cosine space: distance = 1 - similarity
        return [(uid, (meta or {}).get("clause_id", ""), 1.0 - float(dist), doc or "") for uid, meta, dist, doc in rows]
