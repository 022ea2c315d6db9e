"""``beth-course``: the instructor's command line for the BETH workshop course."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path

from .course import Course, CourseError, use_this_environment
from .wording import count


def _course(args) -> Course:
    return Course.find(args.course, args.assignment)


def cmd_init(args) -> int:
    from .newcourse import init_course

    report = init_course(args.dir, shipped_rows=args.shipped_rows)
    root = report.course.root
    print(f"made a new course in {root}:")
    for name in report.files:
        print(f"  {name}")
    steps = [f"cd {root}", "beth-course release"]
    if not args.shipped_rows:
        steps.insert(
            1,
            "beth-course data --kaggle path/to/beth-dataset   (optional: real rows "
            "from Kaggle; release uses the 6,791 shipped rows otherwise)",
        )
    print("next, run beth-course from that folder:\n  " + "\n  ".join(steps))
    return 0


def cmd_release(args) -> int:
    from .release import release

    course = _course(args)
    print(
        f"releasing {course.assignment} from source/{course.assignment}/ "
        f"({', '.join(n + '.ipynb' for n in course.notebooks)}) ..."
    )
    report = release(course, validate=not args.no_validate)
    for line in report.lines(course):
        print("  " + line)
    return 0


def cmd_due(args) -> int:
    from datetime import timezone

    from .collect import BethCollect
    from .collect.dates import zone
    from .late import DUE_EXAMPLE, Penalties, due_date, parse_due, set_due

    course = _course(args)
    if args.clear and args.date:
        raise CourseError("give a due date or --clear, not both")
    where = zone(BethCollect(config=course.config()).timezone)
    if args.date or args.clear:
        when = None if args.clear else parse_due(args.date, where)
        late = set_due(course, when)
    else:
        when, late = due_date(course), None
    if when is None:
        print(
            f"{course.assignment} has no due date: no submission counts as late. Set one with "
            f"beth-course due {DUE_EXAMPLE}"
        )
        return 0
    if late is None:  # shown, not set: in the course's zone
        when = when.astimezone(where) if where is not None else when.astimezone()
    utc = when.astimezone(timezone.utc)
    also = f" ({utc:%Y-%m-%d %H:%M} UTC)" if when.utcoffset() or when.tzname() != "UTC" else ""
    print(f"{course.assignment} is due {when:%Y-%m-%d %H:%M %Z}{also}")
    print(f"late penalty (nbgrader_config.py): {Penalties(course.config()).describe()}")
    if late is not None:
        print(f"late by this date: {count(late, 'submission')}")
    return 0


def _print_grades(course: Course, students: list[str] | None = None) -> None:
    from .grades import grade_table, summary_lines

    rows = grade_table(course, students)
    if not rows:
        print("  (no graded submissions yet)")
        return
    for line in summary_lines(rows):
        print("  " + line)


def _mix_advice(rows: int, pct_evil: float, evil: int, benign: int) -> str:
    """What to change in --rows or --pct-evil when the files hold too few rows of a class.

    ``evil`` and ``benign`` are the rows available; rows are drawn without repeats, and the
    evil count is ``round(rows * pct_evil)``, as get_sample does.
    """

    def fits(n: int) -> bool:
        n_evil = round(n * pct_evil)
        return n_evil <= evil and n - n_evil <= benign

    # No n above these bounds fits; count down to the largest that does.
    bounds: list[float] = [evil + benign]
    if pct_evil > 0:
        bounds.append((evil + 0.5) / pct_evil)
    if pct_evil < 1:
        bounds.append((benign + 0.5) / (1 - pct_evil))
    most = int(min(bounds)) + 1
    while most > 0 and not fits(most):
        most -= 1
    options = [
        f"lower --rows to {most:,} or fewer (at --pct-evil {pct_evil:g})"
        if most > 0
        else f"no --rows fits at --pct-evil {pct_evil:g}"
    ]
    # At this --rows, the evil count can go from low to high (shares rounded inwards).
    low, high = max(0, rows - benign), min(rows, evil)
    if low <= high and round(rows * pct_evil) < low:
        share = math.ceil(low / rows * 10_000) / 10_000
        more = "" if share == 1 else " or more"
        options.append(f"raise --pct-evil to {share:g}{more} (at --rows {rows})")
    elif low <= high and round(rows * pct_evil) > high:
        share = math.floor(high / rows * 10_000) / 10_000
        less = "" if share == 0 else " or less"
        options.append(f"lower --pct-evil to {share:g}{less} (at --rows {rows})")
    n_evil = round(rows * pct_evil)
    return (
        f"--rows {rows} at --pct-evil {pct_evil:g} needs {n_evil:,} evil and "
        f"{rows - n_evil:,} benign rows, but the Kaggle files hold {evil:,} evil rows (testing "
        f"split) and {benign:,} benign (all three splits), and rows are never repeated: "
        + ", or ".join(options)
        + "."
    )


def cmd_data(args) -> int:
    from beth_helpers import build_classroom_csv, load_beth
    from beth_helpers.sampling import SampleSizeError

    if args.rows < 1:
        raise CourseError(f"--rows must be at least 1; got {args.rows}")
    if not 0 <= args.pct_evil <= 1:  # also refuses nan
        raise CourseError(
            f"--pct-evil is a share between 0 and 1 (0.25 for a quarter); got {args.pct_evil:g}"
        )
    course = _course(args)
    target = course.folder("source") / "data.csv"
    print(
        f"building {target.relative_to(course.root)} from the Kaggle splits in {args.kaggle} "
        "(about a minute for the full files) ..."
    )
    try:
        # It checks the folder, then the target, before it reads anything.
        build_classroom_csv(
            args.kaggle,
            target,
            n=args.rows,
            pct_evil=args.pct_evil,
            random_state=args.seed,
            overwrite=args.force,
        )
    except FileExistsError:
        raise CourseError(
            f"{target} exists and was left as it is; pass --force to replace it"
        ) from None
    except SampleSizeError as exc:
        raise CourseError(
            _mix_advice(args.rows, args.pct_evil, exc.available["evil"], exc.available["benign"])
        ) from None
    except (FileNotFoundError, ValueError) as exc:  # the loader's messages say what to do
        raise CourseError(str(exc)) from None
    written = load_beth(target)
    print(
        f"wrote {target.relative_to(course.root)}: {len(written):,} real BETH rows drawn at random "
        f"(seed {args.seed}), {int(written['evil'].sum()):,} evil (from the testing split only), "
        f"{int((written['evil'] == 0).sum()):,} benign (from all three splits)."
    )
    print(
        "next: set the sample sizes in the notebook's parameters cell if you want larger "
        "ones (the seed workshop used 25,000), then run beth-course release"
    )
    return 0


def cmd_collect(args) -> int:
    from .collect import collect

    course = _course(args)
    report = collect(course, args.path, force=args.force, patterns=args.pattern or None)
    for line in report.lines():
        print(line)
    return 1 if report.needs_attention else 0


def cmd_autograde(args) -> int:
    from .grading.runner import autograde

    course = _course(args)
    summary = autograde(
        course,
        students=args.student or None,
        workers=args.workers,
        dask_scheduler=args.dask_scheduler,
        force=args.force,
        sandbox=not args.no_sandbox,
        progress=not args.no_progress,
    )
    if args.no_sandbox:
        print(
            "WARNING: graded WITHOUT the sandbox: student code ran with your rights.",
            file=sys.stderr,
        )
    print(_graded_line(summary))
    shown = sorted(r.student for r in summary.results) + summary.skipped
    if shown:
        _print_grades(course, sorted(shown))
    return 1 if summary.counts().get("error") else 0


def _interrupted_lines(exc: KeyboardInterrupt) -> list[str]:
    """What an interrupted autograde kept and left, for the instructor."""
    from .grading.runner import AutogradeInterrupted

    if not isinstance(exc, AutogradeInterrupted):
        return []
    kept = sorted(r.student for r in exc.summary.results)
    lines = [f"kept in the gradebook: {count(len(kept), 'graded submission')}"]
    if kept:
        lines[0] += f" ({', '.join(kept)})"
    if exc.not_graded:
        lines.append(
            f"not graded: {count(len(exc.not_graded), 'submission')} "
            f"({', '.join(exc.not_graded)}); run autograde again to grade them"
        )
    return lines


def _graded_line(summary) -> str:
    """What an autograde run did, in one sentence (nothing graded is said as such)."""
    skipped = (
        (f"{count(len(summary.skipped), 'submission')} already graded (--force regrades)")
        if summary.skipped
        else ""
    )
    if not summary.results:
        return f"nothing graded: {skipped}" if skipped else "nothing graded"
    done = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts().items()))
    return (
        f"graded {count(len(summary.results), 'submission')} in {summary.seconds:.0f} s on "
        f"{summary.workers} ({done})" + (f"; skipped {skipped}" if skipped else "")
    )


def cmd_feedback(args) -> int:
    from .feedback import generate

    course = _course(args)
    report = generate(course, args.student or None, ungraded=args.ungraded)
    for path in report.written:
        print(f"  {path.relative_to(course.root)}")
    for student, why in report.held.items():
        print(f"  {student}: held back, {why} (grade in formgrader, then run feedback again)")
    for student in report.missing:
        print(f"  {student}: not graded yet (run beth-course autograde)", file=sys.stderr)
    for student, why in report.refused.items():
        print(
            f"  {student}: NOT WRITTEN, hidden or solution text survived scrubbing: {why}",
            file=sys.stderr,
        )
    students = {path.parent.parent.name for path in report.written}
    print(
        f"{count(len(report.written), 'feedback page')} for {count(len(students), 'student')} "
        f"in {course.folder('feedback').relative_to(course.root)}/"
    )
    return 1 if report.refused or report.missing else 0


def cmd_report(args) -> int:
    from .report import write_report

    course = _course(args)
    files = write_report(course, args.output_dir)
    print(f"{count(files.students, 'student')}: {files.csv} and {files.html}")
    return 0


def cmd_roster(args) -> int:
    from .roster import import_roster

    course = _course(args)
    report = import_roster(course, args.file)
    for line in report.lines():
        print(line)
    return 1 if report.needs_attention else 0


def cmd_export(args) -> int:
    from .export import fill_canvas, moodle_csv

    if (args.canvas is None) == (not args.moodle):
        raise CourseError(
            "give one of --canvas GRADEBOOK.csv (Canvas's gradebook export to "
            "fill) or --moodle (Moodle's grade-import CSV)"
        )
    course = _course(args)
    options = dict(column=args.column, force=args.force, ungraded_as_zero=args.ungraded_as_zero)
    if args.canvas is not None:
        report = fill_canvas(course, args.canvas, args.output, **options)
    else:
        report = moodle_csv(course, args.output, **options)
    for line in report.lines():
        print(line)
    return 1 if report.needs_attention else 0


def cmd_demo(args) -> int:
    from .course import REPOSITORY, worked_example
    from .demo import run

    into = args.into or REPOSITORY / "demo-course"
    demo, feedback, report = run(worked_example(), into, args.workers)
    print("\ngrades (autograded tests; the written answer is graded by hand in formgrader):")
    _print_grades(demo)
    print(
        f"\nfeedback (hidden tests removed): {demo.folder('feedback')}/<student>/{demo.assignment}/"
    )
    for path in feedback.written:
        print(f"  {path}")
    print(f"report: {report.html}\ngrades: {report.csv}")
    return 0


# name: (function, help, [(flags, argparse options)])
Option = tuple[tuple[str, ...], dict]
COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str, list[Option]]] = {
    "init": (
        cmd_init,
        "make a new course folder for a class: the BETH workshop, nbgrader_config.py, a "
        ".gitignore; no students",
        [
            (
                ("dir",),
                dict(
                    type=Path,
                    metavar="DIR",
                    help="the new course folder (must not exist, or be empty)",
                ),
            ),
            (
                ("--shipped-rows",),
                dict(
                    action="store_true",
                    help="also write source/beth_workshop/data.csv with the 6,791 real rows shipped "
                    "with beth_helpers (default: none; build one with beth-course data, or let "
                    "release write these)",
                ),
            ),
        ],
    ),
    "due": (
        cmd_due,
        "set (or show) the assignment's due date, kept in nbgrader's gradebook",
        [
            (
                ("date",),
                dict(
                    nargs="?",
                    default=None,
                    metavar="DATE",
                    help='e.g. "2026-12-10 17:00 Europe/London" (a date without a zone is read in '
                    "c.BethCollect.timezone, else this computer's); none: show the due date",
                ),
            ),
            (("--clear",), dict(action="store_true", help="remove the due date")),
        ],
    ),
    "release": (
        cmd_release,
        "generate the student version in release/ and check it",
        [
            (
                ("--no-validate",),
                dict(
                    action="store_true",
                    help="skip running the notebook (source must pass, release must fail); quicker, "
                    "for drafts only",
                ),
            )
        ],
    ),
    "data": (
        cmd_data,
        "build source/<assignment>/data.csv from the official Kaggle files",
        [
            (
                ("--kaggle",),
                dict(
                    type=Path,
                    required=True,
                    metavar="FOLDER",
                    help="the unzipped Kaggle download (labelled_training_data.csv and its siblings)",
                ),
            ),
            (
                ("--rows",),
                dict(type=int, default=100_000, help="rows in data.csv (default 100,000)"),
            ),
            (
                ("--pct-evil",),
                dict(
                    type=float,
                    default=0.25,
                    help="share of evil rows (default 0.25: room for the seed's 25,000-row samples)",
                ),
            ),
            (("--seed",), dict(type=int, default=0, help="random seed (default 0)")),
            (("--force",), dict(action="store_true", help="replace an existing data.csv")),
        ],
    ),
    "collect": (
        cmd_collect,
        "file downloaded submissions (a folder or a zip) into submitted/<student>/",
        [
            (("path",), dict(type=Path, help="the download: a folder or a .zip")),
            (
                ("--force",),
                dict(
                    action="store_true",
                    help="replace submissions already filed for the same students",
                ),
            ),
            (
                ("--pattern",),
                dict(
                    action="append",
                    metavar="REGEX",
                    help="map paths to students with this regex (named group 'student') or "
                    "preset (blackboard, canvas, moodle, folder); repeatable, tried in "
                    "order, replaces the presets",
                ),
            ),
        ],
    ),
    "autograde": (
        cmd_autograde,
        "grade submitted/ into autograded/ and the gradebook, sandboxed and in parallel",
        [
            (
                ("--student",),
                dict(
                    action="append",
                    metavar="ID",
                    help="grade only this student (repeatable); default: everyone in submitted/",
                ),
            ),
            (
                ("--workers",),
                dict(
                    type=int,
                    default=None,
                    metavar="N",
                    help="submissions graded at once on this machine (default: number of cores)",
                ),
            ),
            (
                ("--dask-scheduler",),
                dict(
                    default=None,
                    metavar="ADDRESS",
                    help="grade on an existing Dask cluster, e.g. tcp://10.0.0.5:8786",
                ),
            ),
            (
                ("--force",),
                dict(action="store_true", help="regrade submissions that are already graded"),
            ),
            (
                ("--no-sandbox",),
                dict(
                    action="store_true",
                    help="run student code unconfined (only where bubblewrap is unavailable and "
                    "you trust the code)",
                ),
            ),
            (("--no-progress",), dict(action="store_true", help="no progress bar")),
        ],
    ),
    "feedback": (
        cmd_feedback,
        "write per-student HTML feedback to feedback/, hidden tests removed",
        [
            (
                ("--student",),
                dict(
                    action="append",
                    metavar="ID",
                    help="only this student (repeatable); default: everyone graded",
                ),
            ),
            (
                ("--ungraded",),
                dict(
                    choices=("show", "hold"),
                    default="show",
                    help="answers still to grade by hand: show them as not graded yet (default), "
                    "or hold the page back until they are graded",
                ),
            ),
        ],
    ),
    "report": (
        cmd_report,
        "write grades.csv and report.html (score distribution, pass rates, failures)",
        [
            (
                ("--output-dir",),
                dict(
                    type=Path,
                    default=None,
                    metavar="DIR",
                    help="where to write them (default: the course directory)",
                ),
            )
        ],
    ),
    "roster": (
        cmd_roster,
        "put students' names and emails from an LMS roster CSV into the gradebook",
        [
            (
                ("file",),
                dict(
                    type=Path,
                    metavar="FILE",
                    help="the roster as exported: Canvas gradebook export, Moodle grading worksheet "
                    "or participants list, Blackboard Grade Centre download",
                ),
            )
        ],
    ),
    "export": (
        cmd_export,
        "write this assignment's grades as a file the LMS imports (Canvas, Moodle)",
        [
            (
                ("--canvas",),
                dict(
                    type=Path,
                    metavar="GRADEBOOK.csv",
                    help="fill this assignment's column of this Canvas gradebook export",
                ),
            ),
            (
                ("--moodle",),
                dict(
                    action="store_true",
                    help="write Moodle's grade-import CSV (Email address, grade)",
                ),
            ),
            (
                ("-o", "--output"),
                dict(type=Path, required=True, metavar="OUT.csv", help="the file to write"),
            ),
            (
                ("--column",),
                dict(
                    default=None,
                    metavar="HEADER",
                    help="Canvas: the exact header of the column to fill (default: the one named "
                    "after the assignment); Moodle: the grade column's header",
                ),
            ),
            (("--force",), dict(action="store_true", help="replace OUT.csv if it exists")),
            (
                ("--ungraded-as-zero",),
                dict(
                    action="store_true",
                    help="export even if some answers are not graded by hand yet, counting them as 0 "
                    "(default: refuse and list them)",
                ),
            ),
        ],
    ),
    "demo": (
        cmd_demo,
        "release, autograde, feedback and report for the repository's fictional students "
        "(its worked example, whatever --course says), in a scratch copy",
        [
            (
                ("--into",),
                dict(
                    type=Path,
                    default=None,
                    metavar="DIR",
                    help="scratch folder (default: demo-course/ in the repository); replaced each run",
                ),
            ),
            (
                ("--workers",),
                dict(
                    type=int,
                    default=None,
                    metavar="N",
                    help="submissions graded at once (default: number of cores)",
                ),
            ),
        ],
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beth-course",
        description="Release, collect, grade and report the BETH workshop course (on nbgrader).",
    )
    parser.add_argument(
        "--course",
        type=Path,
        default=None,
        help="the course directory (default: the one containing the current folder)",
    )
    parser.add_argument(
        "--assignment",
        default=None,
        metavar="NAME",
        help="the assignment (a folder of source/); needed when there are several",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show nbgrader's own log (every file it copies)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (func, help_text, options) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        for flags, kwargs in options:
            p.add_argument(*flags, **kwargs)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        print(
            "beth-course needs the instructor dependencies: pip install '.[course]' in the "
            "course repository.",
            file=sys.stderr,
        )
        return 2
    args = build_parser().parse_args(argv)
    use_this_environment()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[nbgrader] %(levelname)s: %(message)s"))
    nb_log = logging.getLogger("traitlets")
    nb_log.addHandler(handler)
    nb_log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    nb_log.propagate = False
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"beth-course {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"beth-course {args.command}: interrupted", file=sys.stderr)
        for line in _interrupted_lines(exc):
            print(line, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
