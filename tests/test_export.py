"""Grades back to the LMS: a Canvas gradebook export filled in, Moodle's grade-import CSV.

The tiny assignment has two 1-point tests and a 2-point written answer (4 points); graded
submissions are made with nbgrader's API (tests.helpers.graded_submission).
"""

from __future__ import annotations

import csv

import pytest

from beth_course.cli import main
from beth_course.course import CourseError
from beth_course.export import fill_canvas, moodle_csv

from .helpers import TINY, graded_submission

COLUMN = "tiny (4242)"
HEADER = [
    "Student",
    "ID",
    "SIS User ID",
    "SIS Login ID",
    "Section",
    "Quiz 1 (4240)",
    COLUMN,
    "Current Score",
]
POINTS = ["    Points Possible", "", "", "", "", "10", "4", "(read only)"]


def canvas_export(path, *students, header=HEADER, points=POINTS):
    """A Canvas gradebook export: ``students`` are (name, id) rows with Quiz 1 = 7."""
    rows = [header, ["", "", "", "", "", "", "Manual Posting", ""], points]
    rows += [
        [name, sid, f"S{sid}", f"login{sid}", "Sec A", "7", "", "55"] for name, sid in students
    ]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def read_rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_canvas_fills_only_the_assignment_column(tiny_copy, tmp_path):
    """Header, Manual Posting and Points Possible rows, and every other cell stay as they were."""
    graded_submission(tiny_copy, "12345", {"answer_is_right": 1, "more_is_one": 1}, manual=2)
    before = read_rows(canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345")))
    fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv")
    after = read_rows(tmp_path / "out.csv")
    at = HEADER.index(COLUMN)
    assert after[3][at] == "4"
    after[3][at] = before[3][at]
    assert after == before


def test_the_grade_is_nbgraders_total_after_the_late_penalty(tiny_copy, tmp_path):
    """Exported points equal `nbgrader export`'s score: auto + hand grade - penalty, >= 0."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    graded_submission(tiny_copy, "12345", {"answer_is_right": 1}, manual=1.5, penalty=0.5)
    graded_submission(tiny_copy, "23456", {}, manual=0, penalty=1)
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"), ("Jones, Bob", "23456"))
    report = fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv")
    plugin = CsvExportPlugin(to=str(tmp_path / "nbgrader.csv"))
    with Gradebook(tiny_copy.db_url) as gb:
        plugin.export(gb)
    theirs = {
        r["student_id"]: float(r["score"]) for r in csv.DictReader(open(tmp_path / "nbgrader.csv"))
    }
    assert report.written == theirs == {"12345": 2.0, "23456": 0.0}


def test_rows_match_the_canvas_id_the_gradebook_holds(tiny_copy, tmp_path):
    """A student filed under another id is matched by the LMS id recorded for them."""
    graded_submission(tiny_copy, "smithann", {"answer_is_right": 1}, manual=2, lms_user_id="12345")
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"))
    assert fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv").written == {
        "smithann": 3.0
    }


def test_unmatched_students_and_rows_are_listed_and_nothing_is_guessed(tiny_copy, tmp_path):
    """A graded student without a row is listed with what to do; a row without a graded
    student keeps its cell, even when the names agree."""
    graded_submission(tiny_copy, "99999", {}, manual=2, first_name="Ann", last_name="Smith")
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"))
    report = fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv")
    assert report.unmatched == {"99999 (Smith, Ann)": "no row with ID 99999"}
    assert report.left_as_is == ["Smith, Ann (ID 12345)"] and report.needs_attention
    assert read_rows(tmp_path / "out.csv")[3][HEADER.index(COLUMN)] == ""
    assert "collect the Canvas download with the canvas preset" in "\n".join(report.lines())


def test_answers_not_graded_yet_refuse_the_export(tiny_copy, tmp_path):
    """A written answer still to grade: nothing is written, and the student is named."""
    graded_submission(tiny_copy, "12345", {"answer_is_right": 1}, manual=None, last_name="Smith")
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"))
    with pytest.raises(CourseError, match=r"12345 \(Smith\).*--ungraded-as-zero"):
        fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_ungraded_as_zero_exports_and_warns(tiny_copy, tmp_path):
    """With ungraded_as_zero the answer counts 0 and the student is listed as a warning."""
    graded_submission(tiny_copy, "12345", {"answer_is_right": 1, "more_is_one": 1}, manual=None)
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"))
    report = fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv", ungraded_as_zero=True)
    assert report.written == {"12345": 2.0} and report.zeroed == ["12345"]


def test_an_existing_output_is_kept_without_force(tiny_copy, tmp_path):
    """OUT.csv exists: refused, left as it was."""
    graded_submission(tiny_copy, "12345", {}, manual=2)
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"))
    (tmp_path / "out.csv").write_text("mine")
    with pytest.raises(CourseError, match="pass --force"):
        fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "mine"


def test_a_column_named_otherwise_is_refused_with_the_columns_listed(tiny_copy, tmp_path):
    """No column titled as the assignment: the error lists Canvas's assignment columns."""
    graded_submission(tiny_copy, "12345", {}, manual=2)
    header = [*HEADER[:6], "BETH workshop (4242)", HEADER[7]]
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"), header=header)
    with pytest.raises(CourseError, match=r"Quiz 1 \(4240\); BETH workshop \(4242\).*--column"):
        fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv")


def test_column_names_the_column_to_fill_exactly(tiny_copy, tmp_path):
    """--column "exact header" fills that column."""
    graded_submission(tiny_copy, "12345", {}, manual=2)
    header = [*HEADER[:6], "BETH workshop (4242)", HEADER[7]]
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"), header=header)
    fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv", column="BETH workshop (4242)")
    assert read_rows(tmp_path / "out.csv")[3][6] == "2"


def test_points_possible_other_than_the_maximum_is_refused(tiny_copy, tmp_path):
    """A Canvas column out of 100 is not filled with scores out of 4."""
    graded_submission(tiny_copy, "12345", {}, manual=2)
    points = [*POINTS[:6], "100", POINTS[7]]
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"), points=points)
    with pytest.raises(CourseError, match="out of 100 points .* out of 4"):
        fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv")


def test_a_submission_whose_grading_failed_is_not_exported(tiny_copy, tmp_path):
    """Grading ended in an error (its cells read 0): listed with the command to regrade."""
    from beth_course.grading.gradebook import merge
    from beth_course.grading.worker import GradingResult

    merge(tiny_copy.db_url, TINY, "12345", GradingResult(student="12345", status="error"))
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"))
    report = fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv")
    assert report.written == {} and report.failed == ["12345"] and report.needs_attention


def test_a_canvas_file_that_is_not_a_gradebook_export_is_refused(tiny_copy, tmp_path):
    """A roster of another shape is refused with where Canvas's export is."""
    graded_submission(tiny_copy, "12345", {}, manual=2)
    (tmp_path / "c.csv").write_text("Name,Score\nAnn,3\n")
    with pytest.raises(CourseError, match="Export Entire Gradebook"):
        fill_canvas(tiny_copy, tmp_path / "c.csv", tmp_path / "out.csv")


# -- Moodle ----------------------------------------------------------------------------------


def test_moodle_csv_has_the_email_and_the_grade(tiny_copy, tmp_path):
    """Moodle's import file: Email address and the grade, one line per student."""
    graded_submission(tiny_copy, "777", {"answer_is_right": 1}, manual=2, email="ann@uni.example")
    moodle_csv(tiny_copy, tmp_path / "m.csv")
    assert read_rows(tmp_path / "m.csv") == [["Email address", TINY], ["ann@uni.example", "3"]]


def test_moodle_students_without_an_email_are_listed_with_the_worksheet_advice(tiny_copy, tmp_path):
    """No email known: not in the file; the message says to import the grading worksheet."""
    graded_submission(tiny_copy, "777", {}, manual=2, last_name="Ann Smith")
    report = moodle_csv(tiny_copy, tmp_path / "m.csv")
    assert report.unmatched == {"777 (Ann Smith)": "no email address known"}
    assert read_rows(tmp_path / "m.csv") == [["Email address", TINY]]
    assert "grading worksheet" in "\n".join(report.lines())


def test_two_students_with_one_email_are_neither_exported(tiny_copy, tmp_path):
    """An email shared by two students identifies neither."""
    graded_submission(tiny_copy, "777", {}, manual=2, email="ann@uni.example")
    graded_submission(tiny_copy, "778", {}, manual=1, email="ANN@uni.example")
    report = moodle_csv(tiny_copy, tmp_path / "m.csv")
    assert report.written == {} and set(report.unmatched) == {"777", "778"}


# -- the command -------------------------------------------------------------------------------


def test_export_command_fills_canvas_and_says_how_to_import(tiny_copy, tmp_path, capsys):
    """`beth-course export --canvas F -o OUT` exits 0 when everyone is matched."""
    graded_submission(tiny_copy, "12345", {}, manual=2)
    canvas_export(tmp_path / "c.csv", ("Smith, Ann", "12345"))
    code = main(
        [
            "--course",
            str(tiny_copy.root),
            "--assignment",
            TINY,
            "export",
            "--canvas",
            str(tmp_path / "c.csv"),
            "-o",
            str(tmp_path / "out.csv"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "wrote 1 grade into" in out and "next: in Canvas, Grades > Import" in out


def test_export_command_needs_exactly_one_lms(tiny_copy, tmp_path, capsys):
    """Neither --canvas nor --moodle: refused, saying which to give."""
    code = main(
        [
            "--course",
            str(tiny_copy.root),
            "--assignment",
            TINY,
            "export",
            "-o",
            str(tmp_path / "out.csv"),
        ]
    )
    assert code == 1 and "give one of --canvas" in capsys.readouterr().err
