"""``beth-course autograde``: grade a class, N at a time or on a Dask cluster.

The coordinator (this module) plans which submissions need grading, builds a
self-contained :class:`~.worker.GradingTask` for each, hands them to workers, and, as each
result comes back, writes the autograded notebook into ``autograded/`` and the scores into
the gradebook itself: it is the gradebook's only writer.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import notebooks
from ..course import Course, CourseError, use_this_environment
from ..files import regular_files
from ..late import Penalties, submitted_at
from ..roster import record_download
from . import gradebook
from .bwrap import bwrap_status
from .checker import server_preload
from .limits import Limits
from .warmup import LARGE_UMAP_ROWS, ensure_warm
from .worker import (
    GradingResult,
    GradingTask,
    abandon,
    grade_submission,
    hash_files,
    source_files,
)


@dataclass
class RunSummary:
    results: list[GradingResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    workers: str = ""

    def counts(self) -> Counter:
        return Counter(r.status for r in self.results)


def _submission_files(folder: Path) -> dict[str, bytes]:
    """The submission's regular files (never a link: see :func:`beth_course.files.regular_files`)."""
    return regular_files(folder)


def _cell_orders(course: Course) -> dict[str, list[str]]:
    """Per notebook, the grade ids of the released notebook in order."""
    orders = {}
    for name in course.notebooks:
        nb = notebooks.read(course.folder("release") / f"{name}.ipynb")
        orders[name] = [
            c.metadata["nbgrader"]["grade_id"]
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")
        ]
    return orders


def plan(course: Course, students: list[str] | None, force: bool) -> tuple[list[str], list[str]]:
    """``(to grade, skipped)``: a student is skipped when the submission already graded
    (same files, by hash) has an autograded notebook, unless ``force``."""
    available = course.students("submitted")
    if not available:
        raise CourseError(
            f"nothing to grade: submitted/ holds no submission of {course.assignment}; file "
            "the downloads first with beth-course collect DOWNLOAD (a folder or .zip)"
        )
    if students:
        unknown = [s for s in students if s not in available]
        if unknown:
            raise CourseError(
                f"no submission for {unknown} under submitted/<student>/{course.assignment}/ "
                f"({len(available)} students have one)"
            )
    chosen = students or available
    if force:
        return chosen, []
    done = gradebook.statuses(course.gradebook_path, course.assignment)
    todo, skipped = [], []
    for student in chosen:
        row = done.get(student)
        sha = hash_files(_submission_files(course.folder("submitted", student)))
        graded = course.folder("autograded", student)
        if row and row["submission_sha256"] == sha and any(graded.glob("*.ipynb")):
            skipped.append(student)
        else:
            todo.append(student)
    return todo, skipped


def _source_cells(course: Course):
    for name in course.notebooks:
        yield from notebooks.read(course.folder("source") / f"{name}.ipynb").cells


