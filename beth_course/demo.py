"""``beth-course demo``: the whole cycle on the fictional students, in a scratch copy.

Copies the course's inputs (``nbgrader_config.py``, ``source/``, ``submitted/``) into a
scratch folder, then releases, autogrades, writes feedback and the grade report there,
and prints the grades. The committed ``release/`` and ``autograded/`` trees are not
touched (``make goldens`` regenerates those, on purpose).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .course import Course, CourseError

MARKER = ".beth-course-demo"


def prepare(course: Course, into: Path) -> Course:
    """A fresh copy of the course inputs at ``into``; refuses to replace anything else."""
    into = into.resolve()
    if into.exists():
        if not (into / MARKER).exists():
            raise CourseError(
                f"{into} exists and is not a demo folder made by beth-course; choose another "
                "--into, or remove it yourself"
            )
        shutil.rmtree(into)
    into.mkdir(parents=True)
    (into / MARKER).write_text("made by beth-course demo; safe to delete\n")
    shutil.copy2(course.root / "nbgrader_config.py", into / "nbgrader_config.py")
    for folder in ("source", "submitted"):
        shutil.copytree(course.root / folder, into / folder)
    return Course(into, course.assignment, course.notebook)


def run(course: Course, into: Path, workers: int | None, out=None) -> Course:
    from .feedback import generate
    from .grading.runner import autograde
    from .grading.bwrap import bwrap_status
    from .release import release
    from .report import write_report

    out = out or sys.stdout
    demo = prepare(course, into)
    say = lambda text: print(text, file=out, flush=True)  # noqa: E731
    say(f"demo course in {demo.root}")
    say("1/4 release: generating the student version and checking it (runs the notebook twice) ...")
    for line in release(demo).lines(demo):
        say("    " + line)
    sandboxed, why = bwrap_status()
    if not sandboxed:
        say(
            f"    NOTE: no sandbox here ({why}); the demo grades its fictional students "
            "without it, since their code is ours. A real class needs it (see README)."
        )
    students = demo.students("submitted")
    say(f"2/4 autograde: {len(students)} fictional students ({', '.join(students)}) ...")
    summary = autograde(demo, workers=workers, sandbox=sandboxed, progress=True, out=out)
    say(f"    graded {len(summary.results)} in {summary.seconds:.0f} s on {summary.workers}")
    say("3/4 feedback: per-student HTML, hidden tests removed ...")
    feedback = generate(demo)
    say("4/4 report: grades.csv and report.html ...")
    report = write_report(demo)
    return demo, feedback, report
