"""Benchmark the data path: beth_helpers against the seed workshop.

    python benchmarks/bench_data.py [--rows 1141078] [--repeats 3] [--workdir benchmarks/.work]
                                    [--seed 2021] [--json FILE]

Compares, on one CSV file the size of BETH's official labelled subset (1,141,078 rows:
763,144 training + 188,967 validation + 188,967 testing):

  A  ``beth_helpers.load_beth(path)`` + ``beth_helpers.preprocess(df)``
  B  ``pandas.read_csv(path)`` + the seed's ``preprocess(df)`` (``seed_workshop.py``, a
     reconstruction from issues #2 and #5)

The file is DERIVED, not BETH as published: the 6,791 real rows shipped with beth_helpers,
resampled with replacement (fixed seed) to the wanted size and written with
``write_classroom_csv``. It is built once and cached in the work folder (with a JSON
sidecar saying how it was made); it is rebuilt when missing or when the rows, seed or
shipped data differ. Its rows are real, its mix is not: about 91% evil, where the official
subset is about 14% evil.

How it measures. Every run is a fresh child process (this script with ``--child``), so no
run inherits another's heap. Each child imports the same modules (pandas, numpy,
beth_helpers, seed_workshop), then times the load and preprocess phases with
``time.perf_counter`` and reports its own peak resident set size, ``ru_maxrss`` of
``getrusage(RUSAGE_SELF)``. A "baseline" child that only does the imports is run in every
round, so the peaks can be read as "imports + work". Rounds are interleaved
(baseline, A, B, baseline, A, B, ...) and the figures are median, min and max over rounds;
the ratios are of medians. The file is read once before the rounds so that every run finds
it in the page cache.

Linux detail that shapes the design: at ``exec`` the kernel folds the parent's peak RSS
into the child's ``ru_maxrss``, so the parent (this process) never imports pandas and
builds the file in a child too; its own peak (~25 MiB, printed with the results) stays
far below any child's.

Exit status: 0 whenever the benchmark ran, whatever the verdict; 1 if a child failed; 3 if
A and B disagree on what they compute beyond the known mountNamespace bug (then the timing
comparison would be meaningless).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

from common import OFFICIAL_ROWS, fmt, machine, stats

HERE = Path(__file__).resolve().parent
# Evil rows of the official labelled subset (all in its testing split).
OFFICIAL_EVIL_SHARE = 158_432 / OFFICIAL_ROWS
DEFAULT_SEED = 2021
HOST_MOUNT_NAMESPACE = 4026531840
VARIANTS = {
    "baseline": "imports only (pandas, numpy, beth_helpers, seed_workshop)",
    "A": "beth_helpers.load_beth + beth_helpers.preprocess",
    "B": "pandas.read_csv + seed preprocess",
}


# --------------------------------------------------------------------------------------
# Child side: runs in a fresh interpreter, prints one JSON line.
# --------------------------------------------------------------------------------------


def _peak_rss_mib() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _vmhwm_mib() -> float | None:
    """Peak RSS of this process's own address space (Linux), to cross-check ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10
    except OSError:
        pass
    return None


def _digest(values) -> str:
    import numpy as np

    arr = np.ascontiguousarray(np.asarray(values), dtype=np.int64)
    return hashlib.sha256(arr.tobytes()).hexdigest()[:16]


def _child_run(variant: str, path: str) -> dict:
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    import seed_workshop

    import beth_helpers

    out = {
        "variant": variant,
        "import_s": time.perf_counter() - t0,
        "versions": {
            "python": platform.python_version(),
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "beth_helpers": beth_helpers.__version__,
        },
    }
    if variant == "baseline":
        out.update(peak_mib=_peak_rss_mib(), vmhwm_mib=_vmhwm_mib())
        return out

    # Wall time with perf_counter; CPU time (all threads: pandas 3.1's read_csv parses in
    # threads) with process_time, which a busy machine disturbs less than wall time.
    t1, c1 = time.perf_counter(), time.process_time()
    if variant == "A":
        df = beth_helpers.load_beth(path)
        t2, c2, peak_load = time.perf_counter(), time.process_time(), _peak_rss_mib()
        _, X, y = beth_helpers.preprocess(df)
    else:
        df = seed_workshop.load_data(path)
        t2, c2, peak_load = time.perf_counter(), time.process_time(), _peak_rss_mib()
        _, X, y = seed_workshop.preprocess(df)
    t3, c3 = time.perf_counter(), time.process_time()
    out.update(
        load_s=t2 - t1,
        preprocess_s=t3 - t2,
        load_cpu_s=c2 - c1,
        preprocess_cpu_s=c3 - c2,
        peak_after_load_mib=peak_load,
        peak_mib=_peak_rss_mib(),
        vmhwm_mib=_vmhwm_mib(),
    )

    # Not timed, after the peak was read: what the two paths computed, for the parent to
    # compare across processes by digest.
    mount = X["mountNamespace"].to_numpy()
    out.update(
        rows=len(df),
        x_columns=[str(c) for c in X.columns],
        x_dtypes=[str(t) for t in X.dtypes],
        mount_values={
            str(int(v)): int(c) for v, c in zip(*np.unique(mount, return_counts=True), strict=True)
        },
        digests={str(c): _digest(X[c]) for c in X.columns},
        # What the seed's mountNamespace lines were meant to produce (0 host, 1 other).
        mount_as_meant=_digest(mount != HOST_MOUNT_NAMESPACE),
        y_digest=_digest(y),
    )
    return out


