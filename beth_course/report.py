"""``beth-course report``: ``grades.csv`` and a self-contained HTML report for the instructor.

Students appear by id and, beside it, by name (``student_id`` and ``name`` in grades.csv;
names from ``beth_course.roster``): the id is what every other file keys on.

The report shows the score distribution, the pass rate of each test, and every submission
whose grading did not go normally (memory, timeout, a dead kernel, a malformed notebook, an
error), with the reason. Plots are drawn with matplotlib and embedded as PNG, so the page
is one file that can be mailed or archived. Every value is HTML-escaped, and the page carries
a Content-Security-Policy that forbids script (`beth_course.pages`): a failure reason can
quote what a submission printed.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import statistics
from dataclasses import dataclass
from pathlib import Path

from .course import Course, CourseError
from .grades import GradeRow, grade_table, late_cell, manual_text
from .late import Penalties, due_date, refresh_penalties
from .pages import CSP_META
from .wording import count


@dataclass
class ReportFiles:
    csv: Path
    html: Path
    students: int


def spreadsheet_safe(text: str) -> str:
    """``text`` for a CSV cell a spreadsheet will not run as a formula: a leading ``=``,
    ``+``, ``-`` or ``@`` gets a ``'`` before it (names come from LMS profiles, which
    students may edit).

    Examples
    --------
    >>> spreadsheet_safe("=HYPERLINK(1)"), spreadsheet_safe("Smith, Ann")
    ("'=HYPERLINK(1)", 'Smith, Ann')
    """
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(totals: list[float], maximum: float):
    """The score distribution: one bar per whole point, students counted in whole numbers."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    ax.hist(totals, bins=[x - 0.5 for x in range(int(maximum) + 2)], color="#4c72b0", rwidth=0.9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(
        f"score (of {maximum:g}; written answers count once graded by hand; "
        "late penalties taken off)"
    )
    ax.set_ylabel("students")
    ax.set_title("Score distribution")
    return fig


def _test_order(course: Course) -> list[tuple[str, float, str]]:
    """``(cell key, points, kind)`` of every graded cell, in notebook order."""
    from . import notebooks
    from .grades import cell_key

    out = []
    names = course.notebooks
    for name in names:
        for cell in notebooks.read(course.folder("source") / f"{name}.ipynb").cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                kind = "manual" if cell.cell_type == "markdown" or meta.get("solution") else "auto"
                key = cell_key(name, meta["grade_id"], len(names) > 1)
                out.append((key, float(meta.get("points", 0)), kind))
    return out


def _pass_rates(rows: list[GradeRow], tests: list[tuple[str, float, str]]):
    """``(autograded tests, share of submissions passing each, bar chart as PNG)``."""
    import matplotlib.pyplot as plt

    auto_tests = [t for t in tests if t[2] == "auto"]
    rates = []
    for grade_id, points, _ in auto_tests:
        got = [r["cells"].get(grade_id) for r in rows]
        rates.append(sum(1 for g in got if g is not None and g >= points) / len(rows))
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(auto_tests) + 0.8))
    ax.barh([t[0] for t in auto_tests][::-1], [100 * r for r in rates][::-1], color="#55a868")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of submissions passing")
    ax.set_title("Pass rate per test")
    png = _png(fig)
    plt.close(fig)
    return auto_tests, rates, png


def _write_csv(path: Path, rows: list[GradeRow], tests: list[tuple[str, float, str]]) -> None:
    """grades.csv: one row per student; times in UTC (ISO 8601), empty where unknown."""
    fields = [
        "student_id",
        "name",
        "auto_score",
        "auto_max",
        "manual_score",
        "manual_max",
        "total",
        "total_max",
        "needs_manual_grading",
        "late_penalty",
        "submitted_at",
        "due_at",
        "hours_late",
        "score_after_penalty",
        "status",
        "reason",
        "grading_seconds",
    ] + [t[0] for t in tests]
    when = lambda at: at.isoformat(sep=" ") + "Z" if at else ""  # noqa: E731
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(fields)
        for r in rows:
            total = r["auto_score"] + r["manual_score"]
            writer.writerow(
                [
                    r["student"],
                    spreadsheet_safe(r["name"]),
                    r["auto_score"],
                    r["auto_max"],
                    r["manual_score"],
                    r["manual_max"],
                    total,
                    r["auto_max"] + r["manual_max"],
                    r["needs_manual"],
                    r["late_penalty"],
                    when(r["submitted_at"]),
                    when(r["due_at"]),
                    round(r["seconds_late"] / 3600, 2),
                    max(0.0, total - r["late_penalty"]),
                    r["status"],
                    r["reason"],
                    r["seconds"] if r["seconds"] is not None else "",
                ]
                + [r["cells"].get(t[0]) for t in tests]
            )


