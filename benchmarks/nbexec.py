"""Execute one notebook top to bottom with nbclient in a fresh kernel, timing every cell.

    python benchmarks/nbexec.py NOTEBOOK --cwd FOLDER [--json OUT] [--kernel-arg ARG ...]

The benchmarks run this as a child process, with the environment they want the kernel to
have (``NUMBA_CACHE_DIR``, thread counts, ...): the kernel inherits it. It prints (and
writes to ``--json``) one JSON object:

- ``kernel_start_s``: from asking nbclient for a kernel to the kernel answering;
- ``cells``: for each code cell, its name (nbgrader ``grade_id``, else the ``bench.id``
  metadata the seed notebook carries, else ``cell <index>``), seconds, and whether it raised
  or wrote to stderr;
- ``cells_s``: the sum of the cells; ``shutdown_s``: stopping the kernel;
- ``total_s``: kernel start + cells + shutdown, what one execution of the notebook costs.

Exit status 0 when every cell ran without an error, 2 when some cell raised (the JSON still
comes out, so the caller can say which), 1 when the execution itself failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def cell_name(cell, index: int) -> str:
    meta = cell.get("metadata", {})
    return (
        meta.get("nbgrader", {}).get("grade_id")
        or meta.get("bench", {}).get("id")
        or f"cell {index}"
    )


def execute(notebook: Path, cwd: Path, kernel_args: list[str], timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(notebook), as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        extra_arguments=list(kernel_args),
        allow_errors=True,  # record a failing cell and go on, so every cell is timed
    )
    cells = []
    t0 = time.perf_counter()
    with client.setup_kernel():
        ready = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            started = time.perf_counter()
            client.execute_cell(cell, index)
            seconds = time.perf_counter() - started
            outputs = cell.get("outputs", [])
            errors = [
                f"{o.get('ename')}: {o.get('evalue')}"[:300]
                for o in outputs
                if o.get("output_type") == "error"
            ]
            cells.append(
                {
                    "index": index,
                    "name": cell_name(cell, index),
                    "seconds": seconds,
                    "error": errors[0] if errors else None,
                    "stderr": any(
                        o.get("output_type") == "stream" and o.get("name") == "stderr"
                        for o in outputs
                    ),
                }
            )
        cells_done = time.perf_counter()
    end = time.perf_counter()
    return {
        "notebook": str(notebook),
        "kernel_start_s": ready - t0,
        "cells": cells,
        "cells_s": sum(c["seconds"] for c in cells),
        "shutdown_s": end - cells_done,
        "total_s": end - t0,
        "errors": [f"{c['name']}: {c['error']}" for c in cells if c["error"]],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--cwd", type=Path, required=True, help="the kernel's working folder")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument(
        "--kernel-arg",
        action="append",
        default=[],
        help="extra argument for the kernel (repeatable)",
    )
    parser.add_argument("--timeout", type=int, default=3600, help="per-cell timeout, s")
    args = parser.parse_args(argv)
    try:
        result = execute(args.notebook, args.cwd, args.kernel_arg, args.timeout)
    except Exception as exc:  # report, with the cell that broke, to the caller
        print(f"nbexec: {type(exc).__name__}: {exc}"[:3000], file=sys.stderr)
        return 1
    text = json.dumps(result)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 2 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
