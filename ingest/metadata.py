"""Document-level facts read from the front matter: title, kind, issuing body, date.

The words these are recognised by live in ``ingest/metadata.toml`` (see ``vocabulary``).
"""
from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

from ingest.model import DocKind

_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_NOTICE_TITLE = re.compile(r"关于印发《(.+?)》")
_LEGISLATURE = re.compile(r"(?:^|[\s日])([\u4e00-\u9fff]*?人民代表大会常务委员会)")
_TERM = re.compile(r"第[一二三四五六七八九十]+届")
_ISSUER_SUFFIX = re.compile(r"(局|委员会|人民政府|办公厅|办公室|厅|部|委|国务院)$")


def title_from_front_matter(lines: list[str]) -> str | None:
    """《X》 in a 「关于印发《X》的通知」 notice, which is often wrapped over two lines."""
    m = _NOTICE_TITLE.search("".join(lines))
    return m.group(1) if m else None


def title_from_filename(path: Path) -> str:
    """「优化营商环境条例(2019)」 → 「优化营商环境条例」."""
    return re.sub(r"[（(][^（）()]*[)）]$", "", path.stem).strip()


VOCABULARY_FILE = Path(__file__).with_name("metadata.toml")


@cache
def vocabulary() -> dict:
    """The data file's tables (kinds, preamble verbs, 施行 phrasings, plan periods)."""
    return tomllib.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))


def doc_kind(title: str) -> DocKind:
    title = re.sub(r"[（(][^（）()]*[)）]$", "", title.strip())  # 「…条例（试行）」 is still a regulation
    for kind in vocabulary()["kind"]:
        if title.endswith(tuple(kind["endings"])):
            return kind["name"]
    return "other"


def short_title(title: str, kind: DocKind) -> str:
    """How people name the document in a question: 规划, 中小企业促进法, 优化营商环境条例."""
    if kind == "plan":
        return "规划"
    return re.sub(r"^中华人民共和国", "", title)


def iso_date(text: str) -> str | None:
    """The latest adoption, revision or issue date, as YYYY-MM-DD (not the date it takes effect)."""
    lines = [line for line in text.splitlines() if "施行" not in line] or text.splitlines()
    found = _DATE.findall("\n".join(lines))
    if not found:
        return None
    y, m, d = found[-1]
    return f"{y}-{int(m):02d}-{int(d):02d}"


def issuer(lines: list[str]) -> str | None:
    """The issuing body: a standalone 「…局」 line of a notice, or the legislature/State Council of a preamble."""
    for line in lines:
        s = line.strip()
        if 2 < len(s) <= 20 and _ISSUER_SUFFIX.search(s) and not _DATE.search(s):
            return s
    text = "\n".join(lines)
    if m := _LEGISLATURE.search(text):
        return _TERM.sub("", m.group(1))
    if "国务院" in text:
        return "国务院"
    return None