def _lateness_summary(course: Course, rows: list[GradeRow]) -> str:
    """One sentence: the due date, how many were late, and the penalty policy."""
    due = due_date(course)
    if due is None:
        return "No due date is set (beth-course due), so no submission counts as late."
    late = sum(1 for r in rows if r["seconds_late"] > 0)
    return (
        f"Due {due:%Y-%m-%d %H:%M} UTC; {count(late, 'submission')} late; late penalty: "
        f"{Penalties(course.config()).describe()}. The score distribution and median are after "
        "penalties."
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head>{csp}<meta charset="utf-8">
<title>{title}: grading report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td, th {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
th {{ background: #f3f3f3; }}
</style></head><body>
<h1>{title}: grading report</h1>
<p>{summary}</p>
<p>{lateness}</p>
<h2>Score distribution</h2>
<img alt="Histogram of total scores" src="data:image/png;base64,{score_png}">
<h2>Pass rate per test</h2>
<img alt="Bar chart of the share of submissions passing each test" src="data:image/png;base64,{rate_png}">
<table><tr><th>test</th><th>points</th><th>passing</th></tr>{rate_rows}</table>
<h2>Submissions that errored or timed out</h2>
<table><tr><th>id</th><th>name</th><th>status</th><th>why</th></tr>{problem_rows}</table>
<h2>All students</h2>
<table><tr><th>id</th><th>name</th><th>autograded</th><th>written answer</th><th>late (penalty)</th><th>status</th></tr>{student_rows}</table>
</body></html>
"""


def _table_rows(rows: list[GradeRow], auto_tests: list, rates: list[float]) -> dict[str, str]:
    """The report's three tables, as HTML rows; every value from the gradebook escaped."""
    esc = html.escape
    problem_rows = "".join(
        f"<tr><td>{esc(r['student'])}</td><td>{esc(r['name'])}</td><td>{esc(r['status'])}</td>"
        f"<td>{esc(r['reason'])}</td></tr>"
        for r in rows
        if r["status"] != "ok"
    )
    rate_rows = "".join(
        f"<tr><td>{esc(t[0])}</td><td>{t[1]:g}</td><td>{100 * rate:.0f}%</td></tr>"
        for t, rate in zip(auto_tests, rates, strict=False)
    )
    student_rows = "".join(
        f"<tr><td>{esc(r['student'])}</td><td>{esc(r['name'])}</td>"
        f"<td>{r['auto_score']:g}/{r['auto_max']:g}</td>"
        f"<td>{manual_text(r)}</td><td>{esc(late_cell(r))}</td><td>{esc(r['status'])}</td></tr>"
        for r in rows
    )
    return {
        "problem_rows": problem_rows
        or '<tr><td colspan="4">none: every submission ran normally</td></tr>',
        "rate_rows": rate_rows,
        "student_rows": student_rows,
    }


def write_report(course: Course, output_dir: Path | None = None) -> ReportFiles:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    refresh_penalties(course)  # hand grades given since grading count (beth_course.late)
    rows = grade_table(course)
    if not rows:
        raise CourseError("nothing has been graded yet: run beth-course autograde first")
    tests = _test_order(course)
    output_dir = Path(output_dir or course.root)
    output_dir.mkdir(parents=True, exist_ok=True)

    csv_path = output_dir / "grades.csv"
    _write_csv(csv_path, rows, tests)

    totals = [r["auto_score"] + r["manual_score"] - r["late_penalty"] for r in rows]
    maximum = rows[0]["auto_max"] + rows[0]["manual_max"]
    fig = score_histogram(totals, maximum)
    score_png = _png(fig)
    plt.close(fig)

    auto_tests, rates, rate_png = _pass_rates(rows, tests)
    problems = sum(1 for r in rows if r["status"] != "ok")
    summary = (
        f"{count(len(rows), 'submission')} graded; median score "
        f"{statistics.median(totals):g} of {maximum:g}; "
        f"{count(sum(r['needs_manual'] for r in rows), 'submission')} with answers still to "
        f"grade by hand; {count(problems, 'submission')} did not run normally."
    )
    page = _PAGE.format(
        csp=CSP_META,
        title=html.escape(course.assignment),
        summary=summary,
        lateness=html.escape(_lateness_summary(course, rows)),
        score_png=score_png,
        rate_png=rate_png,
        **_table_rows(rows, auto_tests, rates),
    )
    html_path = output_dir / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return ReportFiles(csv=csv_path, html=html_path, students=len(rows))
