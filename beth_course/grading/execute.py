"""Executing a submission: the student's cells in their sandboxed kernel, the tests elsewhere.

nbgrader's ``Execute`` runs every cell, tests included, in the student's kernel, and scores
a test by what that kernel printed, so student code can decide its own grade. Here:

- the student's cells and the notebook's locked cells (parameters, imports) run in the
  student's kernel, as in any notebook;
- every test cell, hidden tests included, runs in the *checker* (:mod:`.checker`), a
  process in which no student code ever runs and which evaluates the locked cells itself.
  The test cell's outputs are the checker's, so nbgrader's own scoring (``SaveAutoGrades``)
  reads them; the kernel never receives a test. Values the test reads from the notebook
  are fetched from the kernel as data, at the test cell's turn (:mod:`.capture`);
- a dead kernel (killed by a limit, or crashed) ends execution; later cells get an error
  output saying why they were not run. After a cell times out the kernel must answer
  within a few seconds or it is treated the same way; the notebook has a wall-clock
  budget; stray processes a failing cell left are killed;
- each cell may keep ``cell_output`` bytes of output and the notebook ``notebook_output``;
  the rest is replaced by a note.

What happened is written to the notebook's metadata under :data:`STATUS_KEY`.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode, from_dict
from nbgrader.preprocessors import Execute
from traitlets import Float, Integer

from .checker import bound_names, changed_student_names
from .checking import CheckerProcess, error_output
from .slots import kill_user_processes
from .status import STATUS_KEY

_B64_TEXT = re.compile(r"^'([A-Za-z0-9+/]*={0,2})'$")


def cell_name(cell, index: int | None = None) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or (
        f"cell {index}" if index is not None else "a cell"
    )


def cell_role(cell) -> str:
    """``test`` (run by the checker), ``kernel_test`` (a test that changes the student's
    variables, run in their kernel as nbgrader does), ``locked`` (run on both sides),
    ``student`` or ``other`` (not code)."""
    meta = cell.metadata.get("nbgrader", {})
    if cell.cell_type != "code":
        return "other"
    if meta.get("grade") and not meta.get("solution"):
        return "kernel_test" if changed_student_names(cell.source) else "test"
    if meta.get("locked") and not meta.get("solution"):
        return "locked"
    return "student"


def locked_names(nb) -> set[str]:
    """Names bound by the notebook's locked cells (parameters, imports)."""
    import ast

    names: set[str] = set()
    for cell in nb.cells:
        if cell_role(cell) == "locked":
            try:
                names |= bound_names(ast.parse(cell.source))
            except SyntaxError:
                continue
    return names


def _error(ename: str, evalue: str) -> NotebookNode:
    return from_dict(error_output(ename, evalue))


def _scores_zero(out) -> bool:
    """Whether nbgrader gives a test cell 0 for this output (an error, or text on stderr)."""
    return out.get("output_type") == "error" or (
        out.get("output_type") == "stream" and out.get("name") == "stderr"
    )


def _shortened(out) -> NotebookNode:
    note = " ... (not kept: over the grader's output limit)"
    if out.get("output_type") == "error":
        return _error(
            str(out.get("ename", "Error"))[:200], str(out.get("evalue", ""))[:1000] + note
        )
    return from_dict(
        {"output_type": "stream", "name": "stderr", "text": str(out.get("text", ""))[:1000] + note}
    )


