"""release's own checks, on tiny assignments built in the test (one kernel run each)."""

from __future__ import annotations

import nbformat
import pytest

from beth_course.course import Course, CourseError
from beth_course.release import first_error, release

from .helpers import REPO, TINY, TINY_CELLS, tiny_notebook

CAUSE = "only 3 evil rows in data.csv; lower FOREST_SAMPLE_SIZE"


def _course(tmp_path, cells) -> Course:
    source = tmp_path / "source" / TINY
    source.mkdir(parents=True)
    (tmp_path / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text())
    nbformat.write(tiny_notebook(cells), str(source / f"{TINY}.ipynb"))
    (source / "data.csv").write_text("42\n")
    return Course(tmp_path, TINY, TINY)


def test_a_failing_solution_is_reported_by_its_own_error_not_a_later_name_error(tmp_path):
    """Issue 11: a changed sample size made a solution cell raise (get_sample's message);
    release showed only the NameError of the test cell after it. It shows the cause."""
    cells = list(TINY_CELLS)
    grade_id, kind, flags, _ = cells[1]
    cells[1] = (
        grade_id,
        kind,
        flags,
        f"### BEGIN SOLUTION\nraise ValueError({CAUSE!r})\nanswer = '42'\n### END SOLUTION",
    )
    with pytest.raises(CourseError) as raised:
        release(_course(tmp_path, cells))
    message = str(raised.value)
    assert f"ValueError: {CAUSE}" in message, message
    assert "raise ValueError(" in message  # the cell that raised, shown
    assert "tiny.ipynb does not pass its own tests (1 cell)" in message


def test_first_error_is_the_first_cell_that_raised():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in ("a = 1", "b = c", "assert b")]
    )
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="c")]
    nb.cells[2].outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="b")]
    assert first_error(nb) == ("b = c", "NameError: c")
    nb.cells[1].outputs = nb.cells[2].outputs = []
    assert first_error(nb) is None
    assert first_error(None) is None
