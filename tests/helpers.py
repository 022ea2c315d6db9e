"""Plain helpers for the course tests (fixtures live in the repository's conftest.py)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat

from beth_course.course import ASSIGNMENT, FICTIONAL_STUDENTS, REPOSITORY, Course

REPO = REPOSITORY
COURSE_INPUTS = ("nbgrader_config.py", "source")


def copy_course(dest: Path, extra: tuple[str, ...] = (), repo: Path = REPO) -> Course:
    """Copy the worked example's inputs (and ``extra`` folders such as ``release``) to ``dest``.

    Of ``submitted/``, only the fictional students' folders are copied: whatever else is
    there is someone's real work (or a test's leftovers), never a fixture.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in COURSE_INPUTS + extra:
        src = repo / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    for student in FICTIONAL_STUDENTS:
        folder = Path("submitted") / student / ASSIGNMENT
        shutil.copytree(repo / folder, dest / folder)
    return Course(dest)


def fictional_students():
    """The module that builds the fictional students' submissions (scripts/...)."""
    path = REPO / "scripts" / "make_fictional_submissions.py"
    spec = importlib.util.spec_from_file_location("make_fictional_submissions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- a tiny assignment, for grading tests that need no BETH data --------------------------
TINY = "tiny"
TINY_CELLS = [
    ("parameters", "code", {"locked": True}, 'DATA_FILE = "data.csv"'),
    (
        "answer",
        "code",
        {"solution": True},
        "### BEGIN SOLUTION\nanswer = open(DATA_FILE).read().strip()\n### END SOLUTION",
    ),
    (
        "answer_is_right",
        "code",
        {"grade": True, "locked": True, "points": 1},
        '"""Check that answer holds the text of DATA_FILE."""\n'
        'assert answer == "42", "answer should be the text of DATA_FILE"\n'
        "### BEGIN HIDDEN TESTS\n"
        'assert len(answer) == 2 and answer.isdigit(), "answer should be two digits"\n'
        "### END HIDDEN TESTS",
    ),
    ("more", "code", {"solution": True}, "### BEGIN SOLUTION\nmore = 1\n### END SOLUTION"),
    (
        "more_is_one",
        "code",
        {"grade": True, "locked": True, "points": 1},
        '"""Check more."""\nassert more == 1\n'
        "### BEGIN HIDDEN TESTS\nassert isinstance(more, int)\n### END HIDDEN TESTS",
    ),
]


def tiny_notebook(cells=TINY_CELLS) -> nbformat.NotebookNode:
    """An nbgrader source notebook from ``(grade id, type, flags, source)`` rows."""
    out = []
    for grade_id, kind, flags, source in cells:
        cell = (
            nbformat.v4.new_code_cell(source)
            if kind == "code"
            else nbformat.v4.new_markdown_cell(source)
        )
        cell.metadata["nbgrader"] = {
            "grade": bool(flags.get("grade")),
            "solution": bool(flags.get("solution")),
            "locked": bool(flags.get("locked")),
            "grade_id": grade_id,
            "schema_version": 3,
            **({"points": flags["points"]} if "points" in flags else {}),
        }
        out.append(cell)
    return nbformat.v4.new_notebook(cells=out)


def tiny_course(dest: Path, config: str = "", cells=TINY_CELLS, files=None) -> Course:
    """A released course with one assignment ``tiny`` (notebook ``tiny.ipynb``)."""
    from beth_course.release import release

    source = dest / "source" / TINY
    source.mkdir(parents=True)
    base = (REPO / "nbgrader_config.py").read_text()
    (dest / "nbgrader_config.py").write_text(base + "\n# test settings\n" + config)
    nbformat.write(tiny_notebook(cells), str(source / f"{TINY}.ipynb"))
    for name, text in (files or {"data.csv": "42\n"}).items():
        (source / name).write_text(text)
    course = Course(dest, TINY, TINY)
    release(course, validate=False)
    return course


def submit(course: Course, student: str, answers: dict[str, str]) -> Path:
    """File a submission made from the release notebook with some solution cells replaced."""
    nb = nbformat.read(str(course.release_notebook), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    folder = course.folder("submitted", student)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{course.notebook}.ipynb"
    nbformat.write(nb, str(path))
    return path


# -- the tiny assignment with a written answer, graded through nbgrader's API -----------------
WRITTEN = (
    "why",
    "markdown",
    {"grade": True, "solution": True, "points": 2},
    "The forest isolates the rare processes first.",
)
TINY_WRITTEN_CELLS = [*TINY_CELLS, WRITTEN]
"""Two 1-point tests and a 2-point answer graded by hand: 4 points in all."""


def graded_submission(
    course: Course,
    student: str,
    auto: dict[str, float],
    manual: float | None = None,
    penalty: float = 0.0,
    **person,
) -> None:
    """Put a graded submission of the tiny assignment into the gradebook with nbgrader's
    API, as autograde and formgrader leave it (no kernel runs).

    ``auto``: scores of the test cells by grade id (missing ones 0); ``manual``: the
    written answer's hand grade, None if not graded yet; ``penalty``: nbgrader's late
    penalty; ``person``: the student's fields (first_name, last_name, email, lms_user_id).
    """
    import warnings

    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes on nbgrader's API
        gb.update_or_create_student(student, **person)
        (notebook,) = gb.update_or_create_submission(course.assignment, student).notebooks
        for grade in notebook.grades:
            if grade.name == WRITTEN[0]:
                grade.manual_score, grade.needs_manual_grade = manual, manual is None
            else:
                grade.auto_score, grade.needs_manual_grade = auto.get(grade.name, 0.0), False
        notebook.late_submission_penalty = penalty
        gb.db.commit()
