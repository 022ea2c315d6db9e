"""Grading one submission, anywhere: in this process, a process pool or a Dask worker.

``grade_submission`` takes a self-contained :class:`GradingTask` (the submission's files,
a template gradebook, the course configuration) and returns a :class:`GradingResult`
(scores, the autograded notebooks, what happened). It runs nbgrader's own ``Autograde``
converter in a private, temporary course folder with its pipeline changed
(:func:`autograde_config`): :class:`~.restore.RestoreCells` instead of ``DeduplicateIds``,
:class:`~.execute.GuardedExecute` instead of ``Execute`` (student cells in the sandboxed
kernel, tests in the checker), no ``AssignLatePenalties`` (the coordinator assigns late
penalties where the hand grades are: `beth_course.late`), and the pages made inert before
they are saved.

The sandbox never sees that folder: nbgrader reads and writes only files the grader made,
and the kernel gets read-only copies of its input files. So whatever a submission leaves
in its own folders (links, FIFOs, huge files) is never looked at: it vanishes with the
sandbox. Nothing here touches the course folder; the coordinator merges the result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..course import use_this_environment
from .limits import Limits
from .status import STATUS_KEY


def hash_files(files: dict[str, bytes]) -> str:
    """One SHA-256 over a submission's file names and contents (to skip what is graded)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


@dataclass
class GradingTask:
    """Everything needed to grade one submission; no reference to the course folder except
    ``source_dir``, set when grading on the instructor's own machine."""

    student: str
    assignment: str
    notebooks: list[str]
    submission: dict[str, bytes]
    gradebook: bytes
    config_text: str
    cell_orders: dict[str, list[str]]
    limits: Limits
    sandbox: bool = True
    warm_large: bool = False
    warm: bool = True
    source_dir: str | None = None
    preload: list[str] = field(default_factory=list)

    @property
    def submission_sha256(self) -> str:
        return hash_files(self.submission)


@dataclass
class GradingResult:
    student: str
    status: str
    reason: str = ""
    grades: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    timestamp: str | None = None
    """The submission time (ISO, UTC), set by the coordinator from ``timestamp.txt``."""
    files: dict[str, bytes] = field(default_factory=dict)
    seconds: float = 0.0
    host: str = ""
    submission_sha256: str = ""
    restored: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


