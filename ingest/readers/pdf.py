"""PDF sources via pypdf's text layer: paragraphs with the page each one starts on."""
from __future__ import annotations

import io
from pathlib import Path

from ingest.errors import UnreadableSource
from ingest.limits import DEFAULT_LIMITS, SourceLimits
from ingest.model import SourceText
from ingest.readers.lines import empty_file, read_source_bytes
from ingest.readers.pdf_paragraphs import join_paragraphs, strip_page_furniture

_REEXPORT = "请从来源重新下载，或用 PDF 软件（或 Word 的“另存为 PDF”）重新导出一份再导入"
_OCR = "请先用 OCR 软件（如 ocrmypdf、Adobe Acrobat 的“识别文本”）生成可搜索的 PDF，或改用 Word/TXT 版本导入"


class PdfReader:
    """Read a PDF's text layer, without headers, footers, page numbers or hard wraps.

        source = PdfReader().read(Path("plan.pdf"))
        source.blocks[0].page                # 1-based page the paragraph starts on
    """

    suffixes = (".pdf",)

    def __init__(self, limits: SourceLimits = DEFAULT_LIMITS):
        self.limits = limits

    def read(self, path: Path) -> SourceText:
        data = read_source_bytes(path)
        if not data.strip():
            raise empty_file(path)
        if b"%PDF" not in data[:1024]:
            raise UnreadableSource(path, "不是 PDF 文件（文件开头没有 %PDF 标记）", _REEXPORT)
        pages = strip_page_furniture(_page_lines(path, data, self.limits))
        warnings = [
            f"第{number}页没有正文文字（可能是扫描页或空白页），这一页没有读入内容"
            for number, lines in enumerate(pages, start=1)
            if not lines
        ]
        if b"%%EOF" not in data[-2048:]:
            warnings.insert(0, "文件末尾缺少 %%EOF 标记，文件可能不完整")
        blocks = join_paragraphs(pages)
        if not blocks:
            raise UnreadableSource(path, "PDF 里没有文字层（可能是扫描件或图片），读不出文字", _OCR)
        return SourceText(path=path, blocks=blocks, encoding=None, paged=True, warnings=warnings)


def _page_lines(path: Path, data: bytes, limits: SourceLimits) -> list[list[str]]:
    """The non-blank text lines of every page, in pypdf's reading order.

    Gives up early on a file whose first pages are all blank (a scan, or thousands of empty pages)
    and on one with more pages than the limit, so neither can stall an ingest.
    """
    from pypdf import PdfReader as PypdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        pdf = PypdfReader(io.BytesIO(data))
        if pdf.is_encrypted:
            _unlock(path, pdf)
        texts = _page_texts(path, pdf, limits)
    except UnreadableSource:
        raise
    except FileNotDecryptedError as exc:
        raise _needs_password(path) from exc
    except DependencyError as exc:
        raise UnreadableSource(
            path, "PDF 使用了 AES 加密，缺少解密组件", "请安装 cryptography：pip install cryptography"
        ) from exc
    except Exception as exc:  # pypdf raises many types on damaged files; all mean the same to the user
        raise UnreadableSource(path, f"PDF 文件已损坏或不完整，无法解析（{type(exc).__name__}）", _REEXPORT) from exc
    return [[line for line in text.splitlines() if line.strip()] for text in texts]


def _page_texts(path: Path, pdf, limits: SourceLimits) -> list[str]:
    pages = pdf.pages
    head = limits.blank_pages_before_giving_up
    texts = [pages[i].extract_text() or "" for i in range(min(head, len(pages)))]
    if len(pages) > head and not any(t.strip() for t in texts):
        raise UnreadableSource(
            path, f"PDF 共 {len(pages)} 页，前 {head} 页都没有文字层（可能是扫描件或空白页），已停止读取", _OCR)
    if len(pages) > limits.max_pdf_pages:
        raise UnreadableSource(
            path, f"PDF 共 {len(pages)} 页，超过上限 {limits.max_pdf_pages} 页，没有导入",
            "请确认这是要导入的文件；确需导入时可拆分成几个文件，或调大设置 KB_MAX_PDF_PAGES")
    return texts + [pages[i].extract_text() or "" for i in range(len(texts), len(pages))]


def _unlock(path: Path, pdf) -> None:
    """Open with the empty user password, which many 'protected' PDFs have."""
    from pypdf import PasswordType

    if pdf.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise _needs_password(path)


def _needs_password(path: Path) -> UnreadableSource:
    return UnreadableSource(
        path,
        "PDF 设有打开密码，无法读取",
        "请用 PDF 软件输入密码打开，取消密码保护后另存一份，再导入",
    )
