"""Put a tampered submission back into the shape of the assignment before it runs.

Students duplicate cells, delete test cells, change cell types and kernels, or edit the
locked test cells. nbgrader's own repair (``DeduplicateIds``, ``OverwriteCells`` with
``add_missing_cells``) covers part of this, and its re-insertion of deleted cells fails with
a ``KeyError`` when the cell before a deleted one is itself missing or is a locked cell that
is neither a solution nor a test (jupyter/nbgrader#1682 and its follow-ups). This
preprocessor replaces ``DeduplicateIds`` and does the whole job in one pass, so that a
submission earns exactly what its solutions earn with the original tests:

- every locked cell the gradebook knows (tests, instructions) is replaced by the original,
  hidden tests included, whatever the student did to it;
- of several copies of a solution cell, the last one the student answered is kept as the
  graded one; other copies stay as ordinary cells (the student's code still runs);
  duplicated locked cells are dropped;
- cells whose grade id the gradebook does not know lose their nbgrader metadata;
- missing cells are put back after the nearest cell that precedes them in the assignment
  (a missing solution cell comes back as the unanswered stub).

Cell types and the kernelspec are then set right by nbgrader's ``OverwriteCells`` and
``OverwriteKernelspec``, which run next.
"""

from __future__ import annotations

import copy

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict

from .status import STATUS_KEY


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _edited(cell) -> bool:
    """Whether a released locked cell no longer matches the checksum the release gave it.

    (The gradebook's copy of a test cell always differs from the release's by its hidden
    tests, so comparing with it would call every cell edited.)
    """
    from nbgrader.utils import compute_checksum

    recorded = cell.metadata.get("nbgrader", {}).get("checksum")
    return recorded is None or compute_checksum(cell) != recorded


