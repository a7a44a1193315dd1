"""Chinese numerals as used in legal and official numbering (第一百零二条, 第二十八条, 第十条)."""
from __future__ import annotations

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "两": 2, "兩": 2, "贰": 2, "三": 3, "叁": 3,
           "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
           "九": 9, "玖": 9}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10000}

CN_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_UNITS)
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def cn_numeral_to_int(text: str) -> int:
    """Parse a Chinese or Arabic numeral: 十 → 10, 一百零二 → 102, 二〇二五 → 2025, ４４ → 44.

    Raises ValueError for anything else.
    """
    s = text.strip().translate(_FULLWIDTH)
    if not s:
        raise ValueError("empty numeral")
    if s.isdigit():
        return int(s)
    if any(ch not in _DIGITS and ch not in _UNITS for ch in s):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    if all(ch in _DIGITS for ch in s):  # digit-by-digit form: 二〇二五
        return int("".join(str(_DIGITS[ch]) for ch in s))
    total, section, digit = 0, 0, None
    for ch in s:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
            continue
        unit = _UNITS[ch]
        if unit == 10000:
            section = (section + (digit or 0)) * unit
            total, section = total + section, 0
        else:
            # A bare 十 at the start means 一十 (十三 = 13).
            section += (1 if digit is None else digit) * unit
        digit = None
    return total + section + (digit or 0)


def int_to_cn_numeral(n: int) -> str:
    """Write 1–9999 as used in headings and articles: 10 → 十, 21 → 二十一, 102 → 一百零二.

    Other numbers come back as digits: a typed 「第一百一百…条」 is still quoted in the reply, never a crash.
    """
    if not 0 < n < 10000:
        return str(n)
    digits = "零一二三四五六七八九"
    out, zero_pending = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out += "零"
            zero_pending = False
        out += digits[d] + unit
    return out[1:] if out.startswith("一十") else out
