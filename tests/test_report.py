"""grades.csv and report.html name each student by id and, beside it, by name."""

from __future__ import annotations

import csv

import pytest

from beth_course.grades import grade_table
from beth_course.report import spreadsheet_safe, write_report

from .helpers import graded_submission


@pytest.fixture
def reported(tiny_copy):
    """A named and an unnamed student graded in the tiny course; the report written."""
    graded_submission(
        tiny_copy,
        "12345",
        {"answer_is_right": 1},
        manual=2,
        first_name="Ann",
        last_name="Smith <b>",
    )
    graded_submission(tiny_copy, "23456", {}, manual=0)
    return tiny_copy, write_report(tiny_copy)


def test_grade_table_gives_the_name_beside_the_id(tiny_copy):
    """Rows keep the id as ``student`` and add nbgrader's name as "Last, First"."""
    graded_submission(tiny_copy, "12345", {}, first_name="Ann", last_name="Smith")
    (row,) = grade_table(tiny_copy)
    assert (row["student"], row["name"]) == ("12345", "Smith, Ann")


def test_grades_csv_has_an_id_column_and_a_name_column(reported):
    """student_id and name are two columns; a student with no name known has it empty."""
    _, files = reported
    with open(files.csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["student_id"], r["name"]) for r in rows] == [
        ("12345", "Smith <b>, Ann"),
        ("23456", ""),
    ]


def test_report_shows_ids_and_escaped_names(reported):
    """The page has id and name headers and the name escaped, never as markup."""
    _, files = reported
    page = files.html.read_text(encoding="utf-8")
    assert "<th>id</th><th>name</th>" in page
    assert "<td>12345</td><td>Smith &lt;b&gt;, Ann</td>" in page and "Smith <b>" not in page


@pytest.mark.parametrize(
    "text, safe",
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2", "'-2"),
        ("Smith, Ann", "Smith, Ann"),
        ("", ""),
    ],
)
def test_spreadsheet_safe_defuses_formulas_only(text, safe):
    """A name a spreadsheet would run as a formula gets a leading quote; others are kept."""
    assert spreadsheet_safe(text) == safe
