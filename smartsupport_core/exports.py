"""Spreadsheet-safe exports of tables (CSV and Excel).

A cell that starts with `=`, `+`, `-`, `@` (or a tab/carriage return) is run as a formula
by Excel and LibreOffice; ticket text is user-written, so every exported text cell that
would be read as a formula is prefixed with a single quote (OWASP's CSV-injection advice).
Numbers stay numbers.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The value, with a leading quote when a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def _naive_datetimes(df: pd.DataFrame) -> pd.DataFrame:
    """Excel has no time zones: write aware timestamps as UTC wall time."""
    for column in df.columns:
        if isinstance(df[column].dtype, pd.DatetimeTZDtype):
            df[column] = df[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return df


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """RFC 4180 CSV. The CRLF line terminator matters: the csv writer quotes a cell only when
    it holds a character of the terminator, and spreadsheets split rows on a bare CR too, so
    with "\n" alone a cell "x\r=cmd" would be written unquoted and open as a formula row."""
    return neutralise_frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_excel_bytes(df: pd.DataFrame, sheet_name: str = "Export") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _naive_datetimes(neutralise_frame(df)).to_excel(writer, index=False, sheet_name=sheet_name[:31])
    return buffer.getvalue()
