"""The one gradebook: private copies for workers, and a single writer that merges results.

SQLite does not take concurrent writers well (and not at all over a network file system),
so no grading worker ever opens the course's ``gradebook.db``. Each works on a private
copy of a *template*: the gradebook with the assignment and its cells but no students or
submissions. Its results come back as plain data, and the coordinating process alone
writes them into ``gradebook.db``, one student per transaction, through nbgrader's own API
(so manual scores already given are kept, as ``nbgrader autograde`` keeps them, and so is
their graded state when the submission is unchanged: `needs_hand_grading`).

Beside nbgrader's tables the gradebook gets one of ours, ``beth_grading_status``: per
student, how the last grading went (ok, memory, timeout, kernel_died, malformed, error),
why, how long it took, and a hash of the submission it graded, so re-runs skip what is
already graded.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
import warnings
from pathlib import Path

from sqlalchemy import text

STATUS_TABLE = "beth_grading_status"
_STATUS_SQL = f"""
CREATE TABLE IF NOT EXISTS {STATUS_TABLE} (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    seconds REAL,
    submission_sha256 TEXT,
    host TEXT,
    graded_at TEXT NOT NULL,
    PRIMARY KEY (student, assignment)
)
"""
# Tables that hold students and their work; emptied in the template.
_STUDENT_TABLES = ("comment", "grade", "submitted_notebook", "submitted_assignment", "student")


def template_bytes(db_path: Path) -> bytes:
    """A copy of the gradebook without students or submissions, as bytes."""
    with tempfile.TemporaryDirectory(prefix="beth-template-") as tmp:
        copy = Path(tmp) / "gradebook.db"
        source = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
            for table in _STUDENT_TABLES:
                target.execute(f"DELETE FROM {table}")
            target.execute(f"DROP TABLE IF EXISTS {STATUS_TABLE}")
            target.commit()
            target.execute("VACUUM")
        finally:
            source.close()
            target.close()
        return copy.read_bytes()


def read_results(db_url: str, assignment: str, student: str) -> dict:
    """Grades and comments of one submission in a (private) gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        submission = gb.find_submission(assignment, student)
        out: dict = {"grades": [], "comments": []}
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                out["grades"].append(
                    {
                        "notebook": notebook.name,
                        "cell": grade.name,
                        "auto_score": grade.auto_score,
                        "max_score": grade.max_score,
                    }
                )
            for comment in notebook.comments:
                out["comments"].append(
                    {
                        "notebook": notebook.name,
                        "cell": comment.name,
                        "auto_comment": comment.auto_comment,
                    }
                )
        return out


def merge(db_url: str, assignment: str, student: str, result, penalties=None) -> None:
    """Write one student's grading result into the course gradebook, in one transaction.

    A result without grades (a malformed notebook, a grading error) scores 0 on every
    autograded cell, as nbgrader does for a missing notebook. ``result.timestamp`` (the
    submission time, ISO) is stored when given; ``penalties`` (a `beth_course.late.Penalties`)
    then works out the late penalties from the merged scores, hand grades included.
    """
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with Gradebook(db_url) as gb, warnings.catch_warnings():
        # nbgrader's own API trips SQLAlchemy's autoflush warnings when it creates a
        # submission; they are about its session handling, not about our data.
        warnings.simplefilter("ignore", SAWarning)
        try:
            gb.db.execute(text(_STATUS_SQL))
            same = _graded_sha(gb, assignment, student) == result.submission_sha256
            gb.update_or_create_student(student)
            kwargs = {"timestamp": result.timestamp} if result.timestamp else {}
            submission = gb.update_or_create_submission(assignment, student, **kwargs)
            _merge_scores(submission, result, same)
            if penalties is not None:
                gb.db.flush()
                gb.db.expire_all()  # notebook scores are SQL sums: read them afresh
                penalties.apply(submission)
            _record_status(gb, assignment, student, result)
            gb.db.commit()
        except BaseException:
            gb.db.rollback()
            raise


def _merge_scores(submission, result, same: bool) -> None:
    """Copy automatic scores and comments into ``submission``; hand grades stay."""
    scores = {(g["notebook"], g["cell"]): g["auto_score"] for g in result.grades}
    comments = {(c["notebook"], c["cell"]): c["auto_comment"] for c in result.comments}
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            key = (notebook.name, grade.name)
            if key in scores:
                grade.auto_score = scores[key]
            elif not result.grades:
                grade.auto_score = 0.0
            grade.needs_manual_grade = needs_hand_grading(grade, same)
        for comment in notebook.comments:
            key = (notebook.name, comment.name)
            if key in comments:
                comment.auto_comment = comments[key]


def _record_status(gb, assignment: str, student: str, result) -> None:
    """How this grading went, in our status table (replacing the last grading's row)."""
    gb.db.execute(
        text(
            f"INSERT OR REPLACE INTO {STATUS_TABLE} VALUES "
            "(:student, :assignment, :status, :reason, :seconds, :sha, :host, :at)"
        ),
        {
            "student": student,
            "assignment": assignment,
            "status": result.status,
            "reason": result.reason,
            "seconds": round(result.seconds, 2),
            "sha": result.submission_sha256,
            "host": result.host,
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        },
    )


def needs_hand_grading(grade, same_submission: bool) -> bool:
    """Whether a grade is (still) to be graded by hand after the submission was autograded.

    nbgrader's rule (``SaveAutoGrades``) flags every hand grade for review at each
    autograde, so ``autograde --force`` turned graded answers back into "to grade". Here a
    hand grade given to this very submission (same files, by hash) keeps its state; one
    given to an earlier submission is flagged, as nbgrader does, since the work changed.
    Without a hand grade, an answer is to grade when the autograder gave it no score.
    """
    if grade.manual_score is not None:
        return bool(grade.needs_manual_grade) if same_submission else True
    return grade.auto_score is None


def _graded_sha(gb, assignment: str, student: str) -> str | None:
    """The hash of the submission last graded for ``student`` (None if never graded)."""
    row = gb.db.execute(
        text(
            f"SELECT submission_sha256 FROM {STATUS_TABLE} "
            "WHERE student = :student AND assignment = :assignment"
        ),
        {"student": student, "assignment": assignment},
    ).fetchone()
    return row[0] if row else None


def statuses(db_path: Path, assignment: str) -> dict[str, dict]:
    """``{student: row}`` of the status table (empty if nothing was graded yet)."""
    if not db_path.exists():
        return {}
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute(
            f"SELECT * FROM {STATUS_TABLE} WHERE assignment = ?", (assignment,)
        ).fetchall()
    except sqlite3.OperationalError:  # table not created yet
        return {}
    finally:
        con.close()
    return {row["student"]: dict(row) for row in rows}
