"""Executing a submission so that no failure of the student's code stops the grading.

nbgrader's ``Execute`` gives up on the whole submission when the kernel dies, and waits out
the cell timeout again for every cell after a kernel that ignores interrupts. Here:

- a dead kernel (killed by a memory or CPU limit, or crashed) ends execution; the cells
  already run keep their results and every later code cell gets an error output saying
  why it was not run, so nbgrader scores them 0 and the feedback says what happened;
- after a cell times out, the kernel must answer within a few seconds or it is treated the
  same way; the whole notebook has a wall-clock budget too;
- after a cell fails, stray processes the cell left behind in the sandbox are killed.

What happened is written to the notebook's metadata under ``beth_grading``.
"""

from __future__ import annotations

import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from traitlets import Float, Integer

from nbgrader.preprocessors import Execute

from .sandbox import kill_user_processes, sandbox_pids

STATUS_KEY = "beth_grading"


def _cell_name(cell, index: int | None = None) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or (
        f"cell {index}" if index is not None else "a cell"
    )


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


class GuardedExecute(Execute):
    """nbgrader's Execute, with dead and runaway kernels contained (see module docstring)."""

    submission_timeout = Integer(900).tag(config=True)
    responsive_timeout = Float(10.0).tag(config=True)
    sandbox_uid = Integer(-1).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._halted: str | None = None
        self._status = {"status": "ok", "reason": "", "cells_run": 0, "slowest_cell": None}
        self._cell_timeout = self.timeout
        self._deadline = time.monotonic() + self.submission_timeout
        self._timings: list[tuple[float, str]] = []
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except DeadKernelError as exc:  # died before or between cells
            self._halt("kernel_died", f"the kernel died: {exc}")
            self._mark_rest(self.nb.cells, 0)
        finally:
            if self._timings:
                seconds, name = max(self._timings)
                self._status["slowest_cell"] = {"cell": name, "seconds": round(seconds, 2)}
            self.nb.metadata.setdefault(STATUS_KEY, {}).update(self._status)
        return self.nb, self.resources

    # -- per cell ------------------------------------------------------------------------
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._halted:
            cell.outputs = [_error_output("NotRun", self._halted)]
            return cell, resources
        remaining = self._deadline - time.monotonic()
        if remaining <= 1:
            self._halt(
                "timeout",
                f"the notebook used up its {self.submission_timeout} s time budget; "
                "later cells were not run",
            )
            cell.outputs = [_error_output("NotRun", self._halted)]
            return cell, resources
        self.timeout = int(min(self._cell_timeout, remaining))
        started = time.monotonic()
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._halt("kernel_died", self._death_reason(cell))
            cell.outputs.append(_error_output("KernelDied", self._halted))
            return cell, resources
        except CellTimeoutError:
            # nbclient gives up this way when the kernel stays busy after the interrupt.
            self._halt("timeout", self._unstoppable(_cell_name(cell, index)))
            cell.outputs.append(_error_output("CellTimeoutError", self._halted))
            return cell, resources
        finally:
            self._status["cells_run"] += 1
            self._timings.append((time.monotonic() - started, _cell_name(cell, index)))
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            self._after_error(cell, errors)
        return cell, resources

    def _after_error(self, cell, errors) -> None:
        names = {e.get("ename") for e in errors}
        if self.sandbox_uid >= 0:
            kill_user_processes(self.sandbox_uid, keep=self._kernel_pids())
        if "MemoryError" in names and self._status["status"] == "ok":
            self._status.update(status="memory", reason=self._memory_reason(cell))
        if "CellTimeoutError" in names:
            name = _cell_name(cell)
            if not self._kernel_answers():
                self._halt("timeout", self._unstoppable(name))
            elif self._status["status"] == "ok":
                self._status.update(
                    status="timeout",
                    reason=f"{name} ran past the {self.timeout} s limit and was interrupted",
                )

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

    def _mark_rest(self, cells, start: int) -> None:
        for cell in cells[start:]:
            if cell.cell_type == "code" and not any(
                o.get("output_type") == "error" for o in cell.get("outputs", [])
            ):
                cell.outputs = [_error_output("NotRun", self._halted)]

    def _kernel_answers(self) -> bool:
        """Whether the kernel replies to a kernel_info request within a few seconds."""
        saved, self.timeout = self.timeout, max(1, int(self.responsive_timeout))
        try:
            return self.wait_for_reply(self.kc.kernel_info()) is not None
        except Exception:  # a dead or broken channel counts as no answer
            return False
        finally:
            self.timeout = saved

    def _kernel_pid_known(self) -> bool:
        provisioner = getattr(self.km, "provisioner", None)
        return bool(provisioner and getattr(provisioner, "process", None))

    def _kernel_pids(self) -> set[int]:
        """The sandbox's own processes that must survive a clean-up: bwrap and the kernel."""
        if not self._kernel_pid_known():
            return set()
        return set(sandbox_pids(self.km.provisioner.process.pid))

    def _death_reason(self, cell) -> str:
        name = _cell_name(cell)
        code = None
        if self._kernel_pid_known():
            code = self.km.provisioner.process.poll()
        hint = ""
        if code is not None:
            signo = -code if code < 0 else code - 128 if code > 128 else None
            hint = {
                9: " (killed: memory exhausted or the process limit's clean-up)",
                24: " (the CPU-time limit of the sandbox was reached)",
                11: " (segmentation fault)",
            }.get(signo, f" (exit status {code})")
        return f"the kernel died while running {name}{hint}; later cells were not run"

    def _memory_reason(self, cell) -> str:
        return f"MemoryError in {_cell_name(cell)}: the submission reached the sandbox's memory limit"
