"""``beth-course feedback``: per-student HTML feedback with the hidden tests removed.

nbgrader's ``generate_feedback`` renders the autograded notebook as it is, and the
autograded notebook holds the hidden tests, which the grader restored to run them
(jupyter/nbgrader#917, #1363). Here each autograded notebook is scrubbed first:

- in every test cell, the lines between the hidden-test markers are replaced by one
  comment line;
- an error in a test cell is shown as its name and message only (``AssertionError: X
  should be standardised``), because IPython's traceback quotes the failing source lines;
- a note on how grading went is added at the top when it did not go normally (a timeout,
  the memory limit, a repaired notebook).

nbgrader then renders the scrubbed copy with its feedback template (scores per cell from
the gradebook), and the HTML is checked for every solution and hidden-test line of the
source notebook before it is written. A file that fails the check is not written.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import nbformat.v4
from nbformat.v4 import new_markdown_cell

from . import notebooks
from .course import Course, CourseError, use_this_environment
from .grading.gradebook import statuses

HIDDEN_NOTE = "# (hidden tests: not shown)"
_TAG = re.compile(r"<[^>]+>")


def scrub(nb: nbformat.NotebookNode, status: dict | None = None) -> nbformat.NotebookNode:
    """Remove hidden tests (source and tracebacks) from an autograded notebook, in place."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        lines, hidden = [], False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == notebooks.HIDDEN_BEGIN:
                hidden = True
                lines.append(line[: len(line) - len(line.lstrip())] + HIDDEN_NOTE)
            elif stripped == notebooks.HIDDEN_END:
                hidden = False
            elif not hidden:
                lines.append(line)
        cell.source = "\n".join(lines)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
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


def _ungradable_page(course: Course, student: str, info: dict) -> Path:
    """Feedback for a submission that could not be run at all: what happened, and 0."""
    target = course.folder("feedback", student)
    target.mkdir(parents=True, exist_ok=True)
    out = target / f"{course.notebook}.html"
    esc = html.escape
    out.write_text(
        f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(course.assignment)}: {esc(student)}</title></head><body>\n"
        f"<h1>{esc(course.assignment)}: feedback for {esc(student)}</h1>\n"
        f"<p>Your submission could not be graded ({esc(info['status'].replace('_', ' '))}): "
        f"{esc(info['reason'])}</p>\n<p>It scores 0. Check that you handed in the notebook "
        f"file itself ({esc(course.notebook)}.ipynb, downloaded from Jupyter or Colab), and "
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


def generate(course: Course, students: list[str] | None = None) -> FeedbackReport:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for graded students."""
    from nbgrader.converters import GenerateFeedback
    from traitlets.config import Config

    use_this_environment()
    if not course.source_notebook.exists():
        raise CourseError("no source notebook: nothing to check feedback against")
    secrets = notebooks.secret_lines(notebooks.read(course.source_notebook))
    graded = course.students("autograded")
    status = statuses(course.gradebook_path, course.assignment)
    # Recorded, but nothing to render (not a notebook, or grading failed): a short page.
    ungradable = sorted(s for s in status if s not in graded)
    chosen = students or graded + ungradable
    report = FeedbackReport(missing=[s for s in chosen if s not in graded and s not in status])
    for student in [s for s in chosen if s in ungradable]:
        report.written.append(_ungradable_page(course, student, status[student]))
    for student in [s for s in chosen if s in graded]:
        with tempfile.TemporaryDirectory(prefix="beth-feedback-") as tmp:
            root = Path(tmp)
            folder = root / "autograded" / student / course.assignment
            folder.mkdir(parents=True)
            nb = notebooks.read(course.autograded_notebook(student))
            # A line the student wrote is theirs, even where it matches the solution.
            own = student_text(nb)
            relevant = {line: kind for line, kind in secrets.items() if line not in own}
            notebooks.write(scrub(nb, status.get(student)), folder / f"{course.notebook}.ipynb")
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
            quiet = _QuietAltText()
            logging.getLogger("traitlets").addFilter(quiet)
            try:
                converter.start()
            finally:
                logging.getLogger("traitlets").removeFilter(quiet)
            page_path = root / "feedback" / student / course.assignment / f"{course.notebook}.html"
            page = page_path.read_text(encoding="utf-8")
            leaks = notebooks.find_leaks(html_text(page), relevant)
            if leaks:
                kind, line = leaks[0]
                report.refused[student] = f"{len(leaks)} {kind} lines, e.g. {line[:80]!r}"
                continue
            target = course.folder("feedback", student)
            target.mkdir(parents=True, exist_ok=True)
            out = target / f"{course.notebook}.html"
            shutil.copyfile(page_path, out)
            report.written.append(out)
    return report
