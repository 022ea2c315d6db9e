"""A class graded two at a time with a progress bar, and on Dask, to the same grades.

The class is six students of the tiny assignment: two each with both answers right, one
right and none. Grading goes through the real command line, as an instructor runs it. (The
BETH notebook's own grades are checked by the round trip and forged-scores tests.)
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from beth_course.course import Course
from beth_course.grades import grade_table

from .helpers import submit, tiny_course

pytestmark = pytest.mark.slow

ANSWERS = {
    "right": {"answer": "answer = open(DATA_FILE).read().strip()", "more": "more = 1"},
    "half": {"answer": "answer = 'wrong'", "more": "more = 1"},
    "blank": {},
}
EXPECTED_TOTAL = {"right": 2, "half": 1, "blank": 0}
SIZE = 6  # enough for two workers to share the work and the bar to move; each adds ~3 s


def _class(dest) -> tuple[Course, dict[str, str]]:
    course = tiny_course(dest)
    source_of = {}
    for n in range(SIZE):
        kind = list(ANSWERS)[n % 3]
        student = f"s{n + 1:02d}"
        submit(course, student, ANSWERS[kind])
        source_of[student] = kind
    return course, source_of


def _cli(course: Course, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "beth_course.cli",
            "--course",
            str(course.root),
            "--assignment",
            "tiny",
            "autograde",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )


def _cells(course: Course) -> dict[str, dict]:
    return {r["student"]: r["cells"] for r in grade_table(course)}


@pytest.fixture(scope="module")
def local_class(tmp_path_factory, sandbox_available):
    course, source_of = _class(tmp_path_factory.mktemp("class") / "course")
    sandbox = [] if sandbox_available else ["--no-sandbox"]
    first = _cli(course, "--workers", "2", *sandbox)
    again = _cli(course, "--workers", "2", *sandbox)
    return course, source_of, first, again, sandbox


def test_the_class_grades_correctly_with_two_workers(local_class):
    """Every student gets exactly what their answers earn."""
    course, source_of, first, _, _ = local_class
    assert first.returncode == 0, first.stderr[-2000:]
    rows = {r["student"]: r for r in grade_table(course)}
    assert len(rows) == SIZE
    for student, original in source_of.items():
        assert rows[student]["auto_score"] == EXPECTED_TOTAL[original], student
        assert rows[student]["status"] == "ok"
    assert f"graded {SIZE} submissions" in first.stdout and "on 2 processes" in first.stdout


def test_progress_bar_shows_done_total_failures_and_eta(local_class):
    """The bar counts up to the class size and shows failures and an ETA as it goes."""
    _, _, first, _, _ = local_class
    err = first.stderr
    assert f"grading 0/{SIZE}" in err and f"grading {SIZE}/{SIZE}" in err
    assert "ETA" in err and "failed 0" in err


def test_rerunning_skips_what_is_already_graded(local_class):
    """A second run grades nothing and says why; grades are unchanged."""
    course, source_of, _, again, _ = local_class
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"nothing graded: {SIZE} submissions already graded (--force regrades)" in again.stdout
    assert len(grade_table(course)) == SIZE


def test_same_class_on_a_local_dask_cluster_gets_identical_grades(local_class, tmp_path):
    """On a LocalCluster with two single-threaded workers, every cell's score is the same."""
    from distributed import LocalCluster

    course, _, _, _, sandbox = local_class
    dask_course, _ = _class(tmp_path / "dask-course")
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        done = _cli(dask_course, "--dask-scheduler", cluster.scheduler_address, *sandbox)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(2 workers)" in done.stdout
    assert _cells(dask_course) == _cells(course)
