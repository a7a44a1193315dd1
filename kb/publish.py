"""The published generation in a Chroma server: how app processes on several machines agree.

With ``KB_CHROMA_URL`` set, the server is the single source of truth. An ingest writes the vectors,
then the generation's files (catalog.json, lexical/*, sentences/*) into the collection
``plankb-state-…``, and only then moves the ``head`` record to the new generation, so a reader
never sees a half-published version. The writers' lease lives in ``plankb-lease-…``. Each app process keeps the generation it serves in its own
KB folder (a cache) and fetches a new one when the head moves.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from kb.generation import Manifest, install
from kb.vectors import VectorIndex

log = logging.getLogger("kb")

HEAD = "head"
LEASE = "lease"      # the writer's lease (kb.locks); not part of any generation
CHUNK = 512 * 1024   # bytes per record; a generation is ~1.5 MB, so a handful of records
KEEP = 2             # generations kept: the head and the one before, which a slow reader may be fetching


class IncompleteGeneration(RuntimeError):
    """The head names a generation whose files are not all in the server (pruned or still arriving)."""


def state_collection_name(vectors_name: str) -> str:
    return vectors_name.replace("plankb-", "plankb-state-", 1)


def lease_collection_name(vectors_name: str) -> str:
    """The writer's lease lives apart from the generations: a write to a collection holding a large
    generation took Chroma 1.6–2.5 s at 100× the corpus, and a lease is written twice per ingest."""
    return vectors_name.replace("plankb-", "plankb-lease-", 1)


class SharedState:
    """``head()`` is one small read; ``publish`` and ``fetch`` move a whole generation."""

    def __init__(self, vectors: VectorIndex):
        self.vectors = vectors
        self.name = state_collection_name(vectors.name)
        self.lease_name = lease_collection_name(vectors.name)
        self._collections: dict[str, object] = {}

    def _call(self, fn, name: str | None = None):
        """``fn(collection)`` on the state collection (or ``name``), guarded; a failure forgets the
        collection, so a server that restarted (perhaps empty) is looked up again on the next call."""
        name = name or self.name
        try:
            if name not in self._collections:
                self._collections[name] = self.vectors.side_collection(name)
            collection = self._collections[name]
            return self.vectors.guarded(lambda: fn(collection))
        except Exception:
            self._collections.pop(name, None)
            raise

    def head(self) -> Manifest | None:
        got = self._call(lambda col: col.get(ids=[HEAD], include=["documents"]))
        if not got["ids"]:
            return None
        return Manifest.from_json(json.loads(got["documents"][0]))

    def lease(self) -> dict | None:
        got = self._call(lambda col: col.get(ids=[LEASE], include=["documents"]), self.lease_name)
        return json.loads(got["documents"][0]) if got["ids"] else None

    def put_lease(self, record: dict) -> None:
        self._call(lambda col: col.upsert(ids=[LEASE], documents=[json.dumps(record, ensure_ascii=False)],
                                          metadatas=[{"kind": LEASE}], embeddings=[[1.0]]), self.lease_name)

    def publish(self, kb_dir: Path, manifest: Manifest) -> None:
        gen = manifest.generation
        previous = self.head()
        ids, docs, metas = [], [], []
        for rel in manifest.checksums:
            data = (kb_dir / rel).read_bytes()
            for part, start in enumerate(range(0, max(len(data), 1), CHUNK)):
                ids.append(f"{gen}/{rel}#{part}")
                docs.append(base64.b64encode(data[start:start + CHUNK]).decode("ascii"))
                metas.append({"generation": gen, "path": rel, "part": part})
        for start in range(0, len(ids), 8):
            self._put(ids[start:start + 8], docs[start:start + 8], metas[start:start + 8])
        head = manifest.to_json() | {"published_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self._put([HEAD], [json.dumps(head, ensure_ascii=False)], [{"generation": gen}])   # last
        keep = {gen} | ({previous.generation} if previous else set())
        self._prune(keep)

    def fetch(self, head: Manifest, kb_dir: Path) -> None:
        """Download ``head``'s files, check every checksum, and install them in the KB folder."""
        got = self._call(lambda col: col.get(where={"generation": head.generation},
                                             include=["documents", "metadatas"]))
        parts: dict[str, dict[int, bytes]] = {}
        for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
            if rid == HEAD:
                continue
            parts.setdefault(meta["path"], {})[int(meta["part"])] = base64.b64decode(doc)
        stage = kb_dir / f".fetch-{head.generation}-{os.getpid()}"
        shutil.rmtree(stage, ignore_errors=True)
        try:
            for rel, sha in head.checksums.items():
                data = b"".join(chunk for _, chunk in sorted(parts.get(rel, {}).items()))
                if hashlib.sha256(data).hexdigest() != sha:
                    raise IncompleteGeneration(f"服务器上的知识库版本 {head.generation} 不完整（{rel}），稍后重试")
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                (stage / rel).write_bytes(data)
            install(stage, kb_dir, head)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        log.info("已从 Chroma 服务器取得知识库版本 %s", head.generation)

    def _put(self, ids: list[str], docs: list[str], metas: list[dict]) -> None:
        # Chroma wants a vector per record; these records are looked up by id and metadata only.
        self._call(lambda col: col.upsert(ids=ids, documents=docs, metadatas=metas,
                                          embeddings=[[1.0]] * len(ids)))

    def _prune(self, keep: set[str]) -> None:
        rows = self._call(lambda col: col.get(include=["metadatas"]))
        old = [i for i, m in zip(rows["ids"], rows["metadatas"])
               if i != HEAD and (m or {}).get("generation") not in keep]
        if old:
            self._call(lambda col: col.delete(ids=old))
