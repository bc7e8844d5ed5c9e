"""Exports neutralise spreadsheet formulas in both formats and keep numbers as numbers."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd

from smartsupport_core.exports import neutralise, to_csv_bytes, to_excel_bytes

PAYLOADS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=evil", '=HYPERLINK("http://x")']


def test_neutralise_each_prefix() -> None:
    for p in PAYLOADS:
        assert neutralise(p) == "'" + p
    assert neutralise("plain text") == "plain text"
    assert neutralise(-5) == -5


def test_csv_and_excel_neutralised() -> None:
    df = pd.DataFrame(
        {
            "subject": PAYLOADS,
            "n": range(len(PAYLOADS)),
            "when": [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)] * len(PAYLOADS),
        }
    )
    csv_text = to_csv_bytes(df).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(csv_text))
    assert all(str(v).startswith("'") for v in back["subject"])
    wb = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(df)))
    ws = wb.active
    values = [ws.cell(row=i + 2, column=1).value for i in range(len(PAYLOADS))]
    assert values == ["'" + p for p in PAYLOADS]
    assert all(ws.cell(row=i + 2, column=1).data_type == "s" for i in range(len(PAYLOADS)))
    assert ws.cell(row=2, column=2).value == 0
