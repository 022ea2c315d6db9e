"""Fixtures for the whole suite: tests/ and the docstring examples in beth_helpers/.

Every data fixture is built from the 6,791 real BETH rows shipped with the package; nothing
here is synthetic. Files are written under pytest's ``tmp_path``, never into the repository.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import beth_helpers
from beth_helpers import KAGGLE_SPLITS, WORKSHOP_ORIGINS

# `make test` runs the suite on two pytest-xdist workers, a module to a worker
# (``-n 2 --dist loadfile --no-loadscope-reorder``), in the order collected here: the
# longest modules first (slowest first balances the two best), then the other slow ones,
# then the fast ones. Seconds as a whole-suite run measured them (two workers, 2 cores,
# contended). The student-setup test, which needs no kernel cache, runs beside the smoke
# benchmark while that fills the cache (when cold), so no worker waits for it.
LONGEST_FIRST = (
    "test_benchmarks_smoke",  # ~160 s (the kernel cache is filled here when cold)
    "test_student_setup",  # ~100 s
    "test_forged_scores",  # ~140 s
    "test_course_roundtrip",  # ~100 s
    "test_redteam",  # ~95 s
    "test_hostile_grading",  # ~55 s
    "test_class_scale",  # ~40 s
    "test_interrupt",  # ~40 s
    "test_notebook_runs",  # ~30 s
    "test_packaging",  # ~25 s
    "test_ps1",  # ~25 s
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest modules first, then slow, then fast; a module's own order is kept."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}

    def key(item: pytest.Item) -> int:
        module = Path(str(item.path)).stem
        if module in rank:
            return rank[module]
        return len(rank) + (0 if item.get_closest_marker("slow") else 1)

    items.sort(key=key)


@pytest.fixture(scope="session")
def real_rows() -> pd.DataFrame:
    """The shipped real rows, as ``load_workshop_data()`` returns them.

    Session-scoped and shared: a test that changes the frame must work on ``real_rows.copy()``.
    """
    return beth_helpers.load_workshop_data()


@pytest.fixture(scope="session")
def real_rows_by_origin() -> dict[str, pd.DataFrame]:
    """The real rows split into the four published blocks, keyed by a short name.

    Keys: ``host217`` (testing split, host ip-10-100-1-217), ``testing_head``,
    ``training_head``, ``validation_head``; each block keeps its positions in the shipped
    file as its index and has no ``origin`` column.
    """
    df = beth_helpers.load_workshop_data(with_origin=True)
    names = ("host217", "testing_head", "training_head", "validation_head")
    labels = [label for label, _ in WORKSHOP_ORIGINS]
    return {
        name: df[df["origin"] == label].drop(columns="origin")
        for name, label in zip(names, labels, strict=False)
    }


@pytest.fixture
def beth_csv(tmp_path: Path, real_rows: pd.DataFrame) -> Path:
    """The real rows written to ``tmp_path/data.csv`` with plain ``DataFrame.to_csv``."""
    path = tmp_path / "data.csv"
    real_rows.to_csv(path, index=False)
    return path


@pytest.fixture
def kaggle_folder(tmp_path: Path, real_rows_by_origin: dict[str, pd.DataFrame]) -> Path:
    """A folder laid out like the unzipped Kaggle download, holding only real rows.

    ``labelled_training_data.csv``: the first 100 rows of the training split;
    ``labelled_validation_data.csv``: the first 100 rows of the validation split;
    ``labelled_testing_data.csv``: the host-217 testing rows, then the testing split's
    first 100 rows. Rows are unchanged; only the split they are filed under is chosen here.
    """
    folder = tmp_path / "beth-dataset"
    folder.mkdir()
    blocks = real_rows_by_origin
    contents = {
        "training": blocks["training_head"],
        "validation": blocks["validation_head"],
        "testing": pd.concat([blocks["host217"], blocks["testing_head"]]),
    }
    for split, rows in contents.items():
        rows.to_csv(folder / KAGGLE_SPLITS[split], index=False)
    return folder


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, doctest_namespace: dict) -> None:
    """Give the docstring examples ``tmp_path`` and ``kaggle_folder`` (doctests only)."""
    if isinstance(request.node, pytest.DoctestItem):
        doctest_namespace["tmp_path"] = request.getfixturevalue("tmp_path")
        doctest_namespace["kaggle_folder"] = request.getfixturevalue("kaggle_folder")


# --- the course ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_available() -> bool:
    """Whether bubblewrap works here; grading tests use it when it does."""
    from beth_course.grading.bwrap import bwrap_status

    return bwrap_status()[0]


@pytest.fixture(scope="session")
def released_course(tmp_path_factory):
    """A copy of the course, released (without re-running the notebook): shared, read-only."""
    from beth_course.release import release
    from tests.helpers import copy_course

    course = copy_course(tmp_path_factory.mktemp("released") / "course")
    release(course, validate=False)
    return course


@pytest.fixture
def course_copy(released_course, tmp_path):
    """A private, writable copy of the released course (gradebook included)."""
    import shutil

    from beth_course.course import Course

    shutil.copytree(released_course.root, tmp_path / "course")
    return Course(tmp_path / "course")


@pytest.fixture(scope="session")
def tiny_written(tmp_path_factory):
    """The tiny assignment with a written answer (``tests.helpers.TINY_WRITTEN_CELLS``),
    released once (a few seconds), no students: shared, read-only; copy it (``tiny_copy``)."""
    from tests.helpers import TINY_WRITTEN_CELLS, tiny_course

    return tiny_course(tmp_path_factory.mktemp("tiny-written") / "course", cells=TINY_WRITTEN_CELLS)


@pytest.fixture
def tiny_copy(tiny_written, tmp_path):
    """A private, writable copy of ``tiny_written`` (gradebook included)."""
    import shutil

    from beth_course.course import Course

    shutil.copytree(tiny_written.root, tmp_path / "course")
    return Course(tmp_path / "course", tiny_written.assignment, tiny_written.notebook)


@pytest.fixture(scope="session")
def hostile_course(tmp_path_factory) -> Path:
    """A tiny nbgrader course (assignment ``tiny``) under the course's real nbgrader_config.py.

    Released with nbgrader; students ada (hostile outputs and answer) and eve (also prints
    the hidden tests) autograded, built with nbgrader's API (tests/hostile.py). Shared and
    read-only: copy it before writing feedback into it.
    """
    from tests.helpers import REPO
    from tests.hostile import build_course

    root = tmp_path_factory.mktemp("hostile") / "course"
    build_course(root, (REPO / "nbgrader_config.py").read_text(encoding="utf-8"))
    return root


# The repository's own course folders are a worked example (and, for someone who used the
# repository as their course before `beth-course init`, a real class): no test may write them.
_LIVE_FOLDERS = ("source", "release", "submitted", "autograded", "feedback", "demo-course")
_LIVE_FILES = ("nbgrader_config.py", "gradebook.db", ".nbgrader.log", "grades.csv", "report.html")


def live_course_state(repo: Path) -> dict[str, tuple[int, int]]:
    """``{path: (size, mtime_ns)}`` of every file of the repository's course folders."""
    paths = [repo / name for name in _LIVE_FILES]
    for name in _LIVE_FOLDERS:
        paths += sorted((repo / name).rglob("*"))
    return {
        str(p.relative_to(repo)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in paths
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture(scope="session", autouse=True)
def _repository_course_untouched():
    """Fails the session if any test wrote into the repository's course folders."""
    repo = Path(__file__).resolve().parent
    before = live_course_state(repo)
    yield
    after = live_course_state(repo)
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    assert not changed, f"tests wrote into the repository's course folders: {changed[:10]}"
