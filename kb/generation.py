"""One version ("generation") of the knowledge base's derived files, named by their content.

An ingest writes ``lexical/``, ``sentences/`` and ``catalog.json``, then ``manifest.json`` last. The manifest names
the generation (a hash of the files' checksums), the checksum of every derived file, the Chroma
collection and the number of vectors it expects. A folder whose files do not match its manifest
(a killed ingest, a truncated copy, garbage, another model's manifest) is reported and rebuilt,
never silently read; a second process notices a new generation by the manifest's stat stamp.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

MANIFEST = "manifest.json"
CATALOG = "catalog.json"
LEXICAL = "lexical"
SENTENCES = "sentences"
FOLDERS = (LEXICAL, SENTENCES)   # a generation's folders of derived files
# The layout of a generation's derived files. A folder written in an older one is rebuilt at start
# from the sources it holds (same documents; vectors come back from the embedding cache):
# 2 added checksums; 3, the documents' dates and status (a folder of 2 served every plan as 现行有效);
# 4, the sentence vectors (kb.sentences).
FORMAT = 4


@dataclass
class Manifest:
    embedding_model: str
    collection: str                 # the Chroma collection the vectors live in
    generation: str                 # hash of ``checksums``: equal files, equal generation
    unit_count: int                 # vectors the catalog expects in the collection
    checksums: dict[str, str]       # derived file (relative, "/"-separated) → sha256
    files: dict[str, str] = field(default_factory=dict)   # source file → sha256, as ingested
    format: int = FORMAT
    sources: list[str] | None = None   # the remembered source folders and files (also in catalog.json)
    host: str = ""                     # the machine that ingested it: only there are the sources on disk
    published_at: str = ""             # set in the Chroma server's head record when it was published

    def save(self, kb_dir: Path) -> None:
        tmp = kb_dir / f"{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, kb_dir / MANIFEST)   # atomic, and last: it is what makes a generation visible

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def derived_files(kb_dir: Path) -> list[str]:
    """catalog.json and every file under lexical/ and sentences/, relative to the KB folder, sorted."""
    found = [CATALOG] if (kb_dir / CATALOG).is_file() else []
    for name in FOLDERS:
        folder = kb_dir / name
        if folder.is_dir():
            found += sorted(p.relative_to(kb_dir).as_posix() for p in folder.rglob("*") if p.is_file())
    return found


def checksums(kb_dir: Path) -> dict[str, str]:
    return {rel: hashlib.sha256((kb_dir / rel).read_bytes()).hexdigest() for rel in derived_files(kb_dir)}


def generation_id(sums: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sums, sort_keys=True).encode()).hexdigest()[:16]


def stamp(kb_dir: Path) -> tuple[int, int, int] | None:
    """A cheap fingerprint of the manifest (a stat call): it changes whenever a generation is installed."""
    try:
        st = os.stat(kb_dir / MANIFEST)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def read_manifest(kb_dir: Path) -> Manifest | None:
    """The manifest as written, unchecked (for reports; ``verify`` before serving anything)."""
    try:
        return Manifest.from_json(json.loads((kb_dir / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def verify(kb_dir: Path, collection: str | None = None) -> tuple[Manifest | None, str | None]:
    """(manifest, None) when the folder is a whole generation; (None, None) when nothing was built yet;
    (None, problem) — a Chinese sentence — when it must not be used."""
    path = kb_dir / MANIFEST
    if not path.exists():
        if derived_files(kb_dir):
            return None, "清单 manifest.json 缺失（上次导入未完成或文件被删除）"
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return None, (f"清单 manifest.json 由旧版本写入（格式 {data.get('format')}，当前为 {FORMAT}），"
                          "缺少校验信息、文件的效力日期或句子向量")
        manifest = Manifest.from_json(data)
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None, "清单 manifest.json 已损坏，无法读取"
    if collection and manifest.collection != collection:
        return None, f"清单记录的向量集合 {manifest.collection} 与当前模型的集合 {collection} 不符"
    actual = checksums(kb_dir)
    for rel, sha in manifest.checksums.items():
        if rel not in actual:
            return None, f"文件 {rel} 缺失"
        if actual[rel] != sha:
            return None, f"文件 {rel} 与清单的校验值不符（被截断、改写或只写了一半）"
    extra = sorted(set(actual) - set(manifest.checksums))
    if extra:
        return None, f"文件 {extra[0]} 不属于清单记录的版本"
    return manifest, None


def discard(kb_dir: Path) -> None:
    """Remove the derived files (never the vectors or the embedding cache) so the next ingest rebuilds them."""
    (kb_dir / MANIFEST).unlink(missing_ok=True)
    (kb_dir / CATALOG).unlink(missing_ok=True)
    for name in FOLDERS:
        shutil.rmtree(kb_dir / name, ignore_errors=True)


def install(stage: Path, kb_dir: Path, manifest: Manifest) -> None:
    """Move a fetched generation from ``stage`` into the KB folder; the manifest goes last."""
    kb_dir.mkdir(parents=True, exist_ok=True)
    olds = []
    for name in FOLDERS:
        old = kb_dir / f"{name}.old.{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        if (kb_dir / name).exists():
            (kb_dir / name).rename(old)
        if (stage / name).exists():
            (stage / name).rename(kb_dir / name)
        olds.append(old)
    os.replace(stage / CATALOG, kb_dir / CATALOG)
    manifest.save(kb_dir)
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)
