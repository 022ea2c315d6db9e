"""Tampered and broken-structure submissions earn exactly what their solutions earn.

Each submission below is a correct notebook of the tiny assignment (2 of 2 autograded
points) after one thing students really do to notebooks. The original tests are restored
from the gradebook, so the score depends only on the solutions. All are graded in one
round, in the sandbox when it is available. (Each step is also tested in memory, in
tests/test_grading_steps.py.)
"""

from __future__ import annotations

import copy

import nbformat
import pytest

from beth_course import notebooks
from beth_course.grades import grade_table
from beth_course.grading.runner import autograde

from .helpers import submit, tiny_course

pytestmark = pytest.mark.slow


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_test(cell):
    return cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"


def edited_tests(nb):
    """Every test cell replaced by `pass`."""
    for cell in nb.cells:
        if _is_test(cell):
            cell.source = "pass"


def deleted_tests(nb):
    """Every test cell deleted."""
    nb.cells = [c for c in nb.cells if not _is_test(c)]


def deleted_task_and_neighbours(nb):
    """A task deleted whole: its solution and its test, and the cell before (nbgrader#1682)."""
    gone = {"answer", "answer_is_right", "parameters"}
    nb.cells = [c for c in nb.cells if _gid(c) not in gone]


def duplicated_everything(nb):
    """Every cell duplicated in place."""
    nb.cells = [copy.deepcopy(c) for cell in nb.cells for c in (cell, cell)]
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"dup-{index}"


def duplicated_answer_then_stub(nb, stub_source):
    """The answer cell duplicated; the student answered the first copy, not the second."""
    index = next(i for i, c in enumerate(nb.cells) if _gid(c) == "answer")
    stub = copy.deepcopy(nb.cells[index])
    stub.source, stub["id"] = stub_source, "stub-copy"
    nb.cells.insert(index + 1, stub)


def changed_cell_types(nb):
    """Every test cell turned into markdown, and the more solution too."""
    for cell in nb.cells:
        if _is_test(cell) or _gid(cell) == "more":
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)


def changed_kernel(nb):
    """The kernelspec points at a kernel that does not exist."""
    nb.metadata["kernelspec"] = {
        "name": "my-own-kernel",
        "display_name": "Mine",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python", "version": "2.7"}


def renamed_test_ids(nb):
    """A test cell's grade id renamed and its body replaced."""
    for cell in nb.cells:
        if _gid(cell) == "more_is_one":
            cell.metadata["nbgrader"]["grade_id"] = "always_passes"
            cell.source = "pass"


def stripped_metadata(nb):
    """All nbgrader metadata gone, as when cells are pasted into a new notebook."""
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    nb.cells = [
        c for c in nb.cells if not (c.cell_type == "code" and c.source.startswith('"""Check'))
    ]
    # (the answer cells keep their text; the locked parameters cell is recognised by its text)


def colab_format(nb):
    """Saved by an older front end: nbformat 4.4 without cell ids, Colab's metadata added."""
    nb.nbformat_minor = 4
    for cell in nb.cells:
        cell.pop("id", None)
        cell.metadata["id"] = "colab-cell"
        cell.metadata["colab"] = {"base_uri": "https://localhost:8080/"}
    nb.metadata["colab"] = {"provenance": []}


CASES = {
    "edited_tests": (edited_tests, 2),
    "deleted_tests": (deleted_tests, 2),
    # the answer comes back as the stub: its test fails; the other still passes
    "deleted_task_and_neighbours": (deleted_task_and_neighbours, 1),
    "duplicated_everything": (duplicated_everything, 2),
    "duplicated_answer_then_stub": (duplicated_answer_then_stub, 2),
    "changed_cell_types": (changed_cell_types, 2),
    "changed_kernel": (changed_kernel, 2),
    "renamed_test_ids": (renamed_test_ids, 2),
    "stripped_metadata": (stripped_metadata, 2),
    "colab_format": (colab_format, 2),
}
ANSWERS = {"answer": "answer = open(DATA_FILE).read().strip()", "more": "more = 1"}


@pytest.fixture(scope="module")
def tampered_round(tmp_path_factory, sandbox_available):
    course = tiny_course(tmp_path_factory.mktemp("tampered") / "course")
    stub = next(
        c.source for c in notebooks.read(course.release_notebook).cells if _gid(c) == "answer"
    )
    for student, (tamper, _) in CASES.items():
        path = submit(course, student, ANSWERS)
        nb = nbformat.read(str(path), as_version=4)
        if tamper is duplicated_answer_then_stub:
            tamper(nb, stub)
        else:
            tamper(nb)
        path.write_text(nbformat.writes(nb, version=4))
    summary = autograde(course, workers=2, sandbox=sandbox_available, progress=False)
    return course, summary, {r["student"]: r for r in grade_table(course)}


@pytest.mark.parametrize("student", sorted(CASES))
def test_tampered_submission_scores_what_its_solutions_earn(tampered_round, student):
    """The original tests ran, whatever the student did to them."""
    _, summary, rows = tampered_round
    result = next(r for r in summary.results if r.student == student)
    assert result.status == "ok", result.reason
    assert rows[student]["auto_score"] == CASES[student][1]


def test_restored_tests_include_the_hidden_ones(tampered_round):
    """The tests put back are the gradebook's, hidden tests included."""
    course, _, _ = tampered_round
    nb = notebooks.read(course.autograded_notebook("edited_tests"))
    tests = [c.source for c in nb.cells if _is_test(c)]
    assert len(tests) == 2 and all(notebooks.HIDDEN_BEGIN in t for t in tests)


def test_what_was_restored_is_recorded(tampered_round):
    """The autograded notebook says what was put right, for the instructor to see."""
    course, _, _ = tampered_round
    nb = notebooks.read(course.autograded_notebook("deleted_tests"))
    restored = nb.metadata["beth_grading"]["restored"]
    assert sum("was missing and was put back" in line for line in restored) == 2
