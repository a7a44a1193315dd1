"""Where documents come from: the project's ``source_docs/`` and, when present, the shared related texts.

What is safe to read: a folder or file the settings name, as given; inside a folder, only files that
really live there. A link to a file outside the folder, a linked sub-folder, a name with control or
text-direction characters, and a source path that climbs out of a folder it named (``docs/../../etc``)
are refused with a message; the rest of the sources are read as usual.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import printable

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


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)     # to ingest, in a stable order
    missing: list[str] = field(default_factory=list)    # a message per source that does not exist
    refused: list[str] = field(default_factory=list)    # a message per path not read, for safety


def discover(sources: list[Path], suffixes: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    """Files to ingest, and every message about the sources (for callers that only list the files)."""
    found = discover_sources(sources, suffixes)
    return found.files, found.missing + found.refused


def discover_sources(sources: list[Path], suffixes: tuple[str, ...]) -> Discovery:
    files: list[Path] = []
    missing: list[str] = []
    refused: list[str] = []
    for src in sources:
        if problem := climbs_out(src):
            refused.append(problem)
        elif src.is_file():
            files.append(src)
        elif src.is_dir():
            found, problems = _folder_files(src, suffixes)
            files.extend(found)
            refused.extend(problems)
        else:
            missing.append(f"找不到来源 {printable(str(src))}（文件夹或文件不存在）")
    seen, unique = set(), []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return Discovery(unique, missing, refused)


def climbs_out(src: Path) -> str | None:
    """``docs/../../etc`` names a folder, then leaves it: a mistake or a path built from untrusted input.

    Leading ``..`` (``../shared/source_docs``) is ordinary relative navigation and stays allowed.
    """
    parts = src.parts
    named = next((i for i, part in enumerate(parts) if part != ".."), len(parts))
    if ".." in parts[named:]:
        return (f"来源路径 {printable(str(src))} 先写出文件夹又用“..”退出，可能越出预期的范围，没有导入。"
                "请直接写出要导入的文件夹或文件的完整路径（不含中间的“..”）")
    return None


def _folder_files(folder: Path, suffixes: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    root = folder.resolve()
    files, refused = [], []
    for p in sorted(folder.rglob("*")):
        if not is_document_name(p):
            continue
        relative = str(p.relative_to(folder))
        shown = printable(relative)
        if p.is_symlink() and p.is_dir():   # rglob never enters it
            refused.append(f"{shown}：是指向其他文件夹的链接，其中的文件没有导入。"
                           "如需导入，请把文件本身复制到来源文件夹中")
            continue
        if not (p.is_file() and p.suffix.lower() in suffixes):
            continue
        if not p.resolve().is_relative_to(root):
            refused.append(f"{shown}：是指向来源文件夹之外（{printable(str(p.resolve()))}）的链接，为安全起见没有导入。"
                           "如需导入，请把文件本身复制到来源文件夹中")
        elif shown != relative:
            refused.append(f"{shown}：文件名含有控制字符（如换行、制表符或改变文字方向的不可见字符），没有导入。"
                           "请把文件重命名为普通的文件名后再导入")
        else:
            files.append(p)
    return files, refused