class RestoreCells(NbGraderPreprocessor):
    """Rebuild the graded structure of a submission from the gradebook (module docstring)."""

    # Per notebook, the assignment's grade ids in release order; set by the grading worker.
    cell_orders = Dict({}).tag(config=True)

    def preprocess(self, nb, resources):
        notebook_id = resources["nbgrader"]["notebook"]
        assignment_id = resources["nbgrader"]["assignment"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            notebook = gb.find_notebook(notebook_id, assignment_id)
            originals = {}
            points = {c.name: c.max_score for c in notebook.grade_cells}
            points.update({c.name: c.max_score for c in notebook.task_cells})
            solutions = {c.name for c in notebook.solution_cells}
            tasks = {c.name for c in notebook.task_cells}
            for cell in notebook.source_cells:
                originals[cell.name] = self._original(cell, points, solutions, tasks)
        changes: list[str] = []
        self.cell_order = list(self.cell_orders.get(notebook_id, []))
        nb.cells = self._rebuild(nb, originals, solutions, changes)
        # Whatever the student's file carried under this key is not ours: start afresh.
        nb.metadata[STATUS_KEY] = {"restored": changes} if changes else {}
        if changes:
            self.log.warning("Restored the assignment's structure: %s", "; ".join(changes))
        return nb, resources

    # ------------------------------------------------------------------------------------
    def _original(self, source_cell, points, solutions, tasks) -> NotebookNode:
        name = source_cell.name
        meta = {
            "grade": name in points and name not in tasks,
            "grade_id": name,
            "locked": bool(source_cell.locked),
            "schema_version": 3,
            "solution": name in solutions,
            "checksum": source_cell.checksum,
            "cell_type": source_cell.cell_type,
        }
        if name in tasks:
            meta["task"] = True
        if name in points:
            meta["points"] = points[name]
        make = new_code_cell if source_cell.cell_type == "code" else new_markdown_cell
        cell = make(source_cell.source)
        cell.metadata["nbgrader"] = meta
        if source_cell.locked:
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        return cell

    def _rebuild(self, nb, originals, solutions, changes) -> list:
        self._recognise_unmarked(nb, originals, solutions, changes)
        positions: dict[str, list[int]] = {}
        for index, cell in enumerate(nb.cells):
            gid = _grade_id(cell)
            if gid is not None and gid in originals:
                positions.setdefault(gid, []).append(index)
        keep = {}
        for gid, indices in positions.items():
            if gid in solutions:
                stub = originals[gid].source.strip()
                answered = [i for i in indices if nb.cells[i].source.strip() != stub]
                keep[gid] = (answered or indices)[-1]
            else:
                keep[gid] = indices[-1]
            if len(indices) > 1:
                changes.append(f"{gid} appeared {len(indices)} times")

        cells = []
        for index, cell in enumerate(nb.cells):
            gid = _grade_id(cell)
            if gid is None:
                if "nbgrader" in cell.get("metadata", {}):
                    del cell.metadata["nbgrader"]
                cells.append(cell)
            elif gid not in originals:
                changes.append(f"unknown grade id {gid!r} made an ordinary cell")
                del cell.metadata["nbgrader"]
                cells.append(cell)
            elif keep[gid] != index:
                if gid in solutions:
                    del cell.metadata["nbgrader"]
                    cells.append(cell)  # an extra copy of the student's own code
            elif gid in solutions:
                cells.append(self._answer(originals[gid], cell, nb, changes))
            else:
                original = originals[gid]
                if cell.cell_type != original.cell_type or _edited(cell):
                    changes.append(f"{gid} was edited and was restored")
                cells.append(self._with_id(original, cell.get("id"), nb))

        present = {gid for gid in map(_grade_id, cells) if gid is not None}
        order = [gid for gid in self.cell_order if gid in originals]
        order += sorted(set(originals) - set(order))
        cells = self._reorder(cells, order, changes)
        for k, gid in enumerate(order):
            if gid in present:
                continue
            anchor = next((order[j] for j in range(k - 1, -1, -1) if order[j] in present), None)
            start = 0
            if anchor is not None:
                start = next(i for i, c in enumerate(cells) if _grade_id(c) == anchor) + 1
            # After the student's own cells that follow the anchor, before the next known
            # cell: where the assignment had it, relative to what the student kept.
            at = next(
                (i for i in range(start, len(cells)) if _grade_id(cells[i]) in present), len(cells)
            )
            cells.insert(at, self._with_id(originals[gid], None, nb, used=cells))
            present.add(gid)
            changes.append(f"{gid} was missing and was put back")
        return cells

    @staticmethod
    def _reorder(cells, order, changes) -> list:
        """The assignment's cells back in its order; a student's own cells move with the
        assignment cell they follow. (A locked cell moved after the tests would otherwise
        let the student's values stand in for it when the tests run.)"""
        rank = {gid: i for i, gid in enumerate(order)}
        segments: list[tuple[int, list]] = [(-1, [])]
        for cell in cells:
            gid = _grade_id(cell)
            if gid in rank:
                segments.append((rank[gid], [cell]))
            else:
                segments[-1][1].append(cell)
        ranks = [r for r, _ in segments]
        if ranks != sorted(ranks):
            changes.append("cells were moved back into the assignment's order")
            segments.sort(key=lambda segment: segment[0])
        return [cell for _, part in segments for cell in part]

    def _recognise_unmarked(self, nb, originals, solutions, changes) -> None:
        """Unmarked cells whose text is exactly a locked cell's get that cell's identity.

        Pasting cells into a new notebook (Colab's "copy to a new notebook", say) drops
        their nbgrader metadata; instructions and unchanged tests can still be recognised
        by their text, which places the cells that must be put back.
        """
        by_text = {
            (o.cell_type, o.source.strip()): gid
            for gid, o in originals.items()
            if gid not in solutions and o.metadata["nbgrader"]["locked"]
        }
        found = set()
        for cell in nb.cells:
            if _grade_id(cell) is not None:
                continue
            gid = by_text.get((cell.cell_type, cell.source.strip()))
            if gid and gid not in found:
                cell.metadata["nbgrader"] = dict(originals[gid].metadata["nbgrader"])
                found.add(gid)
        if found:
            changes.append(f"{len(found)} cells without nbgrader metadata recognised by their text")

    def _answer(self, original, cell, nb, changes) -> NotebookNode:
        """The student's answer, under the assignment's own metadata and cell type.

        Only the source is the student's: a solution cell whose flags were edited (made a
        test, or not a solution) would otherwise be run or scored as something else.
        """
        meta = original.metadata["nbgrader"]
        if cell.cell_type != original.cell_type or cell.metadata.get("nbgrader") != meta:
            if any(
                cell.metadata.get("nbgrader", {}).get(k) != meta.get(k)
                for k in ("grade", "solution", "locked", "points", "task")
            ):
                changes.append(f"{_grade_id(original)}'s flags were edited and were restored")
            answer = self._with_id(original, cell.get("id"), nb)
            answer.source = cell.source
            return answer
        return cell

    @staticmethod
    def _with_id(original, cell_id, nb, used=()) -> NotebookNode:
        """A fresh copy of ``original``, with a cell id only where the format has them."""
        cell = copy.deepcopy(original)
        if nb.get("nbformat_minor", 0) >= 5:
            wanted = cell_id or str(_grade_id(original)).replace("_", "-")
            taken = {c.get("id") for c in used}
            while wanted in taken:
                wanted += "-r"
            cell["id"] = wanted
        else:
            cell.pop("id", None)
        return cell
