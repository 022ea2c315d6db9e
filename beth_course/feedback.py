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
- marked where answers are still to be graded by hand (`mark_ungraded`): nbgrader's page
  shows such an answer as scoring 0 (``0.0 / 2.0``) with no word of warning, so here it
  is taken out of the scores, a note above it says it is not graded yet, and a note at the
  top says how many points are still to come. ``ungraded="hold"`` writes no page for a
  notebook with such answers instead;
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
from .late import refresh_penalties
from .pages import CSP_META, with_csp
from .wording import count

__all__ = [
    "HIDDEN_NOTE",
    "FeedbackReport",
    "PageHeld",
    "PageRefused",
    "generate",
    "html_text",
    "mark_ungraded",
    "scrub",
    "student_text",
    "ungraded_cells",
]
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
        _note(nb, 0, note)
    return nb


def _note(nb: nbformat.NotebookNode, index: int, text: str) -> None:
    """Insert a markdown note at ``index`` (without a cell id where the format has none)."""
    nb.cells.insert(index, new_markdown_cell(text))
    if nb.get("nbformat_minor", 0) < 5:
        nb.cells[index].pop("id", None)


def mark_ungraded(nb: nbformat.NotebookNode, pending: dict[str, float]) -> nbformat.NotebookNode:
    """Show the cells in ``pending`` (grade id -> points) as not graded yet, in place.

    Each is taken out of the page's scores (nbgrader's template shows it as 0 otherwise)
    and gets a note above it; a note at the top says how many points are still to come.
    """
    if not pending:
        return nb
    for index in reversed(range(len(nb.cells))):
        meta = nb.cells[index].metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id") in pending:
            meta["grade"] = False
            _note(
                nb,
                index,
                f"**Not graded yet** ({count(pending[meta['grade_id']], 'point')}): "
                "your instructor grades this answer by hand.",
            )
    _note(
        nb,
        0,
        "**Not everything is graded yet.** Answers your instructor grades by hand and "
        f"has not graded yet are worth {count(sum(pending.values()), 'point')}; the score "
        "above counts them as 0 until then.",
    )
    return nb


def ungraded_cells(course: Course, student: str, name: str) -> dict[str, float]:
    """The notebook's cells the gradebook says are still to grade by hand: id -> points."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url) as gb:
        try:
            notebook = gb.find_submission_notebook(name, course.assignment, student)
        except MissingEntry:
            return {}
        return {g.name: g.max_score for g in notebook.grades if g.needs_manual_grade}


def student_text(nb: nbformat.NotebookNode) -> str:
    """What the student wrote: the sources of the solution cells. (Not their outputs: what
    a cell prints is not the student's own text, and could be a test they exfiltrated.)"""
    return "\n".join(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))


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
        f'<!DOCTYPE html>\n<html lang="en"><head>{CSP_META}<meta charset="utf-8">'
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
    held: dict[str, str] = field(default_factory=dict)
    """student -> why no page was written (``ungraded="hold"``: answers still to grade)."""


class PageRefused(Exception):
    """A rendered page still shows solution or hidden-test text: it is not written."""


class PageHeld(Exception):
    """The notebook has answers still to grade by hand, and pages wait for them."""


UNGRADED_CHOICES = ("show", "hold")


def _converter(course: Course, student: str, root: Path):
    """nbgrader's GenerateFeedback for one student's notebook under the scratch ``root``."""
    from nbgrader.converters import GenerateFeedback
    from traitlets.config import Config

    config = course.config()
    config.merge(
        Config(
            {"CourseDirectory": {"root": str(root)}, "HTMLExporter": {"template_name": "feedback"}}
        )
    )
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


def _page(
    course: Course,
    student: str,
    name: str,
    secrets: dict[str, str],
    status: dict | None,
    ungraded: str = "show",
) -> str:
    """A student's checked feedback page; raises `PageRefused`, `HiddenTestsLeaked` or
    (``ungraded="hold"`` and answers still to grade) `PageHeld`."""
    pending = ungraded_cells(course, student, name)
    if pending and ungraded == "hold":
        raise PageHeld(
            f"{count(len(pending), 'answer')} ({count(sum(pending.values()), 'point')}) "
            f"of {name}.ipynb still to grade by hand"
        )
    nb = notebooks.read(course.folder("autograded", student) / f"{name}.ipynb")
    # A line the student wrote is theirs, even where it matches the solution.
    own = student_text(nb)
    relevant = {line: kind for line, kind in secrets.items() if line not in own}
    page = _render(course, student, name, make_inert(mark_ungraded(scrub(nb, status), pending)))
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


def generate(
    course: Course, students: list[str] | None = None, ungraded: str = "show"
) -> FeedbackReport:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for graded students, one
    page per notebook of the assignment.

    ``ungraded`` says what to do with answers still to grade by hand: ``"show"`` them as
    not graded yet (`mark_ungraded`), or ``"hold"`` the page back until they are graded.
    Raises `CourseError` for a student asked for who has no submission.
    """
    if ungraded not in UNGRADED_CHOICES:
        raise ValueError(f"ungraded must be one of {UNGRADED_CHOICES}; got {ungraded!r}")
    use_this_environment()
    secrets = _secrets(course)
    graded = course.students("autograded")
    status = statuses(course.gradebook_path, course.assignment)
    # Recorded, but nothing to render (not a notebook, or grading failed): a short page.
    ungradable = sorted(s for s in status if s not in graded)
    chosen = students or graded + ungradable
    _refuse_unknown(course, chosen, set(graded) | set(status))
    refresh_penalties(course)  # hand grades given since grading count (beth_course.late)
    report = FeedbackReport(missing=[s for s in chosen if s not in graded and s not in status])
    for student in [s for s in chosen if s in ungradable]:
        for name in course.notebooks:
            report.written.append(_ungradable_page(course, student, status[student], name))
    for student in [s for s in chosen if s in graded]:
        for name in course.notebooks:
            if (course.folder("autograded", student) / f"{name}.ipynb").exists():
                _write_page(course, student, name, secrets, status.get(student), report, ungraded)
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


def _write_page(
    course: Course,
    student: str,
    name: str,
    secrets,
    status,
    report: FeedbackReport,
    ungraded: str = "show",
) -> None:
    out = course.folder("feedback", student) / f"{name}.html"
    try:
        page = _page(course, student, name, secrets, status, ungraded)
    except (PageRefused, HiddenTestsLeaked, PageHeld) as why:
        kind = report.held if isinstance(why, PageHeld) else report.refused
        kind[student] = "; ".join(filter(None, [kind.get(student), str(why)]))
        # An older page (from nbgrader's button, say) must not go out in its place.
        out.unlink(missing_ok=True)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    report.written.append(out)
