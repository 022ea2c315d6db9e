"""``beth-course feedback``: per-student HTML feedback, hidden tests removed, nothing active.

nbgrader's ``generate_feedback`` renders the autograded notebook as it is, and the
autograded notebook holds the hidden tests, which the grader restored to run them
(jupyter/nbgrader#917, #1363), and whatever the student's code displayed or their answer
holds, script included (issue 9). Here each autograded notebook is first:

- scrubbed (`beth_course.hidden_tests`): in every test cell the lines between the
  hidden-test markers are replaced by one comment line, an error in a test cell is shown as
  its name and message only (IPython's traceback quotes the failing source lines), and a
  notebook in which hidden-test text survives elsewhere is refused;
- given a note on how grading went, at the top, when it did not go normally (a timeout,
  the memory limit, a repaired notebook);
- made inert (`beth_course.inert`): no output, answer or metadata can run script.

nbgrader then renders the scrubbed copy with its feedback template (scores per cell from
the gradebook), the page gets a Content-Security-Policy that forbids script
(`beth_course.pages`), and the HTML is checked for every solution and hidden-test line of
the source notebook before it is written. A page that fails the check is not written.
The course's ``nbgrader_config.py`` runs the same scrubbing and inert steps for nbgrader's
own ``generate_feedback``.
"""

from __future__ import annotations

import html
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import nbformat.v4
from nbformat.v4 import new_markdown_cell

from . import notebooks
from .course import Course, CourseError, use_this_environment
from .grading.gradebook import statuses
from .hidden_tests import HIDDEN_NOTE, HiddenTestsLeaked, hide_hidden_tests
from .inert import make_inert
from .pages import CSP_META, with_csp

__all__ = ["HIDDEN_NOTE", "FeedbackReport", "PageRefused", "generate", "html_text", "scrub",
           "student_text"]
_TAG = re.compile(r"<[^>]+>")


def scrub(nb: nbformat.NotebookNode, status: dict | None = None) -> nbformat.NotebookNode:
    """Remove hidden tests (`hide_hidden_tests`) and say how grading went, in place.

    Raises `HiddenTestsLeaked` when hidden-test text survives elsewhere in the notebook.
    """
    hide_hidden_tests(nb)
    if status and status.get("status", "ok") != "ok":
        note = (
            f"**How grading went: {status['status'].replace('_', ' ')}.** "
            f"{status.get('reason', '')}"
        )
        nb.cells.insert(0, new_markdown_cell(note))
        if nb.get("nbformat_minor", 0) < 5:
            nb.cells[0].pop("id", None)
    return nb


def student_text(nb: nbformat.NotebookNode) -> str:
    """What the student wrote: the sources of the solution cells and their outputs."""
    parts = []
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            single = nbformat.v4.new_notebook(cells=[cell])
            parts.append(notebooks.notebook_text(single))
    return "\n".join(parts)


class _QuietAltText(logging.Filter):
    def filter(self, record):
        return "Alternative text is missing" not in record.getMessage()


def _ungradable_page(course: Course, student: str, info: dict, name: str) -> Path:
    """Feedback for a submission that could not be run at all: what happened, and 0."""
    target = course.folder("feedback", student)
    target.mkdir(parents=True, exist_ok=True)
    out = target / f"{name}.html"
    esc = html.escape
    out.write_text(
        f"<!DOCTYPE html>\n<html lang=\"en\"><head>{CSP_META}<meta charset=\"utf-8\">"
        f"<title>{esc(course.assignment)}: {esc(student)}</title></head><body>\n"
        f"<h1>{esc(course.assignment)}: feedback for {esc(student)}</h1>\n"
        f"<p>Your submission could not be graded ({esc(info['status'].replace('_', ' '))}): "
        f"{esc(info['reason'])}</p>\n<p>It scores 0. Check that you handed in the notebook "
        f"file itself ({esc(name)}.ipynb, downloaded from Jupyter or Colab), and "
        "ask your instructor about handing it in again.</p>\n</body></html>\n",
        encoding="utf-8",
    )
    return out


def html_text(page: str) -> str:
    """What a reader sees of an HTML page: tags removed, entities decoded."""
    return html.unescape(_TAG.sub("", page))


@dataclass
class FeedbackReport:
    written: list[Path] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


class PageRefused(Exception):
    """A rendered page still shows solution or hidden-test text: it is not written."""


