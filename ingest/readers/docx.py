"""Word sources (.docx) via python-docx: paragraphs and table rows in body order."""
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from ingest.errors import UnreadableSource
from ingest.limits import DEFAULT_LIMITS, SourceLimits, check_zip_unpacked
from ingest.model import Block, SourceText
from ingest.readers.lines import empty_file, join_wrapped, read_source_bytes

# Legacy .doc files and password-protected .docx files are both OLE containers.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class DocxReader:
    """Read headings, paragraphs and tables where they stand in the document body.

        source = DocxReader().read(Path("plan.docx"))
        # a 2-column table row reads as "市南区：旅游、金融保险、…"
    """

    suffixes = (".docx",)

    def __init__(self, limits: SourceLimits = DEFAULT_LIMITS):
        self.limits = limits

    def read(self, path: Path) -> SourceText:
        data = read_source_bytes(path)
        if not data:
            raise empty_file(path)
        if data.startswith(_OLE_MAGIC):
            raise UnreadableSource(
                path,
                "这不是 .docx 文件，而是旧版 Word（.doc）文档或设有密码的文档",
                "请用 Word 打开（如有密码先取消密码），另存为 .docx 后再导入",
            )
        check_zip_unpacked(path, data, self.limits)   # before python-docx inflates every part
        from docx import Document

        try:
            document = Document(io.BytesIO(data))
            blocks = [Block(text) for text in _body_lines(document)]
        except Exception as exc:  # zipfile, lxml and python-docx each fail their own way on damaged files
            raise UnreadableSource(
                path,
                f".docx 文件已损坏或不完整，无法打开（{type(exc).__name__}）",
                "请用 Word 打开并另存一份，或从来源重新下载后再导入",
            ) from exc
        if not blocks:
            raise empty_file(path)
        return SourceText(path=path, blocks=blocks, encoding=None, paged=False)


def _body_lines(document) -> Iterator[str]:
    """Walk the body XML itself so tables come out where they stand, not at the end."""
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    def walk(container) -> Iterator[str]:
        for child in container.iterchildren():
            if child.tag == qn("w:p"):
                yield from _paragraph_lines(Paragraph(child, document).text)
            elif child.tag == qn("w:tbl"):
                yield from _table_rows(Table(child, document))
            elif child.tag == qn("w:sdt"):  # content controls (cover pages, form fields)
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    yield from walk(content)

    yield from walk(document.element.body)


def _paragraph_lines(text: str) -> Iterator[str]:
    """A paragraph's text, one line per soft line break (Shift+Enter)."""
    for line in text.split("\n"):
        if line := line.strip():
            yield line


def _table_rows(table) -> Iterator[str]:
    """One line per row: "名称：内容" for two cells, "a | b | c" for more."""
    for row in table.rows:
        cells, seen = [], []
        for cell in row.cells:
            if any(cell._tc is tc for tc in seen):  # a merged cell repeats across the columns it spans
                continue
            seen.append(cell._tc)
            text = ""
            for paragraph in cell.paragraphs:
                text = join_wrapped(text, paragraph.text.strip()) if text else paragraph.text.strip()
            if text:
                cells.append(text)
        if cells:
            yield cells[0] if len(cells) == 1 else ("：" if len(cells) == 2 else " | ").join(cells)
