"""What the notebook's slow cells spend their time on: numba compilation and UMAP itself.

    python benchmarks/profile_umap.py [--repeats 3] [--data FILE] [--n 25000]

Each measurement is a fresh Python process (this script with --child), median of
``--repeats``:

1. ``import umap`` with an empty NUMBA_CACHE_DIR (cold), then again with the cache that
   import filled (warm): pynndescent compiles its ``cache=True`` functions at import.
2. UMAP on a balanced, standardised sample (``get_sample(df, n, 0.5, random_state=0)``,
   ``preprocess``, ``StandardScaler``), with compilation taken out: the process first fits
   and transforms a 5,000-row slice with both settings below, then times, on the sample:
   ``UMAP(random_state=0).fit(X)`` and ``.transform(X)`` (the course notebook's Task 5
   up to commit 4d82762; a fixed random_state makes UMAP run single-threaded), and
   ``UMAP().fit(X)`` and ``.transform(X)`` (the seed's and, since then, the course's:
   parallel). umap hands back ``embedding_`` when ``transform`` gets the rows it was
   fitted on, so that call costs next to nothing.
3. The same two settings COLD, as a student's first kernel meets them: a fresh process
   with an empty NUMBA_CACHE_DIR imports umap, then times one fit and transform on the
   sample, compilation included. The two settings alternate within each round.

``--data`` defaults to the derived 100,000-row file that ``run_all.py`` part 1 builds
(benchmarks/.work); ``--n`` to the seed's 25,000. numba may use every core.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE / ".work" / "part1" / "derived-100000-rows-50pct-evil-seed2021.csv"


def child_import() -> dict:
    t = time.perf_counter()
    import umap  # noqa: F401

    return {"import_s": time.perf_counter() - t}


def child_umap(data: str, n: int) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    import sklearn.preprocessing
    import umap

    import beth_helpers

    df = beth_helpers.load_beth(data)
    _, X, _ = beth_helpers.preprocess(beth_helpers.get_sample(df, n, 0.5, random_state=0))
    X = sklearn.preprocessing.StandardScaler().fit_transform(X)
    t = time.perf_counter()
    small = X[:5000]
    umap.UMAP(random_state=0).fit(small).transform(small[:100])
    umap.UMAP().fit(small).transform(small[:100])
    out = {"compile_warmup_s": time.perf_counter() - t}
    for key, kwargs in (("rs", {"random_state": 0}), ("par", {})):
        t = time.perf_counter()
        manifold = umap.UMAP(**kwargs).fit(X)
        out[f"fit_{key}_s"] = time.perf_counter() - t
        t = time.perf_counter()
        manifold.transform(X)
        out[f"transform_{key}_s"] = time.perf_counter() - t
    return out


def child_cold(data: str, n: int, setting: str) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    import sklearn.preprocessing
    import umap

    import beth_helpers

    df = beth_helpers.load_beth(data)
    _, X, _ = beth_helpers.preprocess(beth_helpers.get_sample(df, n, 0.5, random_state=0))
    X = sklearn.preprocessing.StandardScaler().fit_transform(X)
    kwargs = {"random_state": 0} if setting == "rs" else {}
    t = time.perf_counter()
    umap.UMAP(**kwargs).fit(X).transform(X)
    return {f"cold_{setting}_s": time.perf_counter() - t}


def spawn(args: list[str], numba_dir: str) -> dict:
    import os

    env = dict(os.environ, NUMBA_CACHE_DIR=numba_dir)
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--n", type=int, default=25_000)
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        kind = args.child[0]
        if kind == "import":
            out = child_import()
        elif kind == "cold":
            out = child_cold(args.child[1], int(args.child[2]), args.child[3])
        else:
            out = child_umap(args.child[1], int(args.child[2]))
        print(json.dumps(out))
        return 0
    if not args.data.exists():
        p.error(f"{args.data} not found: run benchmarks/run_all.py --parts 1 first, or pass --data")

    rows = {"import umap, cold cache (s)": [], "import umap, warm cache (s)": []}
    umap_rows: dict[str, list[float]] = {}
    for r in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="numba-") as cache:
            rows["import umap, cold cache (s)"].append(spawn(["import"], cache)["import_s"])
            rows["import umap, warm cache (s)"].append(spawn(["import"], cache)["import_s"])
            result = spawn(["umap", str(args.data), str(args.n)], cache)
        for setting in ("rs", "par") if r % 2 == 0 else ("par", "rs"):
            with tempfile.TemporaryDirectory(prefix="numba-") as cache:
                result.update(spawn(["cold", str(args.data), str(args.n), setting], cache))
        for key, value in result.items():
            umap_rows.setdefault(key, []).append(value)
        print(f"round {r + 1} of {args.repeats} done", file=sys.stderr)
    labels = {
        "compile_warmup_s": "compiling UMAP's paths (5,000-row warm-up fits)",
        "fit_rs_s": f"UMAP(random_state=0).fit, {args.n:,} rows (single-threaded)",
        "transform_rs_s": "  then .transform(X) on the same rows",
        "fit_par_s": f"UMAP().fit, {args.n:,} rows (parallel: seed, course)",
        "transform_par_s": "  then .transform(X) on the same rows",
        "cold_rs_s": f"cold: UMAP(random_state=0).fit(X).transform(X), {args.n:,} rows",
        "cold_par_s": f"cold: UMAP().fit(X).transform(X), {args.n:,} rows",
    }
    rows.update({labels[k] + " (s)": v for k, v in umap_rows.items()})
    width = max(map(len, rows))
    print(f"{'measurement':<{width}}  median [min-max] of {args.repeats}")
    for label, values in rows.items():
        print(
            f"{label:<{width}}  {statistics.median(values):6.1f} "
            f"[{min(values):.1f}-{max(values):.1f}]"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
