"""Grading one submission, anywhere: in this process, a process pool or a Dask worker.

``grade_submission`` takes a self-contained :class:`GradingTask` (the submission's files,
a template gradebook, the course configuration) and returns a :class:`GradingResult`
(scores, the autograded notebook, what happened). It runs nbgrader's own ``Autograde``
converter in a private, temporary course directory, with three changes to its pipeline:
:class:`~.restore.RestoreCells` instead of ``DeduplicateIds``, and
:class:`~.execute.GuardedExecute` running the kernel in the sandbox instead of ``Execute``.
Nothing it does touches the course directory; the coordinator merges the result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..course import use_this_environment
from .sandbox import Limits, Slot, chown_tree, kernel_env, kernel_manager_for

# Statuses, worst last: what the report and the summary count.
STATUSES = ("ok", "memory", "timeout", "kernel_died", "malformed", "error")


def hash_files(files: dict[str, bytes]) -> str:
    """One SHA-256 over a submission's file names and contents (to skip what is graded)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


@dataclass
class GradingTask:
    """Everything needed to grade one submission, with no reference to the course folder
    except the optional local paths (set when grading on the instructor's machine)."""

    student: str
    assignment: str
    notebook: str
    submission: dict[str, bytes]
    gradebook: bytes
    config_text: str
    cell_order: list[str]
    limits: Limits
    sandbox: bool = True
    cache_dir: str | None = None
    warm_large: bool = False
    source_dir: str | None = None
    course_root: str | None = None

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
    notebooks: list[dict] = field(default_factory=list)
    timestamp: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    seconds: float = 0.0
    host: str = ""
    submission_sha256: str = ""
    restored: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(g["auto_score"] or 0 for g in self.grades)


def check_notebook(path: Path) -> tuple[str | None, bytes | None]:
    """Return ``(problem, repaired)``: why the file cannot be graded, or a repaired copy."""
    import nbformat
    from nbformat.validator import normalize

    try:
        raw = path.read_bytes()
    except OSError as exc:
        return f"the notebook could not be read: {exc.strerror}", None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"the file is not a notebook (not valid JSON: {exc})", None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return "the file is JSON but not a notebook (no list of cells)", None
    if data.get("nbformat") != 4:
        return f"the notebook is in format version {data.get('nbformat')}; only 4 can be graded", None
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


