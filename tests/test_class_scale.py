"""A class of 30: graded two at a time with a progress bar, and on Dask, to the same grades.

The class is ten copies each of ada, ben and cleo under new ids. Grading goes through the
real command line, as an instructor runs it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from beth_course.course import Course
from beth_course.grades import grade_table

pytestmark = pytest.mark.slow

ORIGINALS = ("ada", "ben", "cleo")
EXPECTED_TOTAL = {"ada": 9, "ben": 5, "cleo": 0}


def _class_of_30(released_course, dest) -> tuple[Course, dict[str, str]]:
    shutil.copytree(released_course.root, dest)
    course = Course(dest)
    source_of = {}
    for n in range(30):
        original = ORIGINALS[n % 3]
        student = f"s{n + 1:02d}"
        shutil.copytree(course.folder("submitted", original), course.folder("submitted", student))
        source_of[student] = original
    for original in ORIGINALS:
        shutil.rmtree(course.root / "submitted" / original)
    return course, source_of


def _cli(course: Course, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "beth_course.cli", "--course", str(course.root), "autograde", *args],
        capture_output=True, text=True, timeout=1800,
    )


def _cells(course: Course) -> dict[str, dict]:
    return {r["student"]: r["cells"] for r in grade_table(course)}


@pytest.fixture(scope="module")
def local_class(released_course, tmp_path_factory, sandbox_available):
    course, source_of = _class_of_30(released_course, tmp_path_factory.mktemp("class") / "course")
    sandbox = [] if sandbox_available else ["--no-sandbox"]
    first = _cli(course, "--workers", "2", *sandbox)
    again = _cli(course, "--workers", "2", *sandbox)
    return course, source_of, first, again, sandbox


def test_class_of_30_grades_correctly_with_two_workers(local_class):
    """Every copy gets exactly its original's score."""
    course, source_of, first, _, _ = local_class
    assert first.returncode == 0, first.stderr[-2000:]
    rows = {r["student"]: r for r in grade_table(course)}
    assert len(rows) == 30
    for student, original in source_of.items():
        assert rows[student]["auto_score"] == EXPECTED_TOTAL[original], student
        assert rows[student]["status"] == "ok"
    assert "graded 30 submissions" in first.stdout and "on 2 processes" in first.stdout


def test_progress_bar_shows_done_total_failures_and_eta(local_class):
    """The bar counts up to 30/30 and shows failures and an ETA as it goes."""
    _, _, first, _, _ = local_class
    err = first.stderr
    assert "grading 0/30" in err and "grading 30/30" in err
    assert "ETA" in err and "failed 0" in err


def test_rerunning_skips_what_is_already_graded(local_class):
    """A second run grades nothing and says why; grades are unchanged."""
    course, source_of, _, again, _ = local_class
    assert again.returncode == 0, again.stderr[-2000:]
    assert "skipped 30 already graded (--force regrades)" in again.stdout
    assert len(grade_table(course)) == 30


def test_same_class_on_a_local_dask_cluster_gets_identical_grades(local_class, released_course, tmp_path):
    """On a LocalCluster with two single-threaded workers, every cell's score is the same."""
    from distributed import LocalCluster

    course, _, _, _, sandbox = local_class
    dask_course, _ = _class_of_30(released_course, tmp_path / "dask-course")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        done = _cli(dask_course, "--dask-scheduler", cluster.scheduler_address, *sandbox)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(2 workers)" in done.stdout
    assert _cells(dask_course) == _cells(course)
