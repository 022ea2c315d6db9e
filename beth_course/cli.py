"""``beth-course``: the instructor's command line for the BETH workshop course."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .course import Course, CourseError


def _course(args) -> Course:
    return Course.find(args.course) if args.course else Course.find()


def cmd_release(args) -> int:
    from .release import release

    course = _course(args)
    print(f"releasing {course.assignment} from {course.source_notebook.relative_to(course.root)} ...")
    report = release(course, validate=not args.no_validate)
    for line in report.lines(course):
        print("  " + line)
    return 0


COMMANDS = {
    "release": (
        cmd_release,
        "generate the student version in release/ and check it",
        [(("--no-validate",), dict(action="store_true",
          help="skip running the notebook (source must pass, release must fail); quicker, "
               "for drafts only"))],
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beth-course",
        description="Release, collect, grade and report the BETH workshop course (on nbgrader).",
    )
    parser.add_argument(
        "--course", type=Path, default=None,
        help="the course directory (default: the one containing the current folder)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show nbgrader's own log (every file it copies)"
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
    # nbgrader runs `alembic` and Jupyter kernels by name: make them this environment's own,
    # also when it was not activated (`.venv/bin/beth-course ...`).
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
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
    except KeyboardInterrupt:
        print(f"beth-course {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
