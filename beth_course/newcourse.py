"""``beth-course init DIR``: a new, empty course folder for a real class.

The repository is a worked example (its ``submitted/`` holds the fictional ada, ben and
cleo), not a place for a class: a class graded there mixes with the examples, rewrites the
committed ``autograded/`` notebooks, and leaves real students' work one ``git add .`` from
being committed. :func:`init_course` makes a folder laid out as nbgrader's quickstart makes
one, anywhere:

- ``nbgrader_config.py``: the repository's, every key commented;
- ``source/beth_workshop/beth_workshop.ipynb``: the workshop's instructor notebook;
- ``.gitignore``: students' work, grades, feedback and nbgrader's runtime state stay out of
  git (:data:`GITIGNORE`);
- no ``submitted/``: no students until ``beth-course collect`` files them.

``data.csv`` is written only when asked (``shipped_rows``): a class usually builds its own
from the Kaggle files (``beth-course data --kaggle``), which then needs no ``--force``, and
``beth-course release`` writes the 6,791 shipped rows itself when the folder has none.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .course import ASSIGNMENT, Course, CourseError, worked_example

GITIGNORE = """\
# Students' work and everything made from it: personal data, never committed.
/submitted/
/autograded/
/feedback/
/grades.csv
/report.html
# nbgrader's runtime state.
gradebook.db
gradebook.db-journal
.nbgrader.log
.ipynb_checkpoints/
__pycache__/
"""
"""The new course's ``.gitignore``: what a class produces stays out of git; ``source/``,
``release/`` and ``nbgrader_config.py`` are the course's and may be committed."""


@dataclass
class InitReport:
    """What :func:`init_course` wrote (paths relative to the course folder)."""

    course: Course
    files: list[str] = field(default_factory=list)


def init_course(target: Path, shipped_rows: bool = False) -> InitReport:
    """Make a new course folder at ``target`` (module docstring).

    Parameters
    ----------
    target : Path
        A folder that does not exist yet, or an empty one. Parents are created.
    shipped_rows : bool
        Also write ``source/beth_workshop/data.csv`` with the 6,791 real BETH rows shipped
        with ``beth_helpers`` (default: no ``data.csv``; see the module docstring).

    Raises
    ------
    CourseError
        ``target`` is a file or a folder that is not empty (nothing is written then), or
        the workshop is not beside this beth-course.
    """
    target = Path(target).expanduser().absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "a folder that is not empty" if target.is_dir() else "a file"
        raise CourseError(
            f"{target} is {what}; give a new folder for the course (beth-course init "
            "~/courses/beth-2026), or empty this one first"
        )
    example = worked_example()
    source = target / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copyfile(example.root / "nbgrader_config.py", target / "nbgrader_config.py")
    shutil.copyfile(example.source_notebook, source / f"{ASSIGNMENT}.ipynb")
    (target / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    if shipped_rows:
        from beth_helpers import write_classroom_csv

        write_classroom_csv(source / "data.csv")
    course = Course(target, ASSIGNMENT, ASSIGNMENT)
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    return InitReport(course=course, files=files)