def _child_build(rows: int, seed: int, out_path: str) -> dict:
    import numpy as np

    import beth_helpers

    real = beth_helpers.load_workshop_data()
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(real), size=rows)
    data = real.iloc[picks].reset_index(drop=True)
    beth_helpers.write_classroom_csv(out_path, data=data, overwrite=True)
    return {
        "rows": rows,
        "seed": seed,
        "source_rows": len(real),
        "distinct_source_rows_used": int(len(np.unique(picks))),
        "evil": int(data["evil"].sum()),
        "bytes": os.path.getsize(out_path),
        "method": f"numpy.random.default_rng(seed).integers(0, {len(real)}, size=rows): rows "
        "of beth_helpers.load_workshop_data() drawn uniformly with replacement, written with "
        "beth_helpers.write_classroom_csv(path, data=...)",
    }


def _child_main(args) -> int:
    if args.child == "build":
        result = _child_build(args.rows, args.seed, args.path)
    else:
        result = _child_run(args.child, args.path)
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------------------
# Parent side: stays small (no pandas import), spawns the children, prints the table.
# --------------------------------------------------------------------------------------


def _spawn(*child_args: str) -> tuple[dict, float]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *child_args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"child {' '.join(child_args)} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def _shipped_data_sha256() -> str:
    """SHA-256 of beth_helpers' shipped rows, found without importing beth_helpers."""
    spec = importlib.util.find_spec("beth_helpers")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return hashlib.sha256((folder / "data" / "workshop_rows.csv.gz").read_bytes()).hexdigest()


def _ensure_csv(workdir: Path, rows: int, seed: int) -> tuple[Path, dict, bool]:
    workdir.mkdir(parents=True, exist_ok=True)
    csv = workdir / f"beth_resampled_{rows}rows_seed{seed}.csv"
    sidecar = csv.with_suffix(".json")
    source = _shipped_data_sha256()
    if csv.is_file() and sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text())
        except ValueError:
            meta = {}
        if (
            meta.get("rows") == rows
            and meta.get("seed") == seed
            and meta.get("source_sha256") == source
            and meta.get("bytes") == csv.stat().st_size
        ):
            return csv, meta, False
    meta, _ = _spawn("build", "--rows", str(rows), "--seed", str(seed), "--path", str(csv))
    meta["source_sha256"] = source
    sidecar.write_text(json.dumps(meta, indent=2) + "\n")
    return csv, meta, True


