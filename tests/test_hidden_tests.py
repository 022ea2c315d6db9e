"""beth_course.hidden_tests: the one step that takes hidden tests out of graded notebooks."""

from __future__ import annotations

import doctest

import pytest
from nbconvert.exporters import NotebookExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

from beth_course import hidden_tests
from beth_course.hidden_tests import HIDDEN_NOTE, HiddenTestsLeaked, hide_hidden_tests

from .hostile import HIDDEN_LINES, TEST_CELL, VISIBLE_TEST


def graded_test_cell(**metadata) -> dict:
    cell = new_code_cell(TEST_CELL)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, **metadata}
    return cell


def failed(cell, traceback: list[str]):
    cell.outputs = [
        new_output("error", ename="AssertionError", evalue="negatives", traceback=traceback)
    ]
    return cell


def printed(text: str):
    return new_code_cell("print(_ih[-2])", outputs=[new_output("stream", name="stdout", text=text)])


def test_hidden_region_becomes_one_note_and_visible_tests_stay():
    """The lines between the markers and the markers go; the visible assert stays."""
    source = hide_hidden_tests(new_notebook(cells=[graded_test_cell()])).cells[0].source
    assert VISIBLE_TEST in source and HIDDEN_NOTE in source
    assert not any(line in source for line in HIDDEN_LINES) and "### " not in source


def test_a_traceback_quoting_a_hidden_line_becomes_name_and_message():
    """IPython's traceback shows the failing hidden line: only 'Name: message' is kept."""
    cell = failed(graded_test_cell(), [f"----> 4 {HIDDEN_LINES[0]}"])
    (output,) = hide_hidden_tests(new_notebook(cells=[cell])).cells[0].outputs
    assert output["traceback"] == ["AssertionError: negatives"]


def test_a_test_cell_without_hidden_tests_also_shows_name_and_message():
    """As before the move out of feedback.py: every test cell's error is shortened."""
    cell = failed(new_code_cell(VISIBLE_TEST), ["long", "traceback"])
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "v", "points": 1}
    (output,) = hide_hidden_tests(new_notebook(cells=[cell])).cells[0].outputs
    assert output["traceback"] == ["AssertionError: negatives"]


@pytest.mark.parametrize(
    "leak",
    [TEST_CELL, HIDDEN_LINES[1], "### END HIDDEN TESTS"],
    ids=["whole cell", "one line", "marker"],
)
def test_hidden_text_printed_by_a_later_cell_is_refused(leak):
    """Student code can print the input history: such a notebook gets no page."""
    nb = new_notebook(cells=[graded_test_cell(), printed(leak)])
    with pytest.raises(HiddenTestsLeaked, match="cell 1"):
        hide_hidden_tests(nb)


def test_a_marker_in_a_markdown_cell_is_refused():
    """A marker anywhere outside code is hidden-test text by definition."""
    nb = new_notebook(cells=[graded_test_cell(), new_markdown_cell("### BEGIN HIDDEN TESTS")])
    with pytest.raises(HiddenTestsLeaked):
        hide_hidden_tests(nb)


def test_a_line_the_student_also_wrote_is_not_a_leak():
    """A hidden line that also appears in a visible source is public, wherever it shows."""
    mine = new_code_cell(
        HIDDEN_LINES[0], outputs=[new_output("stream", name="stdout", text=HIDDEN_LINES[0])]
    )
    nb = hide_hidden_tests(new_notebook(cells=[graded_test_cell(), mine]))
    assert nb.cells[1].source == HIDDEN_LINES[0]


def test_the_preprocessor_runs_from_config_by_import_path():
    """As nbgrader_config.py names it in c.GenerateFeedback.preprocessors."""
    config = Config(
        {"NotebookExporter": {"preprocessors": ["beth_course.hidden_tests.HideHiddenTests"]}}
    )
    text, _ = NotebookExporter(config=config).from_notebook_node(
        new_notebook(cells=[graded_test_cell()])
    )
    assert HIDDEN_NOTE in text and not any(line in text for line in HIDDEN_LINES)


def test_docstring_examples():
    """The example in beth_course/hidden_tests.py runs as written."""
    assert doctest.testmod(hidden_tests).failed == 0
