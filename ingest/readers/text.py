"""Plain-text sources (.txt, .md): one block per non-empty line, encoding detected."""
from __future__ import annotations

from pathlib import Path

from ingest.errors import UnreadableSource
from ingest.model import Block, SourceText
from ingest.readers.encoding import NotText, decode_text, strip_controls
from ingest.readers.lines import empty_file, read_source_bytes

# Whitespace str.strip() leaves alone: BOMs and zero-width spaces pasted mid-file.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


class TextReader:
    """Read UTF-8 (with or without BOM), GB18030/GBK or Big5 text.

        source = TextReader().read(Path("law.txt"))
        source.encoding                      # "gb18030"
    """

    suffixes = (".txt", ".md")

    def read(self, path: Path) -> SourceText:
        data = read_source_bytes(path)
        if not data:
            raise empty_file(path)
        try:
            decoded = decode_text(data)
        except NotText as exc:
            raise not_text(path, exc) from exc
        text, dropped = strip_controls(decoded.text)
        blocks = [Block(line) for line in text_lines(text)]
        if not blocks:
            raise empty_file(path)
        warnings = [f"去掉了 {dropped} 个控制字符（如空字节、终端颜色代码），其余内容照常读入"] if dropped else []
        return SourceText(path=path, blocks=blocks, encoding=decoded.encoding, paged=False, warnings=warnings)


def text_lines(text: str) -> list[str]:
    """Non-empty lines, stripped of spaces, tabs and full-width spaces at both ends.

    Markdown marks ("# 标题") are left for the structure parser, which reads them.
    """
    lines = []
    for raw in text.splitlines():  # \r\n, \r and \n alike
        if line := raw.strip().strip(_INVISIBLE).strip():
            lines.append(line)
    return lines


def not_text(path: Path, reason: NotText) -> UnreadableSource:
    return UnreadableSource(
        path,
        f"不是可读的文本文件：{reason}",
        "若它其实是 PDF 或 Word 文件，请改回正确的扩展名（.pdf、.docx）；"
        "若是文本，请用记事本等编辑器另存为 UTF-8 编码后再导入",
    )