def output_size(out) -> int:
    """Bytes an output takes in the notebook (text, and each data representation)."""
    size = len(out.get("text", "") or "") + sum(len(t) for t in out.get("traceback", []) or [])
    size += len(str(out.get("evalue", "") or "")) + len(str(out.get("ename", "") or ""))
    for value in (out.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(json.dumps(value))
    return size


class GuardedExecute(Execute):
    """nbgrader's Execute with tests run by the checker and failures contained."""

    submission_timeout = Integer(900).tag(config=True)
    responsive_timeout = Float(10.0).tag(config=True)
    sandbox_uid = Integer(-1).tag(config=True)
    cell_output = Integer(4 * 2**20).tag(config=True)
    notebook_output = Integer(32 * 2**20).tag(config=True)

    # Set on the per-submission subclass (grading.worker): () -> CheckerProcess.
    checker_factory: Callable[[], CheckerProcess] | None = None

    def preprocess(self, nb, resources=None, km=None):
        self._halted: str | None = None
        self._status = {"status": "ok", "reason": "", "cells_run": 0, "slowest_cell": None}
        self._cell_timeout = self.timeout
        self._deadline = time.monotonic() + self.submission_timeout
        self._timings: list[tuple[float, str]] = []
        self._output_bytes = {"notebook": 0}
        self.checker = self.checker_factory()
        started = time.monotonic()
        self.checker.start()
        self.checker.reserve(locked_names(nb))
        self._status["checker_seconds"] = round(time.monotonic() - started, 3)
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except DeadKernelError:  # died before or between cells
            self._halt(*self._death(None))
            self._mark_rest(self.nb.cells)
        finally:
            self.checker.close()
            if self._timings:
                seconds, name = max(self._timings)
                self._status["slowest_cell"] = {"cell": name, "seconds": round(seconds, 2)}
            self.nb.metadata.setdefault(STATUS_KEY, {}).update(self._status)
        return self.nb, self.resources

    # -- per cell ------------------------------------------------------------------------
    def preprocess_cell(self, cell, resources, index):
        role = cell_role(cell)
        if role == "other":
            return cell, resources
        if self._halted:
            cell.outputs = [_error("NotRun", self._halted)]
            return cell, resources
        remaining = self._deadline - time.monotonic()
        if remaining <= 1:
            self._halt(
                "timeout",
                f"the notebook used up its {self.submission_timeout} s time "
                "budget; later cells were not run",
            )
            cell.outputs = [_error("NotRun", self._halted)]
            return cell, resources
        self.timeout = int(min(self._cell_timeout, remaining))
        started = time.monotonic()
        try:
            if role == "test":
                cell.outputs = []
                for out in self._check(cell, index):
                    self._keep(cell.outputs, from_dict(out), index)
                return cell, resources
            if role == "kernel_test":
                self._status.setdefault("tests_in_kernel", []).append(cell_name(cell, index))
            cell, resources = self._run_in_kernel(cell, resources, index)
            if role == "locked" and not self._halted:
                self._check(cell, index)  # the checker evaluates it too; outputs are the kernel's
            return cell, resources
        finally:
            self._status["cells_run"] += 1
            self._timings.append((time.monotonic() - started, cell_name(cell, index)))

    def _run_in_kernel(self, cell, resources, index):
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._halt(*self._death(cell))
            cell.outputs.append(_error("KernelDied", self._halted))
            return cell, resources
        except CellTimeoutError:
            # nbclient gives up this way when the kernel stays busy after the interrupt.
            self._halt("timeout", self._unstoppable(cell_name(cell, index)))
            cell.outputs.append(_error("CellTimeoutError", self._halted))
            return cell, resources
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            self._after_error(cell, errors)
        return cell, resources

    def _check(self, cell, index) -> list[dict]:
        started = time.monotonic()
        outputs = self.checker.run(cell.source, cell_name(cell, index), self, float(self.timeout))
        seconds = time.monotonic() - started
        self._status["checker_seconds"] = round(self._status["checker_seconds"] + seconds, 3)
        self._status.setdefault("checker_cells", {})[cell_name(cell, index)] = round(seconds, 3)
        if self.checker.failure and self._status["status"] not in ("error", "memory"):
            self._status.update(**self._checker_failure(cell))
        return outputs

    def _memory_exceeded(self) -> bool:
        """Whether the submission's memory limit stopped one of its processes (a plain
        kernel manager, without the sandbox, cannot tell: no)."""
        return getattr(self.km, "memory_exceeded", lambda: False)()

    def _checker_failure(self, cell) -> dict[str, str]:
        """Status and reason for a checker that stopped: ``memory`` when the submission's
        memory limit stopped it (the checker counts against the submission), else ``error``."""
        if self._memory_exceeded():
            return {
                "status": "memory",
                "reason": "the submission's processes together (the checker of its tests "
                "included) used more than its memory limit; the checker was stopped, which "
                f"{cell_name(cell)} found",
            }
        return {"status": "error", "reason": self.checker.failure or ""}

    def _after_error(self, cell, errors) -> None:
        names = {e.get("ename") for e in errors}
        if self.sandbox_uid >= 0:
            kill_user_processes(self.sandbox_uid, keep=set(self.km.sandbox_pids()))
        if "MemoryError" in names and self._status["status"] == "ok":
            self._status.update(status="memory", reason=self._memory_reason(cell))
        if "CellTimeoutError" in names:
            name = cell_name(cell)
            if not self._kernel_answers():
                self._halt("timeout", self._unstoppable(name))
            elif self._status["status"] == "ok":
                self._status.update(
                    status="timeout",
                    reason=f"{name} ran past the {self.timeout} s limit and was interrupted",
                )

    # -- the bridge the checker reads the notebook through ---------------------------------
    def fetch(self, names: list[str]) -> bytes:
        """The notebook's values of ``names``, as a :mod:`.wire` container."""
        return self._expression(
            f"__import__('beth_course.grading.capture', fromlist=['fetch']).fetch({names!r})",
            what="the values of " + ", ".join(names),
        )

    def call(self, name: str, arguments: bytes) -> bytes:
        """Call the notebook's function ``name`` (arguments and result as containers)."""
        encoded = base64.b64encode(arguments).decode("ascii")
        return self._expression(
            f"__import__('beth_course.grading.capture', fromlist=['call']).call({name!r}, {encoded!r})",
            what=f"a call of {name}",
        )

    def _expression(self, expression: str, what: str) -> bytes:
        if self._halted:
            raise RuntimeError(f"{what} could not be read: {self._halted}")
        try:
            text = run_sync(self._async_expression)(expression, float(self.timeout))
        except TimeoutError:
            run_sync(self.km.interrupt_kernel)()
            raise RuntimeError(f"{what} did not come back within {self.timeout} s") from None
        match = _B64_TEXT.match(text)
        if not match:
            raise RuntimeError(f"{what} came back in a form the grader does not read")
        return base64.b64decode(match.group(1))

    async def _async_expression(self, expression: str, timeout: float) -> str:
        """Evaluate ``expression`` as a user expression in the kernel; its text/plain."""
        msg_id = self.kc.execute(
            "",
            silent=True,
            store_history=False,
            allow_stdin=False,
            user_expressions={"v": expression},
            stop_on_error=False,
        )
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                reply = await self.kc.get_shell_msg(timeout=remaining)
            except Exception:  # queue.Empty: nothing within the time left
                raise TimeoutError from None
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
        result = reply.get("content", {}).get("user_expressions", {}).get("v", {})
        if result.get("status") != "ok":
            raise RuntimeError(
                f"{result.get('ename', 'error')}: {str(result.get('evalue', ''))[:300]}"
            )
        return str(result.get("data", {}).get("text/plain", ""))

    # -- output caps -----------------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or not outs or outs[-1] is not out:
            return out
        outs.pop()
        return out if self._keep(outs, out, cell_index) else None

    def _keep(self, outs, out, cell_index) -> bool:
        """Append ``out`` if the cell's and the notebook's output budgets allow; else a note
        (once per cell). Whether it was kept."""
        size = output_size(out)
        used = self._output_bytes.get(cell_index, 0)
        total = self._output_bytes["notebook"]
        if used + size > self.cell_output or total + size > self.notebook_output:
            if _scores_zero(out):  # shortened, never dropped: dropping it would pass a test
                outs.append(_shortened(out))
                return True
            if not self._output_bytes.get(f"noted-{cell_index}"):
                outs.append(
                    from_dict(
                        {
                            "output_type": "stream",
                            "name": "stdout",
                            "text": f"[output not kept: over the grader's limit of {self.cell_output:,} bytes "
                            f"per cell or {self.notebook_output:,} per notebook]\n",
                        }
                    )
                )
                self._output_bytes[f"noted-{cell_index}"] = 1
            return False
        outs.append(out)
        self._output_bytes[cell_index] = used + size
        self._output_bytes["notebook"] = total + size
        return True

    def _update_display_id(self, display_id, msg):
        if output_size(msg.get("content", {})) > self.cell_output:
            return  # an update past the cap would grow an output already kept
        super()._update_display_id(display_id, msg)

    # -- helpers -------------------------------------------------------------------------
    def _unstoppable(self, name: str) -> str:
        return (
            f"{name} ran past the {self.timeout} s limit and the kernel did not stop when "
            "interrupted; later cells were not run"
        )

    def _halt(self, status: str, reason: str) -> None:
        if not self._halted:
            self._halted = reason
            self._status.update(status=status, reason=reason)

    def _mark_rest(self, cells) -> None:
        for cell in cells:
            if cell.cell_type == "code" and not any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])
            ):
                cell.outputs = [_error("NotRun", self._halted or "")]

    def _kernel_answers(self) -> bool:
        """Whether the kernel replies to a kernel_info request within a few seconds."""
        saved, self.timeout = self.timeout, max(1, int(self.responsive_timeout))
        try:
            return self.wait_for_reply(self.kc.kernel_info()) is not None
        except Exception:  # a dead or broken channel counts as no answer
            return False
        finally:
            self.timeout = saved

    def _death(self, cell) -> tuple[str, str]:
        """``(status, reason)`` for a kernel that died while running ``cell``."""
        name = cell_name(cell) if cell is not None else "start-up"
        if self._memory_exceeded():
            return "memory", (
                f"the submission's processes together used more than its memory "
                f"limit while running {name}; later cells were not run"
            )
        code = None
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None:
            code = process.poll()
        hint = ""
        if code is not None:
            signo = -code if code < 0 else code - 128 if code > 128 else None
            hint = {
                9: " (killed: memory exhausted or the process limit's clean-up)",
                24: " (the CPU-time limit of the sandbox was reached)",
                11: " (segmentation fault)",
            }.get(signo or 0, f" (exit status {code})")
        return (
            "kernel_died",
            f"the kernel died while running {name}{hint}; later cells were not run",
        )

    def _memory_reason(self, cell) -> str:
        return (
            f"MemoryError in {cell_name(cell)}: the submission reached the sandbox's memory limit"
        )
