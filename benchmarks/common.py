"""Shared pieces of the benchmarks: statistics, the machine, child processes, derived data.

Nothing here imports pandas or the course at module level, so the orchestrating process
stays small; the helpers that need them import them when called.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent

# Rows of BETH's official labelled subset: 763,144 training + 188,967 validation + 188,967
# testing (BETH paper; Kaggle katehighnam/beth-dataset); the size of part 3's file.
OFFICIAL_ROWS = 1_141_078

# The derived file of benchmarks 1(b) and 1(c).
DERIVED_ROWS = 100_000
DERIVED_PCT_EVIL = 0.5
DERIVED_SEED = 2021

PACKAGES = (
    "nbgrader",
    "nbclient",
    "jupyter_client",
    "ipykernel",
    "nbformat",
    "numba",
    "umap-learn",
    "pynndescent",
    "pandas",
    "numpy",
    "scikit-learn",
    "matplotlib",
    "seaborn",
    "dask",
    "distributed",
    "pyarrow",
    "beth-workshop",
)


# -- statistics ---------------------------------------------------------------------------


def stats(values) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def fmt(s: dict | None, spec: str = ".1f") -> str:
    """``median [min-max]``, or just the value for a single run; ``-`` for nothing."""
    if not s:
        return "-"
    if s["n"] == 1:
        return format(s["median"], spec)
    return f"{s['median']:{spec}} [{s['min']:{spec}}-{s['max']:{spec}}]"


# -- the machine --------------------------------------------------------------------------


def loadavg() -> tuple[float, float, float]:
    return tuple(float(x) for x in Path("/proc/loadavg").read_text().split()[:3])


def wait_until_quiet(threshold: float, timeout_s: float, poll_s: float, log) -> dict:
    """Poll the 1-minute load average until it is below ``threshold`` or time runs out."""
    started = time.monotonic()
    seen = []
    while True:
        load = loadavg()
        seen.append(load[0])
        if load[0] < threshold:
            return {
                "quiet": True,
                "waited_s": time.monotonic() - started,
                "load": load,
                "polls": len(seen),
            }
        if time.monotonic() - started >= timeout_s:
            return {
                "quiet": False,
                "waited_s": time.monotonic() - started,
                "load": load,
                "polls": len(seen),
                "lowest": min(seen),
            }
        log(
            f"waiting for a quiet machine: 1-minute load {load[0]:.2f} >= {threshold} "
            f"({(time.monotonic() - started) / 60:.0f} of {timeout_s / 60:.0f} min)"
        )
        time.sleep(poll_s)


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 2**20
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    bwrap = shutil.which("bwrap")
    if bwrap:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout
        versions["bubblewrap"] = (out.split() or ["?"])[-1]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_gib": mem,
        "platform": platform.platform(),
        "versions": versions,
    }


# -- child processes ----------------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """This environment with the venv's bin first on PATH, plus ``extra``."""
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONWARNINGS", None)
    env.update(extra)
    return env


def kernel_boot_ipython_dir(folder: Path) -> Path:
    """An IPYTHONDIR (made under ``folder``) whose startup file loads
    ``beth_course.kernel_boot`` in every plain kernel started with it.

    numba then caches umap's functions too, so each such kernel after the first loads them
    instead of compiling them again. Used by smoke runs (quick; not figures to quote) and by
    tests/test_notebook_runs.py (as grading kernels do).
    """
    startup = folder / "ipython-kernel-boot" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-kernel-boot.py").write_text("import beth_course.kernel_boot\n")
    return startup.parent.parent


