"""Where a graded submission's time goes: plain nbgrader against beth-course, step by step.

    python benchmarks/profile_grading.py --mode plain|beth [--students 5]
                                         [--part2 benchmarks/.work/part2]

Grades the first ``--students`` copies of the class that ``run_all.py --parts 2`` prepared
(its released template course and its warm caches under ``--part2``) in THIS process, one
after another, with wall-clock timers wrapped around the steps (nothing in nbgrader or
beth_course is changed on disk; the timers are set on the classes at run time):

- plain: nbgrader's AutogradeApp, as ``nbgrader autograde beth_workshop --force`` runs it,
  with the plain kernels' warm numba cache;
- beth: ``beth_course.grading.runner.autograde(workers=1, force=True)`` with its warm
  kernel cache. autograde grades in worker processes (a pool, even of one), where these
  timers would not reach, so its pool (``runner._run_local``) is replaced by a loop that
  calls the same ``grade_submission`` in this process; everything else (plan, tasks,
  warm-up, the checker server, writing autograded/ and the gradebook) is autograde's own.
  The student's cells run in the sandboxed kernel, the tests in the checker; the checker's
  steps are timed apart.

Prints the mean seconds per submission of each step, and the one-off cost of the process
(start-up and imports before the first submission). Needs a prepared part 2 (run
``run_all.py --parts 2`` first, or ``--smoke``). It profiles the ``beth_course`` this Python
imports (the installed one, as ``beth-course`` would: the sandbox binds that copy), and
says which.
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

T0 = time.perf_counter()
HERE = Path(__file__).resolve().parent
TIMES: dict[str, list[float]] = collections.defaultdict(list)
MARKS: dict[str, float] = {}


def timed(owner, name: str, label: str) -> None:
    """Wrap ``owner.name`` (a function or method) so that every call adds to TIMES[label]."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        MARKS.setdefault("first", started)
        try:
            return original(*args, **kwargs)
        finally:
            TIMES[label].append(time.perf_counter() - started)

    setattr(owner, name, wrapper)


def common_timers() -> None:
    from nbclient import NotebookClient
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import BaseConverter
    from nbgrader.preprocessors import SaveAutoGrades

    timed(Autograde, "init_assignment", "nbgrader: gradebook, student + submission rows")
    timed(BaseConverter, "init_destination", "nbgrader: prepare autograded/ folder")
    timed(BaseConverter, "convert_single_notebook", "nbgrader: both conversion passes (total)")
    timed(BaseConverter, "set_permissions", "nbgrader: set permissions")
    timed(SaveAutoGrades, "preprocess", "nbgrader: save scores to the gradebook")
    timed(NotebookClient, "start_new_kernel", "kernel: launch")
    timed(NotebookClient, "start_new_kernel_client", "kernel: wait until ready")
    timed(NotebookClient, "execute_cell", "kernel: run the cells")
    timed(NotebookClient, "_cleanup_kernel", "kernel: shut down")


def beth_timers() -> None:
    # Patch where each function is looked up when called: runner imported some by name,
    # grade_submission imports others inside the function, from their modules.
    from beth_course.grading import (
        cgroups,
        checking,
        execute,
        gradebook,
        restore,
        runner,
        servers,
        slots,
        warmup,
        worker,
    )
    from beth_course.inert import MakeInert

    timed(runner, "grade_submission", "beth: grade_submission (total in the worker)")
    timed(warmup, "ensure_warm", "beth: ensure_warm in the worker (check the cache)")
    timed(runner, "ensure_warm", "beth: ensure_warm in the coordinator (once)")
    timed(worker.shutil, "copytree", "beth: shutil.copytree (private copies of caches)")
    timed(worker, "_chown_tree", "beth: chown the cache copy to the sandbox user")
    timed(worker, "check_notebook", "beth: check the notebook's JSON")
    timed(slots, "kill_user_processes", "beth: sweep the sandbox user's processes")
    timed(cgroups.Cgroup, "create", "beth: make the submission's cgroup")
    timed(cgroups.Cgroup, "destroy", "beth: remove the submission's cgroup")
    timed(restore.RestoreCells, "preprocess", "beth: RestoreCells")
    timed(MakeInert, "preprocess", "beth: MakeInert")
    timed(servers, "checker_server", "beth: find (or start) the checker server")
    timed(checking.CheckerServer, "__init__", "  start a checker server (once per process)")
    timed(checking.CheckerProcess, "start", "checker: fork one for the notebook")
    timed(checking.CheckerProcess, "run", "checker: run cells (locked cells, tests, fetches)")
    timed(checking.CheckerProcess, "close", "checker: close")
    timed(execute.GuardedExecute, "fetch", "  fetch values from the kernel (inside 'run cells')")
    timed(execute.GuardedExecute, "call", "  call student functions (inside 'run cells')")
    timed(gradebook, "read_results", "beth: read the private gradebook")
    timed(runner, "write_autograded", "beth: write autograded/ (coordinator)")
    timed(gradebook, "merge", "beth: merge into gradebook.db (coordinator)")
    timed(runner, "build_tasks", "beth: build the tasks (once)")
    timed(runner, "plan", "beth: plan (once)")

    def in_this_process(tasks, workers, finish):
        for task in tasks:
            finish(runner.grade_submission(task))
        return "this process"

    runner._run_local = in_this_process


