"""The course directory: where things are, and the configuration nbgrader and we read."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT = "beth_workshop"

REPOSITORY = Path(__file__).resolve().parents[1]
"""The repository beth-course runs from. Its ``source/``, ``submitted/`` and ``autograded/``
are a worked example (``make demo``), never a class: ``beth-course init`` makes a course."""
FICTIONAL_STUDENTS = ("ada", "ben", "cleo")
"""The worked example's students; no other folder of the repository's ``submitted/`` is
ever read by the demo or the tests (a real class filed there would be someone's work)."""


def use_this_environment() -> None:
    """Put this interpreter's ``bin`` first on PATH.

    nbgrader runs ``alembic`` and Jupyter kernels by name; they must come from the same
    environment as beth-course, also when it was not activated (``.venv/bin/beth-course``).
    """
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


class CourseError(Exception):
    """Something about the course directory or its inputs that the instructor must fix."""


def _assignments(root: Path) -> list[str]:
    source = root / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def _only_assignment(root: Path) -> str:
    found = _assignments(root)
    if len(found) == 1:
        return found[0]
    if not found:
        return ASSIGNMENT  # nothing released yet: the course's own default
    raise CourseError(
        f"this course has {len(found)} assignments ({', '.join(found)}); name one with "
        "--assignment NAME"
    )


def worked_example() -> Course:
    """The repository's own course: the BETH workshop and its fictional students.

    Raises `CourseError` when beth-course was installed without the repository (a wheel).
    """
    notebook = REPOSITORY / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if not (notebook.is_file() and (REPOSITORY / "nbgrader_config.py").is_file()):
        raise CourseError(
            f"the BETH workshop is not beside this beth-course ({notebook} is missing): install "
            'beth-course from a clone of its repository (pip install -e ".[course]" there)'
        )
    return Course(REPOSITORY, ASSIGNMENT, ASSIGNMENT)


@dataclass(frozen=True)
class Course:
    """An nbgrader course directory laid out as nbgrader expects it.

    Parameters
    ----------
    root : Path
        The folder holding ``nbgrader_config.py`` and ``source/``.
    """

    root: Path
    assignment: str = ASSIGNMENT
    notebook: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        if not self.notebook:  # the assignment's only notebook, else one named after it
            found = sorted(p.stem for p in self.folder("source").glob("*.ipynb"))
            object.__setattr__(self, "notebook", found[0] if len(found) == 1 else self.assignment)

    @classmethod
    def find(cls, start: Path | str | None = None, assignment: str | None = None) -> Course:
        """The course at ``start`` or the nearest folder above it with ``nbgrader_config.py``.

        ``assignment`` may be left out when ``source/`` holds one assignment; with several,
        it must be named (the error lists them).
        """
        here = Path(start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "nbgrader_config.py").is_file() and (folder / "source").is_dir():
                return cls(folder, assignment or _only_assignment(folder))
        raise CourseError(
            f"{here} is not inside a course directory (a folder with nbgrader_config.py and "
            "source/). Run beth-course there, or pass --course PATH."
        )

    def assignments(self) -> list[str]:
        """The assignments in ``source/`` (folders holding at least one notebook)."""
        return _assignments(self.root)

    # Paths -------------------------------------------------------------------------------
    def folder(self, kind: str, student: str | None = None) -> Path:
        """``source/<a>``, ``release/<a>``, or ``<kind>/<student>/<a>`` for student folders."""
        if kind in ("source", "release"):
            return self.root / kind / self.assignment
        if student is None:
            return self.root / kind
        return self.root / kind / student / self.assignment

    @property
    def notebooks(self) -> list[str]:
        """The assignment's notebooks (names without ``.ipynb``), as in ``source/``."""
        found = sorted(p.stem for p in self.folder("source").glob("*.ipynb"))
        return found or [self.notebook]

    @property
    def source_notebook(self) -> Path:
        return self.folder("source") / f"{self.notebook}.ipynb"

    @property
    def release_notebook(self) -> Path:
        return self.folder("release") / f"{self.notebook}.ipynb"

    def submitted_notebook(self, student: str) -> Path:
        return self.folder("submitted", student) / f"{self.notebook}.ipynb"

    def autograded_notebook(self, student: str) -> Path:
        return self.folder("autograded", student) / f"{self.notebook}.ipynb"

    @property
    def gradebook_path(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.gradebook_path}"

    def students(self, kind: str = "submitted") -> list[str]:
        """Students with a notebook for this assignment under ``kind``, sorted."""
        base = self.root / kind
        if not base.is_dir():
            return []
        names = self.notebooks
        return sorted(
            p.name
            for p in base.iterdir()
            if any((p / self.assignment / f"{name}.ipynb").is_file() for name in names)
        )

    # Configuration -------------------------------------------------------------------------
    def config(self):
        """nbgrader's configuration for this course: ``nbgrader_config.py``, rooted here."""
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        loader = PyFileConfigLoader("nbgrader_config.py", path=str(self.root))
        config = loader.load_config()
        merged = Config()
        merged.merge(config)
        merged.CourseDirectory.root = str(self.root)
        return merged

    def coursedir(self, config=None):
        from nbgrader.coursedir import CourseDirectory

        config = config or self.config()
        return CourseDirectory(config=config, root=str(self.root))
