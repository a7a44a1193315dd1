"""A sidecar file beside a source says what its text does not: that it was superseded or repealed,
or a corrected date. ``优化营商环境条例(2019).md`` reads ``优化营商环境条例(2019).md.meta.toml``
(or ``优化营商环境条例(2019).meta.toml``)::

    repealed_on = 2024-01-01
    superseded_by = "某某条例"

The fields and their meaning are documented in ``source_docs/README.md``. A sidecar that cannot be
used is reported and ignored: the document is still ingested, with the dates its text gives.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from ingest.metadata import VOCABULARY_FILE
from ingest.model import Document, DocumentDates

SUFFIX = ".meta.toml"
DATE_FIELDS = ("issued", "effective_from", "effective_until", "superseded_on", "repealed_on")
TEXT_FIELDS = ("issuer", "version", "superseded_by")
FIELDS = DATE_FIELDS + TEXT_FIELDS + ("period",)


class SidecarError(ValueError):
    """A sidecar that cannot be used; ``str()`` is the message for the user (Chinese, then English)."""


def sidecar_path(source: Path) -> Path | None:
    """``<file name>.meta.toml``, else ``<stem>.meta.toml``, when one exists beside ``source``."""
    for candidate in (source.with_name(source.name + SUFFIX), source.with_name(source.stem + SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def metadata_stamp(source: Path) -> str:
    """Changes whenever the document's metadata could: the vocabulary file or its sidecar changed."""
    digest = hashlib.sha256(VOCABULARY_FILE.read_bytes())
    if (path := sidecar_path(source)) is not None:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _as_date(name: str, key: str, value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise SidecarError(f"{name}：{key} 应为日期，如 {key} = 2025-06-01（现为 {value!r}）/ "
                       f"{key} must be a date such as 2025-06-01")


def _as_period(name: str, value) -> tuple[int, int]:
    years = value
    if isinstance(value, str):
        years = [int(y) for y in re.findall(r"\d{4}", value)]
    if (isinstance(years, list) and len(years) == 2 and all(isinstance(y, int) for y in years)
            and years[0] <= years[1]):
        return years[0], years[1]
    raise SidecarError(f"{name}：period 应为起止年份，如 period = [2021, 2025]（现为 {value!r}）/ "
                       "period must be two years such as [2021, 2025]")


def read_sidecar(path: Path) -> dict:
    """The sidecar's fields, checked and normalised (dates as ISO strings, the period as two years)."""
    name = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SidecarError(f"{name}：不是 UTF-8 编码的文本 / not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise SidecarError(f"{name}：不是有效的 TOML（{err}）/ not valid TOML") from None
    out: dict = {}
    for key, value in data.items():
        if key not in FIELDS:
            raise SidecarError(f"{name}：不认识的字段「{key}」，可用的字段：{'、'.join(FIELDS)} / "
                               f"unknown field {key!r}")
        if key in DATE_FIELDS:
            out[key] = _as_date(name, key, value)
        elif key == "period":
            out[key] = _as_period(name, value)
        elif isinstance(value, str) and value.strip():
            out[key] = value.strip()
        else:
            raise SidecarError(f"{name}：{key} 应为非空文字 / {key} must be a non-empty string")
    return out


def apply_values(doc: Document, values: dict, name: str) -> Document:
    """The document with the sidecar's values in place of (or in addition to) those read from its text."""
    fields = {k: v for k, v in values.items() if k in DocumentDates.__dataclass_fields__}
    dates = replace(doc.dates, **fields, sidecar=name)
    if "period" in values and doc.kind == "plan":
        start, end = values["period"]
        dates = replace(dates, effective_from=values.get("effective_from", f"{start}-01-01"),
                        effective_until=values.get("effective_until", f"{end}-12-31"))
    if "effective_from" in values and dates.evidence:
        dates = replace(dates, evidence=None)   # the clause no longer says what the date is
    return replace(doc, dates=dates, issuer=values.get("issuer", doc.issuer))


def with_sidecar(doc: Document) -> Document:
    """``doc`` completed by its sidecar when it has one; a sidecar that cannot be used becomes a warning."""
    path = sidecar_path(doc.path)
    if path is None:
        return doc
    try:
        values = read_sidecar(path)
    except SidecarError as err:
        return replace(doc, warnings=[*doc.warnings, f"{err}；已忽略该文件，日期按原文 / ignored"])
    except OSError as err:
        return replace(doc, warnings=[*doc.warnings, f"{path.name}：无法读取（{err}）；已忽略 / unreadable, ignored"])
    return apply_values(doc, values, path.name)
