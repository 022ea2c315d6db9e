"""``beth-course demo``: the whole cycle on the fictional students, in a scratch copy.

Copies the repository's worked example (``nbgrader_config.py``, ``source/`` and the
fictional students' folders of ``submitted/``, nothing else) into a scratch folder, then
releases, autogrades, writes feedback and the grade report there, and prints the grades.
The committed ``release/`` and ``autograded/`` trees are not touched (``make goldens``
regenerates those, on purpose), and no other student's folder is read: a class filed into
the repository by mistake stays out of the demo.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .course import FICTIONAL_STUDENTS, Course, CourseError
from .feedback import FeedbackReport
from .report import ReportFiles

MARKER = ".beth-course-demo"


def prepare(course: Course, into: Path, students: tuple[str, ...] = FICTIONAL_STUDENTS) -> Course:
    """A fresh copy of the course inputs at ``into``, with only ``students``' submissions;
    refuses to replace anything but an earlier demo folder."""
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
    shutil.copytree(course.root / "source", into / "source")
    for student in students:
        target = into / "submitted" / student / course.assignment
        shutil.copytree(course.folder("submitted", student), target)
    return Course(into, course.assignment, course.notebook)


def run(
    course: Course, into: Path, workers: int | None, out=None
) -> tuple[Course, FeedbackReport, ReportFiles]:
    from .feedback import generate
    from .grading.bwrap import bwrap_status
    from .grading.runner import autograde
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