def locked_imports(course: Course) -> list[str]:
    """Modules the notebooks' locked cells import: each checker server loads them once."""
    import ast

    found: list[str] = []
    for cell in _source_cells(course):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("locked") or meta.get("solution"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
    return list(dict.fromkeys(found))


def umap_sample_size(course: Course) -> int:
    """UMAP_SAMPLE_SIZE as the notebook's parameters cell sets it (0 if it cannot tell)."""
    import re

    for cell in _source_cells(course):
        match = re.search(r"^UMAP_SAMPLE_SIZE\s*=\s*([\d_]+)", cell.source, re.MULTILINE)
        if match:
            return int(match.group(1).replace("_", ""))
    return 0


def uses_umap(course: Course) -> bool:
    """Whether the assignment's notebooks import UMAP (and so gain from the warm cache)."""
    import re

    pattern = re.compile(r"^\s*(import umap|from umap\b)", re.MULTILINE)
    return any(
        cell.cell_type == "code" and pattern.search(cell.source) for cell in _source_cells(course)
    )


def build_tasks(
    course: Course, students: list[str], sandbox: bool, local: bool
) -> list[GradingTask]:
    config = course.config()
    large = umap_sample_size(course) >= LARGE_UMAP_ROWS
    warm = uses_umap(course)
    preload = server_preload(locked_imports(course))
    limits = Limits.from_config(config)
    template = gradebook.template_bytes(course.gradebook_path)
    config_text = (course.root / "nbgrader_config.py").read_text()
    orders = _cell_orders(course)
    return [
        GradingTask(
            student=student,
            assignment=course.assignment,
            notebooks=list(course.notebooks),
            submission=_submission_files(course.folder("submitted", student)),
            gradebook=template,
            config_text=config_text,
            cell_orders=orders,
            limits=limits,
            sandbox=sandbox,
            warm_large=large,
            warm=warm,
            preload=preload,
            source_dir=str(course.folder("source")) if local else None,
        )
        for student in students
    ]


def write_autograded(course: Course, result: GradingResult, sources: dict[str, bytes]) -> None:
    """Replace ``autograded/<student>/<assignment>/`` with the result, all at once."""
    target = course.folder("autograded", result.student)
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    if not result.files:  # nothing was graded: leave no stale autograded notebook behind
        if target.exists():
            target.rename(old)
            shutil.rmtree(old)
        return
    new = target.parent / f".{target.name}.new-{uuid.uuid4().hex[:8]}"
    new.mkdir()
    for name, data in {**sources, **result.files}.items():
        path = new / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


class _Progress:
    """done/total, failures and ETA on one line (tqdm), and a line per failure."""

    def __init__(self, total: int, enabled: bool, out):
        from tqdm import tqdm

        self.failed = 0
        self.bar = tqdm(
            total=total,
            desc="grading",
            unit="nb",
            file=out,
            disable=not enabled,
            dynamic_ncols=True,
            mininterval=0.5,
            bar_format="{desc} {n_fmt}/{total_fmt} |{bar}| {elapsed} elapsed, "
            "ETA {remaining}{postfix}",
        )
        self.bar.set_postfix_str("failed 0", refresh=False)

    def update(self, result: GradingResult) -> None:
        if result.status != "ok":
            self.failed += 1
            self.bar.write(f"  {result.student}: {result.status}: {result.reason}")
        self.bar.set_postfix_str(f"failed {self.failed}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def _error_result(task: GradingTask, exc: BaseException) -> GradingResult:
    return GradingResult(
        student=task.student,
        status="error",
        reason=f"the grading worker failed: {type(exc).__name__}: {exc}"[:2000],
        submission_sha256=task.submission_sha256,
    )


def _refuse_unless_ready(course: Course, sandbox: bool) -> None:
    """CourseError unless the sandbox works (when asked for) and the assignment is released."""
    if sandbox:
        ok, why = bwrap_status()
        if not ok:
            raise CourseError(
                "REFUSING TO GRADE: student code would run with your rights, because the "
                f"sandbox is not available here: {why}. Install it, or pass --no-sandbox "
                "if you accept running student code unconfined."
            )
    released = [course.folder("release") / f"{n}.ipynb" for n in course.notebooks]
    if not course.gradebook_path.exists() or not all(p.exists() for p in released):
        raise CourseError("the assignment has not been released here yet: run beth-course release")


def autograde(
    course: Course,
    *,
    students: list[str] | None = None,
    workers: int | None = None,
    dask_scheduler: str | None = None,
    force: bool = False,
    sandbox: bool = True,
    progress: bool = True,
    out=None,
) -> RunSummary:
    """Grade submissions into the gradebook; see the module docstring."""
    out = out or sys.stderr
    use_this_environment()
    _refuse_unless_ready(course, sandbox)
    todo, skipped = plan(course, students, force)
    summary = RunSummary(skipped=skipped)
    if not todo:
        return summary
    times = {student: submitted_at(course, student) for student in todo}  # refuses bad files now
    penalties = Penalties(course.config())
    started = time.monotonic()
    sources = source_files(course.folder("source"))
    tasks = build_tasks(course, todo, sandbox, local=dask_scheduler is None)
    client = None
    large, warm = tasks[0].warm_large, tasks[0].warm
    if dask_scheduler:
        client = _dask_client(dask_scheduler, out, large if warm else None)
    elif warm:
        print("warming the kernel cache (once per machine) ...", file=out, flush=True)
        ensure_warm(large=large)
    bar = _Progress(len(tasks), progress, out)

    def finish(result: GradingResult) -> None:
        with _ctrl_c_after():  # autograded/ and the gradebook get a result whole, or not
            write_autograded(course, result, sources)
            result.timestamp = times[result.student]
            gradebook.merge(course.db_url, course.assignment, result.student, result, penalties)
            record_download(course, result.student)  # names and emails from collect's lms.json
            summary.results.append(result)
        bar.update(result)

    try:
        if client is not None:
            summary.workers = _run_dask(client, tasks, sources, finish)
        else:
            workers = workers or os.cpu_count() or 1
            summary.workers = _run_local(tasks, workers, finish)
    except KeyboardInterrupt:
        kept = {r.student for r in summary.results}
        raise AutogradeInterrupted(summary, [s for s in todo if s not in kept]) from None
    finally:
        bar.close()
        if client is not None:
            client.close()
        summary.seconds = time.monotonic() - started
    return summary


@contextlib.contextmanager
def _ctrl_c_after():
    """Hold a Ctrl-C (SIGINT) until the block is done, then raise it. In the main thread
    only: elsewhere Python delivers no signals anyway."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        raise KeyboardInterrupt


class AutogradeInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`autograde`: ``summary`` holds what was graded and kept, and
    ``not_graded`` the students left as they were (run autograde again for them)."""

    def __init__(self, summary: RunSummary, not_graded: list[str]):
        super().__init__()
        self.summary, self.not_graded = summary, not_graded


def _worker_init() -> None:
    """In each grading process: Ctrl-C is the coordinator's to handle; SIGTERM (which the
    coordinator sends on Ctrl-C) stops the submission being graded at once, see
    :func:`_stop_now`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_now)


def _stop_now(signum, frame):
    """Kill the submission's sandbox, remove its folders and exit: nothing is raised into
    whatever the process was doing (nbclient's event loop, a weakref callback), so nothing
    can swallow the stop or print a traceback for it."""
    abandon()
    os._exit(128 + signum)


def _run_local(tasks: list[GradingTask], workers: int, finish) -> str:
    """Grade in ``workers`` processes. On Ctrl-C, results already in are kept; running
    gradings are stopped through their clean-up, and the rest are not started."""
    context = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init)
    futures = {pool.submit(grade_submission, task): task for task in tasks}
    try:
        for future in cf.as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # includes a crashed worker (BrokenProcessPool)
                result = _error_result(futures[future], exc)
            finish(result)
    except KeyboardInterrupt:
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)
    return "1 process" if workers == 1 else f"{workers} processes"


def _stop_pool(pool: cf.ProcessPoolExecutor, grace: float = 30.0) -> None:
    """Cancel what has not started; ask running workers to stop, then make sure they do."""
    processes = list((pool._processes or {}).values())  # noqa: SLF001 -- no public handle
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()


def _dask_client(address: str, out, large: bool | None):
    """Connect to the scheduler and warm every worker's kernel cache (``None``: no warm-up)."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise CourseError(
            "--dask-scheduler needs dask.distributed: pip install 'dask[distributed]'"
        ) from exc
    try:
        client = Client(address, timeout="30s")
    except OSError as exc:
        raise CourseError(f"could not reach the Dask scheduler at {address}: {exc}") from exc
    workers = client.scheduler_info().get("workers", {})
    if not workers:
        client.close()
        raise CourseError(f"the Dask scheduler at {address} has no workers")
    if large is not None:
        print(f"warming the kernel cache on {len(workers)} Dask workers ...", file=out, flush=True)
        client.run(ensure_warm, large=large)
    return client


def _run_dask(client, tasks: list[GradingTask], sources: dict[str, bytes], finish) -> str:
    from distributed import as_completed

    shared = client.scatter(sources, broadcast=True)
    futures = {
        client.submit(
            grade_submission,
            task,
            shared,
            pure=False,
            key=f"grade-{task.student}-{uuid.uuid4().hex[:8]}",
        ): task
        for task in tasks
    }
    for future in as_completed(futures):
        try:
            result = future.result()
        except Exception as exc:  # the task raised, or its worker was lost
            result = _error_result(futures[future], exc)
        finish(result)
    workers = len(client.scheduler_info().get("workers", {}))
    return f"Dask at {client.scheduler.address} ({workers} workers)"
