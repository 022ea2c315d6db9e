"""The benchmarks run: `benchmarks/run_all.py --smoke`, one part at a time.

Smoke runs use tiny sizes and one repeat, so they show that each benchmark works and
reports what it should, not how fast anything is: nothing here asserts a time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import REPO

pytestmark = pytest.mark.slow

RUN_ALL = REPO / "benchmarks" / "run_all.py"


def _smoke(part: str, tmp_path: Path) -> tuple[dict[str, list[str]], str, str]:
    """Run one part in smoke mode; return its table rows by measurement, stdout, RESULTS."""
    results = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(RUN_ALL), "--smoke", "--parts", part,
         "--workdir", str(tmp_path / "work"), "--results", str(results)],
        capture_output=True, text=True, timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    rows = {}
    for line in done.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == part:
            rows[cells[1]] = cells[2:]
    return rows, done.stdout, results.read_text()


def _check_results_file(text: str, rows: dict[str, list[str]]) -> None:
    for label in ("- command: `", "- machine: ", "- packages: ", "- load average"):
        assert label in text
    assert "SMOKE RUN" in text
    for what in rows:
        assert what in text


def test_part1_notebook_runs_and_reports_every_cell(tmp_path):
    """Part 1 times the course notebook (A, B, D) and the seed reconstruction (C) per cell."""
    rows, out, results = _smoke("1", tmp_path)
    for what in ("kernel start (s)", "cell setup (s)", "cell umap_projection (s)",
                 "cell isolation_forest (s)", "total, cells only (s)"):
        a, b, c, d = rows[what][:4]
        assert all(v not in ("", "-") for v in (a, b, c, d)), (what, rows[what])
    assert rows["cell seed_helpers (s)"][2] not in ("", "-")  # a cell only the seed has
    assert rows["cell df_matches_data_file (s)"][2] == "-"  # a test only the course has
    total = next(w for w in rows if w.startswith("total, one execution"))
    assert "A < 30 s" in rows[total][4]
    ratio = next(w for w in rows if w.startswith("ratio B/C"))
    assert "B/C <= 1" in rows[ratio][4]
    assert "DERIVED, not BETH as published" in out
    assert "seed notebook (reconstruction)" in out
    _check_results_file(results, rows)


def test_part2_grading_four_ways_with_overhead(tmp_path, sandbox_available):
    """Part 2 grades the class four ways, every copy gets full marks, and overheads come out."""
    if not sandbox_available:
        pytest.skip("beth-course grades only in its sandbox (bubblewrap) and it is unavailable here")
    rows, _, results = _smoke("2", tmp_path)
    assert rows["copies with full marks (9/9)"][:4] == ["2/2"] * 4
    for what in ("wall time, 2 submissions (s)", "submissions per minute",
                 "grading time per submission, wall/N (s)"):
        assert all(v not in ("", "-") for v in rows[what][:4]), (what, rows[what])
    assert "C/A >= 1.6" in rows["throughput ratio to A (paired by round)"][4]
    overhead = rows["overhead per submission: wall/N - nbclient (s)"]
    assert overhead[0] not in ("", "-") and overhead[1] not in ("", "-")
    assert "< 3 s" in overhead[4]
    _check_results_file(results, rows)


def test_part3_data_path_time_and_memory(tmp_path):
    """Part 3 runs bench_data.py and reports time and peak memory of both data paths."""
    rows, out, results = _smoke("3", tmp_path)
    for what in ("load + preprocess, 20,000 rows (s)", "peak RSS of the process (MiB)",
                 "peak RSS above an imports-only process (MiB)"):
        assert rows[what][0] not in ("", "-") and rows[what][1] not in ("", "-"), rows[what]
    assert any(w.startswith("ratio A/B") for w in rows)
    assert "DERIVED, not BETH as published" in out
    _check_results_file(results, rows)


def test_an_impossible_overhead_is_reported_as_not_valid(monkeypatch):
    """Grading cannot beat executing the same notebook by seconds: such a figure is flagged."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    import bench_grading

    assert bench_grading._overhead_verdict("B", -28.7).startswith("B NOT VALID (-28.7")
    assert bench_grading._overhead_verdict("B", -0.4) == "B met (-0.4)"
    assert bench_grading._overhead_verdict("A", 0.3) == "A met (0.3)"
    assert bench_grading._overhead_verdict("A", 3.4) == "A MISSED (3.4)"
