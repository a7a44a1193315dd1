"""Web pages (.html, .htm): the main text only, one block per block-level element.

Navigation, scripts, forms and page chrome are dropped; the text of what remains
is kept as text (an escaped ``&lt;img&gt;`` stays literal, a real ``<img>`` tag
leaves nothing). Blocks are plain strings: whoever renders them must escape them.
"""
from __future__ import annotations

import re
from pathlib import Path

from ingest.errors import UnreadableSource
from ingest.model import Block, SourceText
from ingest.readers.encoding import NotText, decode_text, strip_controls
from ingest.readers.lines import empty_file, is_wide, join_wrapped, read_source_bytes
from ingest.readers.text import not_text

# Never text for a reader of the page.
_DROP = frozenset(
    ["script", "style", "noscript", "template", "nav", "aside", "form", "button", "select", "textarea", "iframe", "object", "embed", "svg", "canvas", "audio", "video", "map", "head"]
)
# Site chrome: dropped from a whole <body>, kept inside the <main>/<article> chosen as content.
_CHROME = frozenset({"header", "footer"})
_BLOCK = frozenset(
    ["address", "article", "blockquote", "caption", "center", "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hgroup", "hr", "li", "main", "menu", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "ul"]
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE)
_HTML_SPACE = re.compile(r"[ \t\n\r\f\u00a0]+")


class HtmlReader:
    """Read the main text of a saved web page.

        source = HtmlReader().read(Path("page.html"))   # no nav, footer or script text
    """

    suffixes = (".html", ".htm")

    def read(self, path: Path) -> SourceText:
        data = read_source_bytes(path)
        if not data.strip():
            raise empty_file(path)
        try:
            decoded = decode_text(data, declared=declared_charset(data))
        except NotText as exc:
            raise not_text(path, exc) from exc
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(strip_controls(decoded.text)[0], "html.parser")
        root = _content_root(soup)
        paragraphs = _Paragraphs()
        _walk(root, paragraphs, drop=_DROP if root.name in ("main", "article") else _DROP | _CHROME)
        paragraphs.end()
        if not paragraphs.lines:
            raise UnreadableSource(
                path,
                "网页里没有找到正文文字",
                "请确认保存的是完整网页（而不是只有脚本的空页面），或把正文复制到 .txt 文件后导入",
            )
        return SourceText(
            path=path, blocks=[Block(line) for line in paragraphs.lines], encoding=decoded.encoding
        )


def declared_charset(data: bytes) -> str | None:
    """The charset named by ``<meta charset>``, ``http-equiv`` or an XML declaration."""
    head = data[:4096]
    found = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return found.group(1).decode("ascii") if found else None


def _content_root(soup):
    """<main>, else the longest <article>, else <body>."""
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return main
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda a: len(a.get_text()))
    return soup.body or soup


class _Paragraphs:
    """Collects inline text until a block boundary closes the current line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._parts: list[str] = []

    def add(self, text: str) -> None:
        self._parts.append(text)

    def add_row(self, cells: list[str]) -> None:
        self.end()
        cells = [cell for cell in cells if cell]
        if cells:
            self.lines.append(cells[0] if len(cells) == 1 else ("：" if len(cells) == 2 else " | ").join(cells))

    def end(self) -> None:
        line = collapse_space("".join(self._parts))
        self._parts = []
        if line:
            self.lines.append(line)


def collapse_space(text: str) -> str:
    """HTML whitespace rules, except that a source line break between two CJK
    characters disappears (a browser would show a stray space there)."""

    def replace(match: re.Match) -> str:
        before, after = match.string[match.start() - 1 : match.start()], match.string[match.end() : match.end() + 1]
        joins_cjk = before and after and is_wide(before) and is_wide(after)
        return "" if joins_cjk and ("\n" in match.group() or "\r" in match.group()) else " "

    return _HTML_SPACE.sub(replace, text).strip()


def _walk(node, out: _Paragraphs, drop: frozenset[str]) -> None:
    from bs4 import NavigableString, Tag

    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not a comment, doctype or CDATA
                out.add(str(child))
            continue
        if not isinstance(child, Tag) or child.name in drop or _hidden(child):
            continue
        if child.name == "br":
            out.end()
        elif child.name == "tr":
            out.add_row([_cell_text(cell, drop) for cell in child.find_all(("td", "th"), recursive=False)])
        elif child.name in _BLOCK:
            out.end()
            _walk(child, out, drop)
            out.end()
        else:
            _walk(child, out, drop)


def _cell_text(cell, drop: frozenset[str]) -> str:
    """A table cell as one line (its own paragraphs re-joined)."""
    inner = _Paragraphs()
    _walk(cell, inner, drop)
    inner.end()
    text = ""
    for line in inner.lines:
        text = join_wrapped(text, line) if text else line
    return text


def _hidden(tag) -> bool:
    style = (tag.get("style") or "").replace(" ", "").lower()
    return (
        tag.has_attr("hidden")
        or tag.get("aria-hidden") == "true"
        or "display:none" in style
        or "visibility:hidden" in style
    )