def run_timed(cmd, *, env, cwd=None, log_path: Path | None = None, timeout=None) -> float:
    """Run ``cmd``; return its wall time in seconds. Output goes to ``log_path``.

    Raises RuntimeError with the tail of the output if it fails.
    """
    log_path = log_path or Path(os.devnull)
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        done = subprocess.run(
            [str(c) for c in cmd],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = ""
        if log_path.exists() and str(log_path) != os.devnull:
            tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed (exit {done.returncode}):\n{tail}")
    return seconds


def execute_notebook(
    notebook: Path,
    cwd: Path,
    env: dict,
    out_json: Path,
    kernel_args: list[str] = (),
    log_path: Path | None = None,
) -> dict:
    """Run ``nbexec.py`` in a child process with ``env``; return its JSON result."""
    cmd = [PYTHON, HERE / "nbexec.py", notebook, "--cwd", cwd, "--json", out_json]
    for arg in kernel_args:
        cmd += [f"--kernel-arg={arg}"]
    log_path = log_path or out_json.with_suffix(".log")
    with open(log_path, "wb") as log:
        done = subprocess.run([str(c) for c in cmd], env=env, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode == 1 or not out_json.exists():
        raise RuntimeError(
            f"executing {notebook} failed:\n" + log_path.read_text(errors="replace")[-3000:]
        )
    result = json.loads(out_json.read_text())
    if result["errors"]:
        raise RuntimeError(f"{notebook}: cells raised: {result['errors']}")
    return result


# -- the derived data file ----------------------------------------------------------------


def derived_csv(
    workdir: Path,
    rows: int = DERIVED_ROWS,
    pct_evil: float = DERIVED_PCT_EVIL,
    seed: int = DERIVED_SEED,
) -> tuple[Path, dict]:
    """A ``data.csv`` resampled from the 6,791 real rows shipped with beth_helpers.

    ``round(rows * pct_evil)`` rows drawn with replacement from the real evil rows and the
    rest from the real benign rows (``numpy.random.default_rng(seed).choice``), shuffled
    together, written with ``beth_helpers.write_classroom_csv``. DERIVED, not BETH as
    published: the rows are real, their repetition and mix are not. Cached in ``workdir``
    with a JSON sidecar and rebuilt when the recipe changes.
    """
    import numpy as np

    import beth_helpers

    workdir.mkdir(parents=True, exist_ok=True)
    name = f"derived-{rows}-rows-{round(pct_evil * 100)}pct-evil-seed{seed}"
    path, side = workdir / f"{name}.csv", workdir / f"{name}.json"
    recipe = {
        "rows": rows,
        "pct_evil": pct_evil,
        "seed": seed,
        "beth_helpers": beth_helpers.__version__,
    }
    if path.exists() and side.exists():
        meta = json.loads(side.read_text())
        if meta.get("recipe") == recipe:
            return path, meta
    real = beth_helpers.load_workshop_data()
    evil_rows = np.flatnonzero(real["evil"].to_numpy() == 1)
    benign_rows = np.flatnonzero(real["evil"].to_numpy() == 0)
    rng = np.random.default_rng(seed)
    n_evil = round(rows * pct_evil)
    picks = np.concatenate(
        [
            rng.choice(evil_rows, n_evil, replace=True),
            rng.choice(benign_rows, rows - n_evil, replace=True),
        ]
    )
    picks = rng.permutation(picks)
    data = real.iloc[picks].reset_index(drop=True)
    beth_helpers.write_classroom_csv(path, data=data, overwrite=True)
    meta = {
        "recipe": recipe,
        "rows": rows,
        "evil": int(data["evil"].sum()),
        "source_rows": len(real),
        "source_evil": len(evil_rows),
        "source_benign": len(benign_rows),
        "distinct_source_rows": int(len(np.unique(picks))),
        "bytes": path.stat().st_size,
        "how": (
            f"DERIVED, not BETH as published: {n_evil:,} rows drawn with replacement from "
            f"the {len(evil_rows):,} real evil rows and {rows - n_evil:,} from the "
            f"{len(benign_rows):,} real benign rows shipped with beth_helpers "
            f"(load_workshop_data), numpy.random.default_rng({seed}), shuffled, written "
            "with beth_helpers.write_classroom_csv"
        ),
    }
    side.write_text(json.dumps(meta, indent=1) + "\n")
    return path, meta