def check_notebook(raw: bytes) -> tuple[str | None, bytes | None]:
    """Return ``(problem, repaired)``: why the file cannot be graded, or a repaired copy."""
    import nbformat
    from nbformat.validator import normalize

    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"the file is not a notebook (not valid JSON: {exc})", None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return "the file is JSON but not a notebook (no list of cells)", None
    if data.get("nbformat") != 4:
        return (
            f"the notebook is in format version {data.get('nbformat')}; only 4 can be graded",
            None,
        )
    try:
        nbformat.validate(data)
        return None, None
    except nbformat.ValidationError:
        pass
    try:
        _, fixed = normalize(data, strip_invalid_metadata=True)
        nbformat.validate(fixed)
    except Exception as exc:  # normalize raises several types on hopeless input
        return f"the notebook's structure is invalid and could not be repaired: {exc}", None
    return None, json.dumps(fixed, indent=1).encode()


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` under ``folder``, refusing names that would land outside it."""
    root = folder.resolve()
    for name, data in files.items():
        target = (folder / name).resolve()
        if not str(target).startswith(str(root) + os.sep):
            raise ValueError(f"refusing a submission file outside its folder: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def source_files(folder: Path) -> dict[str, bytes]:
    """The non-notebook files of an assignment's source folder, as nbgrader copies them."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb"
    }


@dataclass
class _Workspace:
    """The private course folder one grading happens in."""

    root: Path
    task: GradingTask

    @property
    def source(self) -> Path:
        return self.root / "source" / self.task.assignment

    @property
    def submitted(self) -> Path:
        return self.root / "submitted" / self.task.student / self.task.assignment

    @property
    def autograded(self) -> Path:
        return self.root / "autograded" / self.task.student / self.task.assignment

    def build(self, sources: dict[str, bytes]) -> None:
        self.source.mkdir(parents=True)
        self.submitted.mkdir(parents=True)
        (self.root / "nbgrader_config.py").write_text(self.task.config_text)
        (self.root / "gradebook.db").write_bytes(self.task.gradebook)
        write_files(self.source, sources)
        write_files(self.submitted, self.task.submission)


def _check_notebooks(ws: _Workspace, result: GradingResult) -> list[str]:
    """Repair what can be repaired; a notebook that cannot be graded is removed (it then
    scores 0, as a missing notebook does). Returns the problems."""
    problems = []
    for name in ws.task.notebooks:
        path = ws.submitted / f"{name}.ipynb"
        if not path.is_file():
            continue
        problem, repaired = check_notebook(path.read_bytes())
        if problem:
            problems.append(problem if len(ws.task.notebooks) == 1 else f"{name}.ipynb: {problem}")
            path.unlink()
        elif repaired is not None:
            path.write_bytes(repaired)
            result.restored.append(f"{name}.ipynb: the notebook's JSON structure was repaired")
    return problems


@dataclass
class _Running:
    """What the submission being graded in this process holds, for :func:`abandon`."""

    folders: list[str] = field(default_factory=list)
    uids: list[int] = field(default_factory=list)
    cgroup: Any = None


_RUNNING = _Running()


def abandon() -> None:
    """Stop the submission being graded in this process now: kill its sandbox users'
    processes and its cgroup, remove its folders. For a process about to exit (Ctrl-C)."""
    from .slots import kill_user_processes

    for uid in _RUNNING.uids:
        kill_user_processes(uid)
    if _RUNNING.cgroup is not None:
        _RUNNING.cgroup.destroy()
    for folder in _RUNNING.folders:
        shutil.rmtree(folder, ignore_errors=True)


def grade_submission(task: GradingTask, sources: dict[str, bytes] | None = None) -> GradingResult:
    """Grade one submission in a private temporary course folder (module docstring)."""
    started = time.monotonic()
    result = GradingResult(
        student=task.student,
        status="error",
        host=f"{socket.gethostname()}:{os.getpid()}",
        submission_sha256=task.submission_sha256,
    )
    capture = _Capture()
    with tempfile.TemporaryDirectory(prefix="beth-grade-") as work:
        ws = _Workspace(Path(work) / "course", task)
        _RUNNING.folders = [work]
        try:
            if sources is None:
                sources = source_files(Path(task.source_dir)) if task.source_dir else {}
            ws.build(sources)
            problems = _check_notebooks(ws, result)
            present = [n for n in task.notebooks if (ws.submitted / f"{n}.ipynb").exists()]
            if not present:
                result.status = "malformed"
                result.reason = (
                    "; ".join(problems) or "the submission holds none of the assignment's notebooks"
                )
                return result
            if _autograde(ws, capture, result):
                _collect(ws, result, sources, problems)
            return result
        finally:
            _RUNNING.folders = []
            result.log = capture.lines[-50:]
            result.seconds = time.monotonic() - started


def _autograde(ws: _Workspace, capture: _Capture, result: GradingResult) -> bool:
    """Run nbgrader's Autograde with our pipeline; False (and the reason) if it failed."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from sqlalchemy.exc import SAWarning

    from .cgroups import Cgroup
    from .servers import process_slot
    from .slots import kill_user_processes
    from .warmup import ensure_warm

    task = ws.task
    cache = ensure_warm(large=task.warm_large) if task.warm else None
    use_this_environment()
    nb_log = logging.getLogger("traitlets")
    slot = process_slot(task.limits.uid_base)
    kill_user_processes(slot.uid)  # nothing left from an earlier submission
    limits = task.limits
    cgroup = Cgroup.create(limits.memory, limits.processes, limits.cpus) if task.sandbox else None
    _RUNNING.uids, _RUNNING.cgroup = [slot.uid], cgroup
    with tempfile.TemporaryDirectory(prefix="beth-run-") as run_dir:
        _RUNNING.folders.append(run_dir)
        config = autograde_config(ws, slot, run_dir, cache, cgroup)
        coursedir = CourseDirectory(config=config, root=str(ws.root))
        coursedir.assignment_id, coursedir.student_id = task.assignment, task.student
        converter = Autograde(coursedir=coursedir, config=config)
        converter.force = converter.create_student = True
        nb_log.addHandler(capture)
        try:
            with warnings.catch_warnings():
                # nbgrader's API trips SQLAlchemy autoflush warnings; not ours to fix.
                warnings.filterwarnings("ignore", category=SAWarning)
                converter.start()
        except Exception as exc:  # nbgrader reports per-student failures this way
            result.reason = _failure_reason(capture.lines, exc)
            return False
        finally:
            nb_log.removeHandler(capture)
            kill_user_processes(slot.uid)
            if cgroup is not None:
                cgroup.destroy()
            _RUNNING.uids, _RUNNING.cgroup = [], None
    return True


def _failure_reason(lines: list[str], exc: Exception) -> str:
    """One readable sentence for a grading failure; the whole log stays in the result."""
    generic = ("There was an error processing", "Please see the", "Removing failed")
    specific = [
        line.splitlines()[0]
        for line in lines
        if line.startswith("ERROR") and not any(g in line for g in generic)
    ]
    parts = specific[:1] or [str(exc)]
    return " | ".join(dict.fromkeys(p.strip()[:300] for p in parts))


def _collect(
    ws: _Workspace, result: GradingResult, sources: dict[str, bytes], problems: list[str]
) -> None:
    from .gradebook import read_results

    task = ws.task
    found = read_results(f"sqlite:///{ws.root / 'gradebook.db'}", task.assignment, task.student)
    result.grades, result.comments = found["grades"], found["comments"]
    statuses = []
    for name in task.notebooks:
        path = ws.autograded / f"{name}.ipynb"
        if path.is_file():
            notebook = json.loads(path.read_text(encoding="utf-8"))
            statuses.append(notebook.get("metadata", {}).get(STATUS_KEY, {}))
    worst: dict = next((s for s in statuses if s.get("status", "ok") != "ok"), {})
    result.status = "malformed" if problems and not worst else worst.get("status", "ok")
    result.reason = "; ".join(filter(None, [worst.get("reason", ""), *problems]))
    for status in statuses:
        result.restored += status.get("restored", [])
    for path in sorted(ws.autograded.rglob("*")):
        rel = path.relative_to(ws.autograded).as_posix()
        if path.is_file() and not path.is_symlink() and sources.get(rel) != path.read_bytes():
            result.files[rel] = path.read_bytes()


# The graded kernel's command-line arguments: no history file (nothing of the session is
# written to disk), and the warm numba cache preloaded (beth_course.kernel_boot). The
# benchmarks start their reference kernel with these too.
KERNEL_ARGS = (
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.exec_lines=['import beth_course.kernel_boot']",
)


def autograde_config(ws: _Workspace, slot, run_dir: str, cache: str | None, cgroup=None):
    """nbgrader's configuration for this grading, with our pipeline and limits."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        IgnorePattern,
        LimitOutput,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
    )
    from traitlets.config.loader import PyFileConfigLoader

    from ..inert import MakeInert
    from .restore import RestoreCells

    task = ws.task
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ws.root)).load_config()
    config.CourseDirectory.root = str(ws.root)
    execute = _execute_class(ws, slot, run_dir, cache, cgroup)
    config.Autograde.sanitize_preprocessors = [
        ClearOutput,
        RestoreCells,
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]
    # No AssignLatePenalties: this gradebook has no hand grades, so the coordinator works
    # the penalties out in the course gradebook (beth_course.late).
    config.Autograde.autograde_preprocessors = [
        execute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        CheckCellMetadata,
        MakeInert,
    ]
    config.RestoreCells.cell_orders = dict(task.cell_orders)
    config.OverwriteCells.add_missing_cells = False  # RestoreCells did it
    limits = task.limits
    config.Execute.submission_timeout = limits.submission_timeout
    config.Execute.sandbox_uid = slot.uid if task.sandbox else -1
    config.Execute.cell_output = limits.cell_output
    config.Execute.notebook_output = limits.notebook_output
    config.Execute.extra_arguments = list(KERNEL_ARGS)
    return config


def _execute_class(ws: _Workspace, slot, run_dir: str, cache: str | None, cgroup) -> type:
    from .checking import CheckerProcess, CheckerSpec, checker_env
    from .execute import GuardedExecute
    from .kernel import Box, input_files, kernel_env, manager_for
    from .servers import checker_server

    task = ws.task
    writable = []
    if cache:  # a private copy: the kernel may poison it; the checker has its own
        private = os.path.join(run_dir, "cache")
        shutil.copytree(cache, private, ignore=shutil.ignore_patterns("*.lock"))
        _chown_tree(private, slot.uid, task.sandbox)
        writable.append(private)
    box = Box(
        run_dir=run_dir,
        uid=slot.uid,
        limits=task.limits,
        env=kernel_env(task.limits, writable[0] if writable else None),
        writable=writable,
        sandboxed=task.sandbox,
        cgroup=cgroup,
    )
    km_class = manager_for(box)
    checker = CheckerSpec(
        uid=slot.checker_uid,
        limits=task.limits,
        env=checker_env(task.limits),
        sandboxed=task.sandbox,
    )
    sources = {name: open(path, "rb").read() for name, path in input_files(str(ws.source)).items()}
    mpl = os.path.join(cache, "matplotlib") if cache else None
    server = checker_server(sources, checker, list(task.preload), mpl)

    class Execute(GuardedExecute):
        checker_factory = staticmethod(lambda: CheckerProcess(checker, run_dir, server, cgroup))

        def __init__(self, **kwargs):
            kwargs["kernel_manager_class"] = km_class
            super().__init__(**kwargs)

    return Execute


def _chown_tree(path: str, uid: int, sandboxed: bool) -> None:
    """Give a private folder to the sandbox user (as root; otherwise it is ours already)."""
    if os.geteuid() != 0 or not sandboxed:
        return
    for folder, _, files in os.walk(path):
        os.chown(folder, uid, uid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, uid)