def _autograde_config(task: GradingTask, root: Path, slot_uid: int, run_dir: str, cache: str | None):
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties, CheckCellMetadata, ClearOutput, IgnorePattern, LimitOutput,
        OverwriteCells, OverwriteKernelspec, SaveAutoGrades,
    )
    from traitlets.config.loader import PyFileConfigLoader

    from .execute import GuardedExecute
    from .restore import RestoreCells

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    limits = task.limits
    km_class = kernel_manager_for(
        task.sandbox,
        run_dir=run_dir,
        uid=slot_uid,
        limits=limits,
        env=kernel_env(limits, cache),
        workdir=str(root),
        course_root=task.course_root,
    )

    class Execute(GuardedExecute):
        def __init__(self, **kwargs):
            kwargs["kernel_manager_class"] = km_class
            super().__init__(**kwargs)

    config.Autograde.sanitize_preprocessors = [
        ClearOutput, RestoreCells, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
    ]
    config.Autograde.autograde_preprocessors = [
        Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
        AssignLatePenalties, CheckCellMetadata,
    ]
    config.RestoreCells.cell_order = list(task.cell_order)
    config.OverwriteCells.add_missing_cells = False  # RestoreCells did it
    config.Execute.submission_timeout = limits.submission_timeout
    config.Execute.sandbox_uid = slot_uid if task.sandbox else -1
    config.Execute.extra_arguments = [
        "--HistoryManager.hist_file=:memory:",
        "--IPKernelApp.exec_lines=['import beth_course.kernel_boot']",
    ]
    return config


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = (folder / name).resolve()
        if not str(target).startswith(str(folder.resolve()) + os.sep):
            raise ValueError(f"refusing a submission file outside its folder: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _failure_reason(lines: list[str], exc: Exception, run_dir: str) -> str:
    """One readable sentence for a grading failure; the whole log stays in the result."""
    generic = ("There was an error processing", "Please see the", "Removing failed")
    specific = [
        line.splitlines()[0]
        for line in lines
        if line.startswith("ERROR") and not any(g in line for g in generic)
    ]
    tail = [line for line in "\n".join(lines).splitlines() if line.strip()][-1:]
    kernel_log = Path(run_dir, "kernel.log")
    if kernel_log.exists():
        tail += [line for line in kernel_log.read_text(errors="replace").splitlines() if line][-2:]
    parts = (specific[:1] or [str(exc)]) + tail
    return " | ".join(dict.fromkeys(p.strip()[:300] for p in parts))


def grade_submission(task: GradingTask, source_files: dict[str, bytes] | None = None) -> GradingResult:
    """Grade one submission in a private temporary course directory (module docstring)."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from sqlalchemy.exc import SAWarning

    from .execute import STATUS_KEY
    from .gradebook import read_results
    from .warmup import ensure_warm

    started = time.monotonic()
    result = GradingResult(
        student=task.student,
        status="error",
        host=f"{socket.gethostname()}:{os.getpid()}",
        submission_sha256=task.submission_sha256,
    )
    work = Path(tempfile.mkdtemp(prefix="beth-grade-"))
    capture = _Capture()
    nb_log = logging.getLogger("traitlets")
    try:
        root = work / "course"
        source = root / "source" / task.assignment
        submitted = root / "submitted" / task.student / task.assignment
        source.mkdir(parents=True)
        submitted.mkdir(parents=True)
        (root / "nbgrader_config.py").write_text(task.config_text)
        (root / "gradebook.db").write_bytes(task.gradebook)
        if source_files is None and task.source_dir:
            source_files = {
                p.name: p.read_bytes()
                for p in Path(task.source_dir).iterdir()
                if p.is_file() and p.suffix != ".ipynb"
            }
        _write_files(source, source_files or {})
        _write_files(submitted, task.submission)

        notebook_path = submitted / f"{task.notebook}.ipynb"
        problem, repaired = check_notebook(notebook_path)
        if problem:
            result.status, result.reason = "malformed", problem
            return result
        if repaired is not None:
            notebook_path.write_bytes(repaired)
            result.restored.append("the notebook's JSON structure was repaired")

        cache = ensure_warm(task.cache_dir, large=task.warm_large)
        use_this_environment()
        with Slot(task.limits.uid_base) as slot:
            run_dir = tempfile.mkdtemp(prefix="bk", dir="/tmp")
            try:
                private_cache = None
                if cache:
                    private_cache = os.path.join(run_dir, "cache")
                    shutil.copytree(cache, private_cache, ignore=shutil.ignore_patterns("*.lock"))
                chown_tree(run_dir, slot.uid)
                config = _autograde_config(task, root, slot.uid, run_dir, private_cache)
                coursedir = CourseDirectory(config=config, root=str(root))
                coursedir.assignment_id = task.assignment
                coursedir.student_id = task.student
                converter = Autograde(coursedir=coursedir, config=config)
                converter.force = True
                converter.create_student = True
                nb_log.addHandler(capture)
                try:
                    with warnings.catch_warnings():
                        # nbgrader's API trips SQLAlchemy autoflush warnings; not ours to fix.
                        warnings.filterwarnings("ignore", category=SAWarning)
                        converter.start()
                except Exception as exc:  # nbgrader reports per-student failures this way
                    result.reason = _failure_reason(capture.lines, exc, run_dir)
                    return result
                finally:
                    nb_log.removeHandler(capture)
            finally:
                shutil.rmtree(run_dir, ignore_errors=True)

        graded = root / "autograded" / task.student / task.assignment
        found = read_results(f"sqlite:///{root / 'gradebook.db'}", task.assignment, task.student)
        result.timestamp = found["timestamp"]
        result.grades, result.comments = found["grades"], found["comments"]
        result.notebooks = found["notebooks"]
        notebook = json.loads((graded / f"{task.notebook}.ipynb").read_text(encoding="utf-8"))
        status = notebook.get("metadata", {}).get(STATUS_KEY, {})
        result.status = status.get("status", "ok")
        result.reason = status.get("reason", "")
        result.restored += status.get("restored", [])
        originals = source_files or {}
        for path in sorted(graded.rglob("*")):
            rel = path.relative_to(graded).as_posix()
            if path.is_file() and originals.get(rel) != path.read_bytes():
                result.files[rel] = path.read_bytes()
        return result
    finally:
        result.log = capture.lines[-50:]
        result.seconds = time.monotonic() - started
        shutil.rmtree(work, ignore_errors=True)