def _warm_page_cache(path: Path) -> None:
    buf = bytearray(4 * 2**20)
    with open(path, "rb", buffering=0) as fh:
        while fh.readinto(buf):
            pass


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def _compare(a: dict, b: dict) -> list[tuple[str, bool, bool]]:
    """(description, outcome, must_hold) facts about what A and B computed."""
    features = a["x_columns"]
    same_others = all(
        a["digests"][c] == b["digests"].get(c) for c in features if c != "mountNamespace"
    )
    raw_left = sorted(int(v) for v in b["mount_values"] if int(v) > 1)
    return [
        ("A's X has the 7 feature columns, all int64", a["x_dtypes"] == ["int64"] * 7, True),
        ("B's X has the same columns in the same order", b["x_columns"] == features, True),
        (
            "A and B agree on the other six features and on y",
            same_others and a["y_digest"] == b["y_digest"],
            True,
        ),
        (
            "A's mountNamespace is 0/1 and equals B's raw value != 4026531840",
            set(a["mount_values"]) <= {"0", "1"}
            and a["digests"]["mountNamespace"] == b["mount_as_meant"],
            True,
        ),
        (
            f"B's X still holds raw mountNamespace values (the seed bug): {raw_left}",
            bool(raw_left),
            False,
        ),
        ("  ... including 4026532232", 4026532232 in raw_left, False),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time and measure peak memory of load_beth + preprocess against "
        "pandas.read_csv + the seed workshop's preprocess."
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=OFFICIAL_ROWS,
        help=f"rows in the derived CSV (default {OFFICIAL_ROWS:,}, the official labelled subset)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="interleaved rounds (baseline, A, B); use at least 3 for figures worth quoting",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=HERE / ".work",
        help="where the derived CSV is cached (default benchmarks/.work)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the resampling")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--child", choices=["build", *VARIANTS], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child_main(args)
    if args.rows < 1 or args.repeats < 1:
        parser.error("--rows and --repeats must be at least 1")

    command = "python " + " ".join(
        shlex.quote(a)
        for a in [os.path.relpath(__file__), *(argv if argv is not None else sys.argv[1:])]
    )
    machine_info = machine()
    t_start = time.perf_counter()
    try:
        csv, meta, built = _ensure_csv(args.workdir, args.rows, args.seed)
    except RuntimeError as exc:
        print(f"bench_data: could not build the CSV: {exc}", file=sys.stderr)
        return 1

    _warm_page_cache(csv)
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    try:
        for round_ in range(args.repeats):
            print(f"bench_data: round {round_ + 1} of {args.repeats}", file=sys.stderr)
            for variant in VARIANTS:
                result, wall = _spawn(variant, "--path", str(csv))
                result["process_s"] = wall
                if variant != "baseline":
                    result["total_s"] = result["load_s"] + result["preprocess_s"]
                    result["total_cpu_s"] = result["load_cpu_s"] + result["preprocess_cpu_s"]
                runs[variant].append(result)
    except RuntimeError as exc:
        print(f"bench_data: {exc}", file=sys.stderr)
        return 1
    parent_peak = _peak_rss_mib()
    versions = runs["baseline"][0]["versions"]

    print(
        "BETH data path: load_beth + preprocess (A) against "
        "pandas.read_csv + the seed's preprocess (B)"
    )
    print(f"command: {command}")
    cores = f"{machine_info['cores']} cores" + (
        f" ({machine_info['usable_cores']} usable)"
        if machine_info["usable_cores"] not in (None, machine_info["cores"])
        else ""
    )
    ram = f"{machine_info['ram_gib']:.1f} GiB RAM" if machine_info["ram_gib"] else "RAM unknown"
    print(f"machine: {machine_info['cpu']}, {cores}, {ram}; {machine_info['platform']}")
    print(
        f"software: Python {versions['python']}, pandas {versions['pandas']}, "
        f"numpy {versions['numpy']}, pyarrow {machine_info['versions']['pyarrow']}, "
        f"beth_helpers {versions['beth_helpers']}"
    )
    print(
        f"data: {csv} ({meta['rows']:,} rows, {meta['bytes'] / 2**20:,.1f} MiB, "
        f"{'built now' if built else 'cached'})"
    )
    print(
        f"  DERIVED FILE, NOT BETH AS PUBLISHED: the {meta['source_rows']:,} real BETH rows "
        f"shipped with beth_helpers, resampled with replacement (seed {meta['seed']}; "
        f"{meta['distinct_source_rows_used']:,} distinct source rows used)."
    )
    print(
        f"  {meta['evil'] / meta['rows']:.1%} evil here; the official labelled subset is "
        f"{OFFICIAL_EVIL_SHARE:.1%} evil. Sizes and dtypes are realistic, the class mix is not."
    )
    for variant, results in runs.items():
        for r in results:
            if r.get("vmhwm_mib") and abs(r["peak_mib"] - r["vmhwm_mib"]) > 0.05 * r["vmhwm_mib"]:
                print(
                    f"warning: {variant}: ru_maxrss {r['peak_mib']:.0f} MiB but VmHWM "
                    f"{r['vmhwm_mib']:.0f} MiB; the peak figures may include the parent's."
                )
    summary = {}
    for variant, results in runs.items():
        summary[variant] = {
            key: stats([r[key] for r in results])
            for key in (
                "load_s",
                "preprocess_s",
                "total_s",
                "process_s",
                "load_cpu_s",
                "preprocess_cpu_s",
                "total_cpu_s",
                "peak_after_load_mib",
                "peak_mib",
            )
            if key in results[0]
        }
    base_peak = summary["baseline"]["peak_mib"]["median"]
    for variant in ("A", "B"):
        summary[variant]["above_baseline_mib"] = stats(
            [r["peak_mib"] - base_peak for r in runs[variant]]
        )

    print(
        f"runs: {args.repeats} interleaved round(s) of baseline, A, B, each a fresh process; "
        "median [min-max]"
        + (
            ""
            if args.repeats >= 3
            else "  [fewer than 3 rounds: a smoke run, not figures to quote]"
        )
    )
    print(
        f"memory: peak RSS is each child's own ru_maxrss; this parent peaked at "
        f"{parent_peak:.0f} MiB, below every child, so its share folded in at exec is nil"
    )
    labels = (
        ("A", "A load_beth + preprocess"),
        ("B", "B read_csv + seed preprocess"),
        ("baseline", "baseline (imports only)"),
    )
    tables = (
        (
            "wall time, s",
            (
                ("load", "load_s", ".2f"),
                ("preprocess", "preprocess_s", ".3f"),
                ("load+preprocess", "total_s", ".2f"),
                ("whole process", "process_s", ".2f"),
            ),
        ),
        (
            "CPU s (threads), RSS MiB",
            (
                ("CPU load+preprocess", "total_cpu_s", ".2f"),
                ("peak after load", "peak_after_load_mib", ".0f"),
                ("peak at end", "peak_mib", ".0f"),
                ("peak above baseline", "above_baseline_mib", ".0f"),
            ),
        ),
    )
    for title, columns in tables:
        header = f"{title:<30}" + "".join(f" {name:>20}" for name, _, _ in columns)
        print()
        print(header)
        print("-" * len(header))
        for variant, label in labels:
            s = summary[variant]
            print(
                f"{label:<30}"
                + "".join(f" {fmt(s.get(key), spec):>20}" for _, key, spec in columns)
            )
        print("-" * len(header))
    print()
    med = {v: {k: s["median"] for k, s in summary[v].items()} for v in summary}
    ratios = {
        "time_total": _ratio(med["A"]["total_s"], med["B"]["total_s"]),
        "time_load": _ratio(med["A"]["load_s"], med["B"]["load_s"]),
        "time_preprocess": _ratio(med["A"]["preprocess_s"], med["B"]["preprocess_s"]),
        "cpu_total": _ratio(med["A"]["total_cpu_s"], med["B"]["total_cpu_s"]),
        "memory_peak": _ratio(med["A"]["peak_mib"], med["B"]["peak_mib"]),
        "memory_above_baseline": _ratio(
            med["A"]["above_baseline_mib"], med["B"]["above_baseline_mib"]
        ),
    }
    print(
        f"ratio time A/B (load+preprocess, medians): {ratios['time_total']:.2f}   "
        f"[load {ratios['time_load']:.2f}, preprocess {ratios['time_preprocess']:.3f}; "
        f"CPU time load+preprocess {ratios['cpu_total']:.2f}]"
    )
    print(
        f"ratio memory A/B (peak RSS, medians): {ratios['memory_peak']:.2f}   "
        f"[above baseline: {ratios['memory_above_baseline']:.2f}]"
    )
    not_slower = med["A"]["total_s"] <= med["B"]["total_s"]
    not_bigger = med["A"]["peak_mib"] <= med["B"]["peak_mib"]
    print(
        f"load_beth + preprocess is not slower than the seed path: {'yes' if not_slower else 'no'}"
    )
    print(
        "load_beth + preprocess uses no more peak memory than the seed path: "
        + ("yes" if not_bigger else "no")
    )

    facts = _compare(runs["A"][0], runs["B"][0])
    print("what A and B computed (checked in the first round):")
    broken = False
    for text, ok, must in facts:
        print(f"  [{'yes' if ok else 'no '}] {text}")
        broken |= must and not ok
    print(f"elapsed: {time.perf_counter() - t_start:.1f} s")

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "command": command,
                    "machine": {**machine_info, **versions},
                    "data": {**meta, "path": str(csv)},
                    "repeats": args.repeats,
                    "runs": runs,
                    "summary": summary,
                    "ratios": ratios,
                    "not_slower": not_slower,
                    "not_more_memory": not_bigger,
                    "checks": [{"check": t, "ok": ok, "required": m} for t, ok, m in facts],
                },
                indent=2,
            )
            + "\n"
        )
    if broken:
        print(
            "bench_data: A and B disagree beyond the known mountNamespace bug; the comparison "
            "above is not meaningful. Check seed_workshop.preprocess and beth_helpers.preprocess.",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
