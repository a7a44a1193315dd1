"""Decode a text file's bytes without ever producing mojibake.

Order of trust: a BOM, then strict UTF-8 (valid UTF-8 with Chinese in it is almost
never anything else), then a declared charset (HTML), then GB18030 against Big5,
judged by which one yields common Chinese text, and only then charset-normalizer.

    decoded = decode_text(data)          # raises NotText
    decoded.text, decoded.encoding       # "utf-8", "utf-8-sig", "gb18030", "big5", ...
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Below this share of common Chinese characters, a GB18030/Big5 decoding is mojibake.
PLAUSIBLE = 0.85
# Above this share of control characters, the "text" is binary data; below it they are stray and dropped.
MAX_CONTROL = 0.05
# Terminal colour codes (ESC [ 31 m) and titles (ESC ] 0 ; … BEL) go whole, not just their ESC.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_KEPT_CONTROLS = "\t\n\r\f\v"

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Charsets that web pages and Windows declare but that GB18030 decodes as a superset.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "hz": "gb18030"}
# Symbols that Chinese documents really use outside the CJK blocks.
_COMMON_SYMBOLS = set("\u00a0×÷·°±§©®℃№‰※→←↑↓√∶■□▲△●○◆◇★☆") | {chr(c) for c in range(0x2460, 0x24A0)}


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


class NotText(ValueError):
    """The bytes are not text in any encoding that decodes them cleanly."""


def decode_text(data: bytes, declared: str | None = None) -> Decoded:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(encoding), encoding)
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if declared and (found := _try_declared(data, declared)):
        return found
    if b"\x00" in data:
        raise NotText("含有空字节（NUL），是二进制数据")
    candidates = [c for c in (_strict(data, "gb18030"), _strict(data, "big5")) if c]
    if candidates:
        # On a tie GB18030 wins: this knowledge base is about mainland documents.
        best = max(candidates, key=lambda c: chinese_plausibility(c.text))
        if chinese_plausibility(best.text) >= PLAUSIBLE:
            return _checked(best.text, best.encoding)
    return _checked_guess(data)


def chinese_plausibility(text: str) -> float:
    """Share of the non-ASCII characters that are common in Chinese documents.

    GB18030 bytes read as Big5 (or the reverse) still decode, but into rare
    ideographs, bopomofo, kana, box drawing and private-use characters.
    """
    wide = [ch for ch in text if not ch.isascii() and not ch.isspace()]
    if not wide:
        return 1.0
    return sum(_is_common(ch) for ch in wide) / len(wide)


@lru_cache(maxsize=65536)
def _is_common(char: str) -> bool:
    if "\u4e00" <= char <= "\u9fff":
        return _in_gb2312(char) or _in_big5_level1(char)
    block = ord(char)
    return (
        0x3000 <= block <= 0x303F  # 、。〈〉《》「」【】
        or 0xFF01 <= block <= 0xFF5E  # full-width ，：；（）％
        or 0x2010 <= block <= 0x2027  # —…“”‘’
        or 0x2160 <= block <= 0x217F  # Ⅰ Ⅱ Ⅲ
        or char in _COMMON_SYMBOLS
    )


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _in_big5_level1(char: str) -> bool:
    """Big5's A440–C67E range holds the 5,401 frequent traditional characters."""
    try:
        lead = char.encode("big5")[0]
    except UnicodeEncodeError:
        return False
    return 0xA4 <= lead <= 0xC6


def _strict(data: bytes, encoding: str) -> Decoded | None:
    try:
        return Decoded(data.decode(encoding), encoding)
    except UnicodeDecodeError:
        return None


def _try_declared(data: bytes, declared: str) -> Decoded | None:
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        return None
    decoded = _strict(data, _SUPERSETS.get(name, name))
    if decoded and chinese_plausibility(decoded.text) >= PLAUSIBLE:
        return _checked(decoded.text, decoded.encoding)
    return None


def _checked_guess(data: bytes) -> Decoded:
    """Last resort for other encodings (Shift-JIS, cp1252, …): charset-normalizer's guess."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise NotText("无法识别编码（不是 UTF-8、GB18030 或 Big5 文本）")
    return _checked(str(best), best.encoding)


def _checked(text: str, encoding: str) -> Decoded:
    if text:
        controls = sum(1 for ch in text if _is_stray_control(ch))
        if controls / len(text) > MAX_CONTROL:
            raise NotText("大部分是控制字符，是二进制数据")
    return Decoded(text, encoding)


def _is_stray_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" and char not in _KEPT_CONTROLS


def strip_controls(text: str) -> tuple[str, int]:
    """Text without stray control characters (NUL, ESC sequences, BEL…), and how many characters went."""
    cleaned = _ESCAPE_SEQUENCE.sub("", text)
    cleaned = "".join(ch for ch in cleaned if not _is_stray_control(ch))
    return cleaned, len(text) - len(cleaned)
