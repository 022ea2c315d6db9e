"""Notebook hygiene: normalised metadata, and finding solution or hidden-test text."""

from __future__ import annotations

from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Cell metadata worth keeping: nbgrader's, Jupyter's lock flags and tags. Everything else
# (Colab's ids, collapsed/scrolled state, execution timing) is dropped.
_CELL_KEYS = ("nbgrader", "deletable", "editable", "tags")

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MARKERS = (SOLUTION_BEGIN, SOLUTION_END, HIDDEN_BEGIN, HIDDEN_END)
# Shorter lines ("else:", ")") are too common to say anything about a leak.
_MIN_SECRET_CHARS = 12


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write ``nb`` the way nbformat does, newline-terminated, only if it changed."""
    text = nbformat.writes(nb) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def normalize(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Clear outputs and volatile metadata; return the notebook and how many outputs went.

    Keeps every cell's source and its nbgrader metadata; sets one kernelspec; gives cells
    without an id a stable one. Works in place and returns ``nb``.
    """
    cleared = 0
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.NotebookNode(
        kernelspec=nbformat.NotebookNode(KERNELSPEC),
        language_info=nbformat.NotebookNode(name="python"),
    )
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell.metadata = nbformat.NotebookNode(
            {k: cell.metadata[k] for k in _CELL_KEYS if k in cell.metadata}
        )
        if cell.cell_type == "code":
            cleared += len(cell.get("outputs", []))
            cell.outputs = []
            cell.execution_count = None
        if "attachments" in cell and not cell.attachments:
            del cell["attachments"]
        cell_id = cell.get("id")
        if not cell_id or cell_id in seen:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            cell_id = (grade_id or f"cell-{index:02d}").replace("_", "-")
            while cell_id in seen:
                cell_id += "-x"
            cell.id = cell_id
        seen.add(cell.id)
    return nb, cleared


def secret_lines(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """Lines of solutions and hidden tests that appear nowhere else in the source notebook.

    Returns ``{stripped line: "solution" | "hidden test"}``. A line that also appears,
    whole or inside a longer line, outside those regions (an instruction quoting the
    expected call, say) is public and left out.
    """
    secret: dict[str, str] = {}
    public: list[str] = []
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("solution"):
            # A written answer's model text is wholly secret.
            for line in cell.source.splitlines():
                if len(line.strip()) >= _MIN_SECRET_CHARS:
                    secret.setdefault(line.strip(), "solution")
            continue
        inside: str | None = None
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped in (SOLUTION_BEGIN, HIDDEN_BEGIN):
                inside = "solution" if stripped == SOLUTION_BEGIN else "hidden test"
            elif stripped in (SOLUTION_END, HIDDEN_END):
                inside = None
            elif inside:
                if len(stripped) >= _MIN_SECRET_CHARS:
                    secret.setdefault(stripped, inside)
            else:
                public.append(line)
    public_text = "\n".join(public)
    return {line: kind for line, kind in secret.items() if line not in public_text}


def dictated_lines(
    source_nb: nbformat.NotebookNode, release_nb: nbformat.NotebookNode
) -> list[str]:
    """Solution lines that the released notebook spells out anyway (in a task's text, a
    comment or a test's message), so a student could copy their own instructions."""
    solution: set[str] = set()
    for cell in source_nb.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped in (SOLUTION_BEGIN, SOLUTION_END):
                inside = stripped == SOLUTION_BEGIN
            elif inside and len(stripped) >= _MIN_SECRET_CHARS:
                solution.add(stripped)
    text = "\n".join(cell.source for cell in release_nb.cells)
    return sorted(line for line in solution if line in text)


def find_leaks(text: str, secrets: dict[str, str]) -> list[tuple[str, str]]:
    """``(kind, line)`` for each secret line found in ``text``, and any leftover marker."""
    leaks = [(kind, line) for line, kind in secrets.items() if line in text]
    leaks += [("marker", m) for m in MARKERS if m in text]
    return leaks


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """Every source and every text output of a notebook, as one string."""
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            if "text" in output:
                parts.append(output["text"])
            for value in output.get("data", {}).values():
                if isinstance(value, str):
                    parts.append(value)
            parts.extend(output.get("traceback", []))
    return "\n".join(parts)
