"""Where documents come from: the project's ``source_docs/`` and, when present, the shared related texts."""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_SOURCES = PROJECT_ROOT / "source_docs"
# Related laws stay outside the repository, beside the project (see the README).
SHARED_RELATED = PROJECT_ROOT.parent / "shared" / "source_docs" / "related"


def default_sources() -> list[Path]:
    sources = [PROJECT_SOURCES]
    if SHARED_RELATED.is_dir():
        sources.append(SHARED_RELATED)
    return sources


def is_document_name(path: Path) -> bool:
    """Skip notes that sit beside the documents (README.md) and hidden or temporary files."""
    name = path.name
    return not (name.startswith((".", "~$")) or path.stem.upper() == "README")


def discover(sources: list[Path], suffixes: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    """Files to ingest, in a stable order, and a message per source that does not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for src in sources:
        if src.is_file():
            files.append(src)
        elif src.is_dir():
            files.extend(sorted(p for p in src.rglob("*")
                                if p.is_file() and p.suffix.lower() in suffixes and is_document_name(p)))
        else:
            missing.append(f"找不到来源 {src}（文件夹或文件不存在）")
    seen, unique = set(), []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, missing