def _converter(course: Course, student: str, root: Path):
    """nbgrader's GenerateFeedback for one student's notebook under the scratch ``root``."""
    from nbgrader.converters import GenerateFeedback
    from traitlets.config import Config

    config = course.config()
    config.merge(Config({"CourseDirectory": {"root": str(root)},
                         "HTMLExporter": {"template_name": "feedback"}}))
    coursedir = course.coursedir(config)
    coursedir.root = str(root)
    coursedir.db_url = course.db_url
    coursedir.assignment_id = course.assignment
    coursedir.student_id = student
    converter = GenerateFeedback(coursedir=coursedir, config=config)
    converter.force = True
    return converter


def _render(course: Course, student: str, name: str, nb: nbformat.NotebookNode) -> str:
    """nbgrader's feedback page for ``nb``, rendered in a scratch folder, with our CSP."""
    with tempfile.TemporaryDirectory(prefix="beth-feedback-") as tmp:
        root = Path(tmp)
        folder = root / "autograded" / student / course.assignment
        folder.mkdir(parents=True)
        notebooks.write(nb, folder / f"{name}.ipynb")
        converter = _converter(course, student, root)
        quiet = _QuietAltText()
        logging.getLogger("traitlets").addFilter(quiet)
        try:
            converter.start()
        finally:
            logging.getLogger("traitlets").removeFilter(quiet)
        page_path = root / "feedback" / student / course.assignment / f"{name}.html"
        return with_csp(page_path.read_text(encoding="utf-8"))


def _page(course: Course, student: str, name: str, secrets: dict[str, str], status: dict | None) -> str:
    """A student's checked feedback page; raises `PageRefused` or `HiddenTestsLeaked`."""
    nb = notebooks.read(course.folder("autograded", student) / f"{name}.ipynb")
    # A line the student wrote is theirs, even where it matches the solution.
    own = student_text(nb)
    relevant = {line: kind for line, kind in secrets.items() if line not in own}
    page = _render(course, student, name, make_inert(scrub(nb, status)))
    leaks = notebooks.find_leaks(html_text(page), relevant)
    if leaks:
        kind, line = leaks[0]
        raise PageRefused(f"{len(leaks)} {kind} lines, e.g. {line[:80]!r}")
    return page


def _secrets(course: Course) -> dict[str, str]:
    sources = [course.folder("source") / f"{name}.ipynb" for name in course.notebooks]
    if not all(path.exists() for path in sources):
        raise CourseError("no source notebook: nothing to check feedback against")
    secrets: dict[str, str] = {}
    for path in sources:
        secrets.update(notebooks.secret_lines(notebooks.read(path)))
    return secrets


def generate(course: Course, students: list[str] | None = None) -> FeedbackReport:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for graded students, one
    page per notebook of the assignment."""
    use_this_environment()
    secrets = _secrets(course)
    graded = course.students("autograded")
    status = statuses(course.gradebook_path, course.assignment)
    # Recorded, but nothing to render (not a notebook, or grading failed): a short page.
    ungradable = sorted(s for s in status if s not in graded)
    chosen = students or graded + ungradable
    _refuse_unknown(course, chosen, set(graded) | set(status))
    report = FeedbackReport(missing=[s for s in chosen if s not in graded and s not in status])
    for student in [s for s in chosen if s in ungradable]:
        for name in course.notebooks:
            report.written.append(_ungradable_page(course, student, status[student], name))
    for student in [s for s in chosen if s in graded]:
        for name in course.notebooks:
            if (course.folder("autograded", student) / f"{name}.ipynb").exists():
                _write_page(course, student, name, secrets, status.get(student), report)
    return report


def _refuse_unknown(course: Course, chosen: list[str], known: set[str]) -> None:
    """CourseError naming the students asked for who have no submission at all."""
    known |= set(course.students("submitted"))
    unknown = [s for s in chosen if s not in known]
    if unknown:
        some = ", ".join(sorted(known)[:10]) + (", ..." if len(known) > 10 else "")
        raise CourseError(
            f"no submission of {course.assignment} from {', '.join(unknown)}: check the id "
            f"as in submitted/<student>/ (students with one: {some or 'none'})"
        )


def _write_page(course: Course, student: str, name: str, secrets, status, report: FeedbackReport) -> None:
    out = course.folder("feedback", student) / f"{name}.html"
    try:
        page = _page(course, student, name, secrets, status)
    except (PageRefused, HiddenTestsLeaked) as why:
        report.refused[student] = str(why)
        # An older page (from nbgrader's button, say) must not go out in its place.
        out.unlink(missing_ok=True)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    report.written.append(out)
