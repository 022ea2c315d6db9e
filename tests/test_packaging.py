"""`pip install .` gives a working beth_helpers, with its data, in a fresh environment."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from .helpers import REPO

pytestmark = pytest.mark.slow


def test_pip_install_in_a_fresh_venv_gives_a_working_beth_helpers(tmp_path):
    """Built from this checkout (``pip wheel``, as ``pip install .`` builds it) and installed
    (not editable), the package and its rows work."""
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        text=True,
    )
    # setuptools once warned for 50 lines that beth_helpers.data was not a declared package.
    assert "BuildBackendWarning" not in built.stdout + built.stderr, built.stdout + built.stderr
    (wheel,) = wheels.glob("beth_workshop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "beth_helpers/data/workshop_rows.csv.gz" in names
    assert "beth_helpers/data/PROVENANCE.md" in names
    local = {
        p.relative_to(REPO).as_posix()
        for pkg in ("beth_helpers", "beth_course")
        for p in (REPO / pkg).rglob("*.py")
    }
    assert local <= set(names), sorted(local - set(names))
    assert not [n for n in names if n.startswith(("tests/", "source/", "submitted/"))]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(  # --no-compile: bytecode for a few modules, not all of numpy's and pandas'
        [python, "-m", "pip", "install", "--quiet", "--no-compile", str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import beth_helpers as b; df = b.load_workshop_data(); "
        "e, X, y = b.preprocess(b.get_sample(df, 100, 0.5, random_state=0)); "
        "print(len(df), X.shape, int(y.sum())); "
        "import importlib.util as u; print(u.find_spec('nbgrader') is None)"
    )
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["6791 (100, 7) 50", "True"]
