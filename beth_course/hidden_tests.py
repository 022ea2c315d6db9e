"""Take the hidden tests out of an autograded notebook before anyone renders it for a student.

The autograded notebook holds the hidden tests: autograde restores them to run them, and
nbgrader's ``generate_feedback`` renders the notebook as it is (jupyter/nbgrader#917,
#1363). `HideHiddenTests` is the one step that removes them, shared by ``beth-course
feedback`` and by nbgrader's own ``nbgrader generate_feedback`` (and so formgrader's
"Generate Feedback" button), which runs it through ``c.GenerateFeedback.preprocessors`` in
the course's ``nbgrader_config.py``. In place, it:

- replaces, in every code cell, the lines between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS`` by one comment line (`HIDDEN_NOTE`);
- shows an error in such a cell, and in any test cell, as its name and message only
  (``AssertionError: X should be standardised``), because IPython's traceback quotes the
  failing source lines;
- refuses (raises `HiddenTestsLeaked`) when a marker or a removed line (12 characters or
  more, and not also written elsewhere in the notebook) is still anywhere in the notebook:
  in a later cell's output, say, where student code printed the input history. nbgrader
  then writes no page for that student and logs why.

The refusal finds verbatim text only: hidden tests printed encoded (base64, drawn into an
image) are not found here. They stop reaching students only when the hidden tests no longer
run in the student's kernel (issue 10, item 2).
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool

from .notebooks import HIDDEN_BEGIN, HIDDEN_END

HIDDEN_NOTE = "# (hidden tests: not shown)"
# Shorter lines ("else:", ")") are too common to say anything about a leak.
_MIN_LEAK_CHARS = 12


class HiddenTestsLeaked(Exception):
    """Hidden-test text is still in the notebook after the hidden tests were removed."""


def _split_hidden(source: str) -> tuple[str, list[str]]:
    """``source`` with each hidden region replaced by `HIDDEN_NOTE`, and the removed lines."""
    kept, removed, hidden = [], [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == HIDDEN_BEGIN:
            hidden = True
            kept.append(line[: len(line) - len(line.lstrip())] + HIDDEN_NOTE)
        elif stripped == HIDDEN_END:
            hidden = False
        elif hidden:
            removed.append(line)
        else:
            kept.append(line)
    return "\n".join(kept), removed


def _short_errors(cell: NotebookNode) -> None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]


def _texts(nb: NotebookNode) -> list[tuple[int, str]]:
    """``(cell index, text)`` for every source and every text in every output."""
    texts = []
    for index, cell in enumerate(nb.cells):
        texts.append((index, str(cell.get("source", ""))))
        for output in cell.get("outputs", []):
            pieces = [output.get("text"), output.get("ename"), output.get("evalue")]
            pieces += list(output.get("data", {}).values()) + list(output.get("traceback", []))
            texts += [(index, str(piece)) for piece in pieces if piece is not None]
    return texts


def _check_no_leak(nb: NotebookNode, removed: set[str], visible: set[str]) -> None:
    secrets = {line for line in removed if len(line) >= _MIN_LEAK_CHARS} - visible
    for index, text in _texts(nb):
        found = [m for m in (HIDDEN_BEGIN, HIDDEN_END) if m in text]
        found += [line for line in secrets if line in text]
        if found:
            raise HiddenTestsLeaked(
                f"cell {index} still shows {len(found)} hidden-test lines or markers after the "
                "hidden tests were removed (student code printed them?): no feedback page "
                "is written for this notebook"
            )


def hide_hidden_tests(nb: NotebookNode) -> NotebookNode:
    """Remove hidden tests (source and tracebacks) from ``nb``, in place; return ``nb``.

    Raises `HiddenTestsLeaked` when hidden-test text is still in the notebook afterwards.

    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cell = new_code_cell("assert f(1) == 2\\n### BEGIN HIDDEN TESTS\\nassert f(-1) == 0\\n"
    ...                      "### END HIDDEN TESTS")
    >>> print(hide_hidden_tests(new_notebook(cells=[cell])).cells[0].source)
    assert f(1) == 2
    # (hidden tests: not shown)
    """
    removed: set[str] = set()
    visible: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and HIDDEN_BEGIN in cell.source:
            cell.source, lines = _split_hidden(cell.source)
            removed.update(line.strip() for line in lines)
            _short_errors(cell)
        elif cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            _short_errors(cell)
        visible.update(line.strip() for line in str(cell.get("source", "")).splitlines())
    _check_no_leak(nb, removed, visible)
    return nb


class HideHiddenTests(Preprocessor):
    """nbconvert/nbgrader preprocessor: `hide_hidden_tests`, or refuse the notebook.

    For ``c.GenerateFeedback.preprocessors`` in ``nbgrader_config.py``, before ``GetGrades``.
    """

    enabled = Bool(True, help="Whether to remove hidden tests (keep this on).").tag(config=True)

    def preprocess(self, nb, resources):
        return hide_hidden_tests(nb), resources
