"""A student with nothing but the release folder's notebook and wheel, and pip.

The release notebook, filled in with correct answers, runs in a fresh virtual environment
that has only a Jupyter kernel (what Jupyter and Colab give you): its setup cell installs
beth_helpers from the wheel beside it and umap-learn from PyPI, writes data.csv from the
shipped rows, and every visible test passes. Needs the package index (pip), as students do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest

from beth_course.course import Course

from .helpers import REPO, fictional_students

pytestmark = pytest.mark.slow

RUNNER = textwrap.dedent("""
    import sys, nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(sys.argv[1], as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": sys.argv[2]}}).execute()
    nbformat.write(nb, sys.argv[1])
""")


def _outputs_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


def test_release_notebook_sets_itself_up_in_a_fresh_environment(tmp_path):
    """No beth_helpers, no data.csv: the setup cell fixes both and every visible test passes."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "ipykernel",
            "nbclient",
            "nbformat",
        ],
        check=True,
        capture_output=True,
    )
    assert (
        subprocess.run([python, "-c", "import beth_helpers"], capture_output=True).returncode != 0
    )

    student = tmp_path / "student"
    student.mkdir()
    release = Course(REPO).folder("release")
    for wheel in release.glob("*.whl"):
        shutil.copy2(wheel, student / wheel.name)
    notebook = student / "beth_workshop.ipynb"
    nbformat.write(
        fictional_students().build(release / "beth_workshop.ipynb", "ada"), str(notebook)
    )
    assert not (student / "data.csv").exists()

    (tmp_path / "run.py").write_text(RUNNER)
    # The setup cell's pip skips compiling every module's bytecode (only what is imported
    # gets compiled, when it is imported).
    done = subprocess.run(
        [python, str(tmp_path / "run.py"), str(notebook), str(student)],
        capture_output=True,
        text=True,
        timeout=2400,
        env={**os.environ, "PIP_NO_COMPILE": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]

    nb = nbformat.read(str(notebook), as_version=4)
    errors = [
        (c.metadata.get("nbgrader", {}).get("grade_id"), o.ename, o.evalue)
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []
    setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    assert "Installing beth_helpers" in _outputs_text(setup)
    assert "were written to data.csv" in _outputs_text(setup)
    assert (student / "data.csv").stat().st_size > 1_000_000