def _caches(part2: Path) -> dict:
    """The caches part 2 used (its session in results.json: a smoke run uses the machine's
    own), else the private ones it makes under ``part2/caches``."""
    import json

    saved = part2.parent / "results.json"
    if saved.is_file():
        session = json.loads(saved.read_text())["results"].get("2", {}).get("session")
        if session:
            return {k: session[k] for k in ("xdg", "plain_numba", "mpl")}
    caches = part2 / "caches"
    return {
        "xdg": str(caches / "xdg"),
        "plain_numba": str(caches / "numba-plain"),
        "mpl": str(caches / "matplotlib"),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("plain", "beth"), required=True)
    p.add_argument("--students", type=int, default=5)
    p.add_argument(
        "--part2",
        type=Path,
        default=HERE / ".work" / "part2",
        help="the folder run_all.py prepared part 2 in",
    )
    args = p.parse_args(argv)
    template = args.part2 / "template" / "course"
    if not template.is_dir():
        p.error(f"no prepared course at {template}: run benchmarks/run_all.py --parts 2 first")
    work = Path(tempfile.mkdtemp(prefix=f"profile-{args.mode}-"))
    course_root = work / "course"
    shutil.copytree(template, course_root)
    submitted = sorted((course_root / "submitted").iterdir())
    for extra in submitted[args.students :]:
        shutil.rmtree(extra)
    students = [s.name for s in submitted[: args.students]]
    caches = _caches(args.part2)
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    try:
        if args.mode == "plain":
            if caches["plain_numba"]:
                os.environ["NUMBA_CACHE_DIR"] = caches["plain_numba"]
            os.environ["MPLCONFIGDIR"] = caches["mpl"]
            os.chdir(course_root)
            from nbgrader.apps.autogradeapp import AutogradeApp

            common_timers()
            app = AutogradeApp.instance()
            app.initialize(["beth_workshop", "--force"])
            MARKS["ready"] = time.perf_counter()
            app.start()
        else:
            os.environ["XDG_CACHE_HOME"] = caches["xdg"]
            import beth_course
            from beth_course.course import Course
            from beth_course.grading.runner import autograde

            print(f"profiling {Path(beth_course.__file__).parent}", file=sys.stderr)
            common_timers()
            beth_timers()
            MARKS["ready"] = time.perf_counter()
            summary = autograde(Course(course_root), workers=1, force=True, progress=False)
            bad = [r.student for r in summary.results if r.status != "ok"]
            if bad:
                print(f"not graded ok: {bad}", file=sys.stderr)
                return 1
        end = time.perf_counter()
    finally:
        os.chdir(HERE)
        shutil.rmtree(work, ignore_errors=True)

    n = len(students)
    print(
        f"{args.mode}: {n} submissions graded in one process, "
        f"{end - T0:.1f} s in all ({(end - T0) / n:.2f} s per submission)"
    )
    print(f"  process start-up and imports before grading: {MARKS['ready'] - T0:.2f} s (once)")
    print(f"  from then to the first timed step: {MARKS['first'] - MARKS['ready']:.2f} s (once)")
    width = max(len(k) for k in TIMES)
    for label, values in TIMES.items():
        per = sum(values) / n
        print(f"  {label:<{width}}  {per:7.2f} s per submission  ({len(values)} calls)")
    kernel = sum(sum(TIMES[k]) for k in TIMES if k.startswith("kernel:")) / n
    checker = sum(sum(TIMES[k]) for k in TIMES if k.startswith("checker:")) / n
    passes = sum(TIMES["nbgrader: both conversion passes (total)"]) / n
    label = (
        "nbgrader passes minus kernel"
        + (" and checker" if checker else "")
        + " (the pipeline itself)"
    )
    print(f"  {label:<{width}}  {passes - kernel - checker:7.2f} s per submission")
    return 0


if __name__ == "__main__":
    sys.exit(main())
