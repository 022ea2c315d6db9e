"""Plain helpers for the course tests (fixtures live in the repository's conftest.py)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from beth_course.course import Course

REPO = Path(__file__).resolve().parents[1]
COURSE_INPUTS = ("nbgrader_config.py", "source", "submitted")


def copy_course(dest: Path, extra: tuple[str, ...] = ()) -> Course:
    """Copy the course's inputs (and ``extra`` folders such as ``release``) to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COURSE_INPUTS + extra:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    return Course(dest)


def fictional_students():
    """The module that builds the fictional students' submissions (scripts/...)."""
    path = REPO / "scripts" / "make_fictional_submissions.py"
    spec = importlib.util.spec_from_file_location("make_fictional_submissions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
