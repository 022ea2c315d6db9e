"""The whole cycle, as the README runs it: `beth-course demo` on the fictional students.

One run of the real command (release with both validations, autograde, feedback, report)
is shared by the tests below; each checks one of its products against what it must be.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from beth_course import notebooks
from beth_course.course import Course
from beth_course.feedback import html_text
from beth_course.grades import grade_table

from .helpers import REPO, fictional_students

pytestmark = pytest.mark.slow

# Per test cell, the points each fictional student earns. Worked out from their answers
# (scripts/make_fictional_submissions.py), not from a grading run.
EXPECTED = {
    "ada": {  # everything right, written differently
        "df_matches_data_file": 1,
        "raw_histograms_cover_numeric_fields": 1,
        "engineered_features_follow_paper": 2,
        "correlations_of_engineered_features": 1,
        "umap_projection_of_balanced_sample": 2,
        "isolation_forest_on_one_percent_evil": 2,
    },
    "ben": {  # the seed's mountNamespace bug; UMAP input not standardised (hidden test)
        "df_matches_data_file": 1,
        "raw_histograms_cover_numeric_fields": 1,
        "engineered_features_follow_paper": 0,
        "correlations_of_engineered_features": 1,
        "umap_projection_of_balanced_sample": 0,
        "isolation_forest_on_one_percent_evil": 2,
    },
    "cleo": {  # handed in the release untouched
        "df_matches_data_file": 0,
        "raw_histograms_cover_numeric_fields": 0,
        "engineered_features_follow_paper": 0,
        "correlations_of_engineered_features": 0,
        "umap_projection_of_balanced_sample": 0,
        "isolation_forest_on_one_percent_evil": 0,
    },
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run `beth-course demo` into a scratch folder, as `make demo` does."""
    into = tmp_path_factory.mktemp("demo") / "demo-course"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "beth_course.cli",
            "--course",
            str(REPO),
            "demo",
            "--into",
            str(into),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return Course(into), done.stdout, done.stderr


def test_demo_prints_grades_and_where_feedback_is(demo):
    """The demo ends with the grade table and the feedback and report paths."""
    course, out, _ = demo
    assert "source validates: all 6 test cells pass" in out
    assert "release fails validation as it must: all 6 test cells fail" in out
    for line in (
        "  student  auto  manual    status\n",
        "  ada       9/9  to grade  ok\n",
        "  ben       5/9  to grade  ok\n",
        "  cleo      0/9  0/2       ok\n",
    ):
        assert line in out  # the README shows this table
    assert str(course.folder("feedback")) in out and "report.html" in out


def test_release_regenerates_the_committed_release_exactly(demo):
    """release/ as committed is what `beth-course release` makes now, byte for byte."""
    course, _, _ = demo
    fresh = {
        p.relative_to(course.root / "release"): p.read_bytes()
        for p in (course.root / "release").rglob("*")
        if p.is_file()
    }
    committed = {
        p.relative_to(REPO / "release"): p.read_bytes()
        for p in (REPO / "release").rglob("*")
        if p.is_file()
    }
    assert sorted(fresh) == sorted(committed)
    changed = [str(name) for name in fresh if fresh[name] != committed[name]]
    assert changed == [], f"release/ is stale; run `make goldens`: {changed}"


def test_fictional_scores_are_exact(demo):
    """Each fictional student gets exactly the points their answers deserve, cell by cell."""
    course, _, _ = demo
    rows = {r["student"]: r for r in grade_table(course)}
    assert sorted(rows) == sorted(EXPECTED)
    for student, cells in EXPECTED.items():
        got = {k: v for k, v in rows[student]["cells"].items() if k in cells}
        assert got == cells, student
        assert rows[student]["auto_score"] == sum(cells.values())
        assert rows[student]["status"] == "ok"
    # The written answer: pending for those who wrote one, 0 for the untouched release.
    assert rows["ada"]["needs_manual"] and rows["ben"]["needs_manual"]
    assert not rows["cleo"]["needs_manual"] and rows["cleo"]["cells"]["false_positive_answer"] == 0


def _outcomes(nb_path: Path) -> dict[str, int]:
    nb = nbformat.read(str(nb_path), as_version=4)
    out = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            failed = any(o.output_type == "error" for o in cell.outputs)
            out[meta["grade_id"]] = 0 if failed else int(meta["points"])
    return out


def test_committed_autograded_examples_agree_with_a_fresh_grading(demo):
    """autograded/ as committed shows the same pass/fail per test as grading now does."""
    course, _, _ = demo
    for student in EXPECTED:
        committed = _outcomes(Course(REPO).autograded_notebook(student))
        fresh = _outcomes(course.autograded_notebook(student))
        assert committed == fresh == EXPECTED[student], student


def test_committed_submissions_are_what_the_script_makes_from_the_release():
    """submitted/ is scripts/make_fictional_submissions.py applied to the committed release."""
    script = fictional_students()
    release_nb = Course(REPO).release_notebook
    for student in EXPECTED:
        built = script.build(release_nb, student)
        committed = nbformat.read(str(Course(REPO).submitted_notebook(student)), as_version=4)
        assert [c.source for c in built.cells] == [c.source for c in committed.cells], student


def test_no_hidden_test_line_appears_in_any_feedback_file(demo):
    """Feedback pages show scores and messages, never the hidden tests' source."""
    course, _, _ = demo
    secrets = notebooks.secret_lines(notebooks.read(course.source_notebook))
    hidden = {line: kind for line, kind in secrets.items() if kind == "hidden test"}
    pages = sorted(course.folder("feedback").rglob("*.html"))
    assert len(pages) == 3
    for page in pages:
        text = html_text(page.read_text(encoding="utf-8"))
        assert notebooks.find_leaks(text, hidden) == [], page
        assert "hidden tests: not shown" in text


def test_feedback_shows_the_failed_hidden_test_message(demo):
    """Ben learns why he lost the UMAP points, without seeing the test's code."""
    course, _, _ = demo
    text = html_text((course.folder("feedback", "ben") / "beth_workshop.html").read_text())
    assert "X should be standardised (mean 0)" in text
    assert "Score: 5.0 / 11.0" in text


def test_report_has_grades_csv_and_a_self_contained_html(demo):
    """grades.csv holds one row per student with their totals; report.html embeds its plots."""
    course, _, _ = demo
    with open(course.root / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert {s: float(r["auto_score"]) for s, r in rows.items()} == {
        s: float(sum(c.values())) for s, c in EXPECTED.items()
    }
    assert rows["ben"]["engineered_features_follow_paper"] == "0.0"
    page = (course.root / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 2
    assert "none: every submission ran normally" in page
