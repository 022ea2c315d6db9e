"""The instructor notebook, run top to bottom: every test passes, silently.

nbgrader scores a test cell 0 when it writes to stderr or ends in a number (partial
credit), so passing is not enough: the grade cells must also be quiet. The kernel loads
``beth_course.kernel_boot`` first, as grading kernels do (umap's numba code is then compiled
once per machine, not in every run). Per-cell times are printed (run pytest with -s to see
them); speed itself is measured in benchmarks/.
"""

from __future__ import annotations

import os
import shutil
import time

import nbformat
import pytest
from nbclient import NotebookClient

from .helpers import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebook") / "beth_workshop"
    shutil.copytree(REPO / "source" / "beth_workshop", folder)
    nb = nbformat.read(str(folder / "beth_workshop.ipynb"), as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(REPO / "benchmarks"))
        from common import kernel_boot_ipython_dir
    ipython_dir = kernel_boot_ipython_dir(tmp_path_factory.mktemp("ipython"))
    timings = []
    with client.setup_kernel(env={**os.environ, "IPYTHONDIR": str(ipython_dir)}):
        for index, cell in enumerate(nb.cells):
            started = time.monotonic()
            client.execute_cell(cell, index)
            name = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
            timings.append((name, time.monotonic() - started))
    print("\n".join(f"{seconds:6.1f} s  {name}" for name, seconds in timings if seconds > 0.05))
    return nb


def _grade_cells(nb):
    return [
        c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    ]


def test_no_cell_raises(executed):
    """The instructor's solutions run without an error anywhere."""
    errors = [
        (c.metadata.get("nbgrader", {}).get("grade_id"), o.ename, o.evalue)
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []


def test_grade_cells_write_nothing_to_stderr(executed):
    """No test cell writes to stderr (nbgrader would score it 0)."""
    noisy = [
        c.metadata["nbgrader"]["grade_id"]
        for c in _grade_cells(executed)
        if any(o.output_type == "stream" and o.name == "stderr" for o in c.outputs)
    ]
    assert noisy == []


def test_grade_cells_end_in_a_statement(executed):
    """No test cell produces a value (nbgrader would read a number as partial credit)."""
    valued = [
        c.metadata["nbgrader"]["grade_id"]
        for c in _grade_cells(executed)
        if any(o.output_type == "execute_result" for o in c.outputs)
    ]
    assert valued == []


def test_setup_cell_wrote_no_data_and_installed_nothing(executed):
    """With data.csv present and everything installed, setup only reports versions."""
    setup = next(
        c for c in executed.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"
    )
    text = "".join(o.get("text", "") for o in setup.outputs)
    assert "Installing" not in text and "were written to" not in text
    assert "beth_helpers 0.1.0" in text
