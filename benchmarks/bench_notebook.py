"""Benchmark 1: the student notebook, top to bottom with correct answers, per cell.

    python benchmarks/run_all.py --parts 1 [--repeats 3]

Three notebooks (four runs), each executed with nbclient (``nbexec.py``) in a fresh kernel in a temporary
copy of its folder:

  A  the course's notebook (the instructor's source notebook, which holds correct
     solutions) with its default sample sizes (UMAP_SAMPLE_SIZE=1_000,
     FOREST_SAMPLE_SIZE=500) on the shipped data, source/beth_workshop/data.csv;
  B  the same notebook with the seed's sizes (25,000 rows for UMAP and for the
     IsolationForest, written into the parameters cell of the copy) on a DERIVED data.csv
     (``common.derived_csv``: 100,000 rows, 50% evil, resampled with replacement from the
     6,791 real rows with a fixed seed);
  C  the seed workshop's code as written, RECONSTRUCTED (``seed_notebook.py`` from
     ``seed_workshop.py``), on that same derived file;
  D  A again, with numba's cache warm (see below).

The source notebook runs its hidden tests too (as at grading); a student's copy has the
visible half of each test cell. Rounds run A, B, C, D in turn; B/C is paired by round.

numba: COLD in A, B and C: each kernel gets a fresh, empty NUMBA_CACHE_DIR (a student's
first run on a fresh machine or Colab runtime), so all three compile pynndescent's and
UMAP's code. D runs A's notebook with a NUMBA_CACHE_DIR filled by one untimed run of it
before the rounds (a student's second kernel on the same machine): the numba functions
that ask for ``cache=True`` load from it, umap's others still compile. With ``smoke=True``
every run uses numba's own default cache and loads ``beth_course.kernel_boot`` (so umap's
functions are cached too), and B and D, which would then repeat A (``SMOKE_SKIPS``), are not
run (quick, not figures to quote).
matplotlib's font cache is warm (built once, before the rounds). The kernel's environment is
otherwise this process's (all cores, no thread limits): a student's kernel.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from common import (
    PYTHON,
    REPO,
    child_env,
    derived_csv,
    execute_notebook,
    fmt,
    kernel_boot_ipython_dir,
    run_timed,
    stats,
)

ASSIGNMENT = "beth_workshop"
SOURCE = REPO / "source" / ASSIGNMENT
VARIANTS = {
    "A": "course notebook, default sizes, shipped data",
    "B": "course notebook, seed sizes, derived data",
    "C": "seed notebook (reconstruction), derived data",
    "D": "as A, numba cache warm",
}
NOTEBOOK_OF = {"A": "A", "B": "B", "C": "C", "D": "A"}
# A smoke run runs each path once: with its sizes (1,000 and 500, A's own) B is A's notebook on
# other rows, and with numba's default cache D is A again.
SMOKE_SKIPS = ("B", "D")


def _set_parameters(nb, umap_n: int, forest_n: int) -> None:
    cell = next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "parameters"
    )
    source = cell.source
    for name, value in (("UMAP_SAMPLE_SIZE", umap_n), ("FOREST_SAMPLE_SIZE", forest_n)):
        source, count = re.subn(rf"(?m)^({name}\s*=\s*)[0-9_]+", rf"\g<1>{value:_}", source)
        if count != 1:
            raise RuntimeError(f"no line '{name} = ...' in the parameters cell to rewrite")
    cell.source = source


def prepare(work: Path, derived_rows: int, umap_n: int, forest_n: int, log) -> dict:
    import nbformat
    from seed_notebook import build as build_seed

    nbs = work / "notebooks"
    nbs.mkdir(parents=True, exist_ok=True)
    log(f"part 1: derived data.csv, {derived_rows:,} rows")
    data, meta = derived_csv(work, rows=derived_rows)
    course_nb = nbformat.read(str(SOURCE / f"{ASSIGNMENT}.ipynb"), as_version=4)
    nbformat.write(course_nb, str(nbs / "A.ipynb"))
    _set_parameters(course_nb, umap_n, forest_n)
    nbformat.write(course_nb, str(nbs / "B.ipynb"))
    nbformat.write(build_seed(umap_n, forest_n), str(nbs / "C.ipynb"))
    mpl = work / "caches" / "matplotlib-p1"
    mpl.mkdir(parents=True, exist_ok=True)
    run_timed([PYTHON, "-c", "import matplotlib.pyplot"], env=child_env(MPLCONFIGDIR=str(mpl)))
    return {
        "notebooks": {k: str(nbs / f"{k}.ipynb") for k in ("A", "B", "C")},
        "data": {
            "A": str(SOURCE / "data.csv"),
            "B": str(data),
            "C": str(data),
            "D": str(SOURCE / "data.csv"),
        },
        "derived": meta,
        "umap_n": umap_n,
        "forest_n": forest_n,
        "mpl": str(mpl),
    }


def run_one(key: str, session: dict, run_dir: Path, numba_dir: Path | None) -> dict:
    """Execute variant ``key`` once; ``numba_dir`` None (smoke runs): numba's own default
    cache, with ``beth_course.kernel_boot`` loaded (``session["ipython_dir"]``)."""
    folder = run_dir / ASSIGNMENT
    folder.mkdir(parents=True)
    nb = folder / f"{ASSIGNMENT}.ipynb"
    shutil.copy2(session["notebooks"][NOTEBOOK_OF[key]], nb)
    shutil.copy2(session["data"][key], folder / "data.csv")
    cache = {"NUMBA_CACHE_DIR": str(numba_dir)} if numba_dir else {}
    if numba_dir is None:
        cache["IPYTHONDIR"] = session["ipython_dir"]
    env = child_env(MPLCONFIGDIR=session["mpl"], **cache)
    result = execute_notebook(nb, folder, env, run_dir / f"{key}.json")
    shutil.rmtree(folder, ignore_errors=True)
    return result


def run(
    work: Path, repeats: int, derived_rows: int, umap_n: int, forest_n: int, smoke: bool, log
) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    session = prepare(work, derived_rows, umap_n, forest_n, log)
    session["ipython_dir"] = str(kernel_boot_ipython_dir(work)) if smoke else None
    warm = work / "caches" / "numba-p1-warm"
    shutil.rmtree(warm, ignore_errors=True)
    warm.mkdir(parents=True)
    if not smoke:
        log("part 1: filling numba's cache for D: one untimed run of A's notebook")
        d = work / "runs" / "warm-up"
        shutil.rmtree(d, ignore_errors=True)
        run_one("A", session, d, warm)
        shutil.rmtree(d, ignore_errors=True)
    rounds = []
    for r in range(repeats):
        results = {}
        for key in [k for k in VARIANTS if not (smoke and k in SMOKE_SKIPS)]:
            run_dir = work / "runs" / f"p1-round{r + 1}-{key}"
            shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(parents=True)
            if smoke:
                numba_dir = None
            elif key == "D":
                numba_dir = warm
            else:
                numba_dir = run_dir / "numba-cache"  # cold: fresh and empty
                numba_dir.mkdir()
            log(f"part 1: round {r + 1} of {repeats}: {key} ({VARIANTS[key]})")
            results[key] = run_one(key, session, run_dir, numba_dir)
            log(f"  {results[key]['total_s']:.1f} s")
            shutil.rmtree(run_dir, ignore_errors=True)
        rounds.append(results)
    return {"session": session, "rounds": rounds, "repeats": repeats, "smoke": smoke}


def _cell_order(rounds) -> list[str]:
    """Cells of A in order, with cells only C has inserted after their predecessor."""
    order = [c["name"] for c in rounds[0]["A"]["cells"]]
    previous = None
    for c in rounds[0]["C"]["cells"]:
        if c["name"] not in order:
            order.insert(order.index(previous) + 1 if previous in order else 0, c["name"])
        previous = c["name"]
    return order


def _cell_seconds(result: dict, name: str):
    found = [c["seconds"] for c in result["cells"] if c["name"] == name]
    return sum(found) if found else None


def _column(rounds, key: str, value) -> dict | None:
    """Stats of ``value(result)`` over the rounds that ran ``key`` (a smoke run has no D)."""
    return stats([value(r[key]) for r in rounds if key in r])


def _verdict(label: str, seconds: float | None) -> str:
    if seconds is None:
        return f"{label}: not run"
    return f"{label}: {'met' if seconds < 30 else 'MISSED'} ({seconds:.1f})"


def _ratio_verdict(ratio: dict | None) -> str:
    if ratio is None:
        return "B/C <= 1: not run"
    return f"B/C <= 1: {'met' if ratio['median'] <= 1 else 'MISSED'} ({ratio['median']:.2f})"


def rows(res: dict) -> list[dict]:
    rounds = res["rounds"]
    out = [
        {
            "part": "1",
            "what": "kernel start (s)",
            **{k: fmt(_column(rounds, k, lambda x: x["kernel_start_s"]), ".2f") for k in VARIANTS},
        }
    ]
    for name in _cell_order(rounds):
        cells = {
            k: _column(rounds, k, lambda x, name=name: _cell_seconds(x, name)) for k in VARIANTS
        }
        out.append(
            {
                "part": "1",
                "what": f"cell {name} (s)",
                **{k: fmt(v, ".2f") for k, v in cells.items()},
            }
        )
    total = {k: _column(rounds, k, lambda x: x["total_s"]) for k in VARIANTS}
    ratio = stats([r["B"]["total_s"] / r["C"]["total_s"] for r in rounds if "B" in r])
    a, d = ((total[k] or {}).get("median") for k in ("A", "D"))
    out += [
        {
            "part": "1",
            "what": "total, cells only (s)",
            **{k: fmt(_column(rounds, k, lambda x: x["cells_s"])) for k in VARIANTS},
        },
        {
            "part": "1",
            "what": "total, one execution: kernel start + cells + shutdown (s)",
            **{k: fmt(v) for k, v in total.items()},
            "target": f"{_verdict('A < 30 s', a)}; {_verdict('warm (D)', d)}",
        },
        {
            "part": "1",
            "what": "ratio B/C, one execution (paired by round)",
            "B": fmt(ratio, ".2f"),
            "target": _ratio_verdict(ratio),
        },
    ]
    return out


def notes(res: dict) -> list[str]:
    ses, d = res["session"], res["session"]["derived"]
    if res["smoke"]:
        state = (
            "SMOKE: numba's own default cache in every run, warm if anything on this "
            "machine imported umap before, and beth_course.kernel_boot loaded in every "
            "kernel (umap's functions cached too); B and D not run (see SMOKE_SKIPS)"
        )
    else:
        state = (
            "COLD in A, B and C (a fresh, empty NUMBA_CACHE_DIR for every run); WARM in D "
            "(a NUMBA_CACHE_DIR filled by one untimed run of A's notebook: the functions "
            "marked cache=True load, umap's others compile again)"
        )
    return [
        f"Part 1: columns A-D are {'; '.join(f'{k} = {v}' for k, v in VARIANTS.items())}. "
        f"B and C sample sizes: UMAP {ses['umap_n']:,} rows, IsolationForest "
        f"{ses['forest_n']:,} rows. Cells are the course notebook's (nbgrader grade_id); C's "
        "cells are lined up by the step they do (seed_helpers defines the seed's functions). "
        "A and B run the source notebook, hidden tests included.",
        f"Part 1, numba: {state}. matplotlib's font cache warm. Kernels as a student's: "
        "all cores, no thread limits, no sandbox.",
        f"Part 1, data of B and C: {d['rows']:,} rows, {d['evil']:,} evil, "
        f"{d['bytes'] / 2**20:.1f} MiB. {d['how']}. {d['distinct_source_rows']:,} distinct real "
        "rows appear in it.",
    ]
