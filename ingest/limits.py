"""What a source file may cost before it is refused: size, PDF pages, how far a DOCX unpacks.

A hostile or broken file (a 5 GB dump, a 3,000-page blank PDF, a zip bomb renamed .docx) is
turned away with a message before it is read, so one bad file never stalls or sinks an ingest.

    limits = SourceLimits(max_file_bytes=50 * MB, max_pdf_pages=1000)
    check_file_size(path, limits)        # raises UnreadableSource
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import UnreadableSource

MB = 1024 * 1024


@dataclass(frozen=True)
class SourceLimits:
    max_file_bytes: int = 50 * MB      # KB_MAX_FILE_MB; also the most a DOCX may unpack to
    max_pdf_pages: int = 1000          # KB_MAX_PDF_PAGES
    # Leading PDF pages that may all lack text before the file is judged to have no text layer.
    blank_pages_before_giving_up: int = 20
    # Word compresses its XML about 5–20×; a member packed 200× tighter is a zip bomb.
    max_compression_ratio: int = 200


DEFAULT_LIMITS = SourceLimits()


def _mb(size: int) -> str:
    return f"{size / MB:.1f}".rstrip("0").rstrip(".")


def check_file_size(path: Path, limits: SourceLimits) -> None:
    """Refuse a file over the size limit without reading it."""
    try:
        size = path.stat().st_size
    except OSError:
        return   # the reader says why the file cannot be read
    if size > limits.max_file_bytes:
        raise UnreadableSource(
            path, f"文件过大（{_mb(size)} MB，上限 {_mb(limits.max_file_bytes)} MB），没有导入",
            "请确认这是要导入的文件；确需导入时可拆分成几个文件，或调大设置 KB_MAX_FILE_MB")


def check_zip_unpacked(path: Path, data: bytes, limits: SourceLimits) -> None:
    """Refuse a DOCX whose zip directory declares more than the size limit, or a zip-bomb ratio.

    zipfile never inflates a member beyond its declared size (it stops and fails the CRC), so
    checking the declared sizes before python-docx opens the package is enough.
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return   # not a zip at all: the reader reports a damaged file
    total = sum(m.file_size for m in members)
    packed = max(members, key=lambda m: m.file_size / max(m.compress_size, 1), default=None)
    ratio = packed.file_size / max(packed.compress_size, 1) if packed else 0
    if total > limits.max_file_bytes or (packed and packed.file_size > MB and ratio > limits.max_compression_ratio):
        raise UnreadableSource(
            path, f"文件解压后有 {_mb(total)} MB（压缩比最高 {ratio:.0f} 倍），远超正常 Word 文档，"
                  "可能是损坏或恶意构造的文件（“压缩炸弹”），没有导入",
            "请用 Word 打开确认内容后另存一份再导入；确是正常的超大文档时可调大设置 KB_MAX_FILE_MB")
