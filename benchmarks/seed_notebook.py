"""Build a RECONSTRUCTED seed workshop notebook from ``seed_workshop.py``, for benchmarking.

    python benchmarks/seed_notebook.py OUT.ipynb [--umap-n 25000] [--forest-n 25000]

The seed workshop's notebook is not in this repository. This script rebuilds one that does
what issues #2 and #5 say the seed does, in the seed's order, so that its run time can be
compared with the course's notebook (benchmark 1(c)):

    imports; the seed's helpers (load_data, preprocess, get_sample: the source of
    benchmarks/seed_workshop.py, pasted in, bugs included); read_csv; histograms of the
    raw fields; the seed's preprocess and histograms of its output; a correlation heatmap;
    UMAP on get_sample(25000, 0.5), standardised; an IsolationForest on
    get_sample(25000, 0.01) and its confusion matrix.

Choices the issues leave open, marked in the cells too: the UMAP cell fits and then
transforms (``umap.UMAP().fit(X)`` then ``.transform(X)``, the steps the course's Task 5
kept from the seed), with no ``random_state`` (the seed had none; without it UMAP runs its
numba code in parallel); the models get no ``random_state``; ``get_sample`` gets
``random_state=0`` so that repeated benchmark runs draw the same rows (the keyword exists
in the reconstruction for that purpose only). Every code cell carries
``metadata.bench.id``, named after the course's cell it corresponds to, so the benchmark
can line the two notebooks up cell by cell.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED_UMAP_N = 25_000
SEED_FOREST_N = 25_000

BANNER = """\
# The seed workshop, RECONSTRUCTED for benchmarking

Not the original notebook: rebuilt by `benchmarks/seed_notebook.py` from
`benchmarks/seed_workshop.py`, which reconstructs the seed's data code from issues #2 and #5
(read_csv, a lambda-based preprocess whose mountNamespace lines do nothing, and a
`get_sample` that re-reads `data.csv` on every call). Run it beside a `data.csv`."""


def _source_of(module) -> str:
    """The seed helpers as notebook code: the module's imports, constant and functions."""
    parts = ["import pandas as pd", f"DATA_CSV = {module.DATA_CSV!r}"]
    for name in ("load_data", "preprocess", "get_sample"):
        parts.append(inspect.getsource(getattr(module, name)).rstrip())
    return "\n\n\n".join(parts)


def build(umap_n: int = SEED_UMAP_N, forest_n: int = SEED_FOREST_N):
    """The reconstructed seed notebook (an ``nbformat`` v4 notebook)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    sys.path.insert(0, str(HERE))
    try:
        import seed_workshop
    finally:
        sys.path.remove(str(HERE))

    cells = [
        (
            "setup",
            """\
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import sklearn.ensemble
import sklearn.metrics
import sklearn.preprocessing
import umap""",
        ),
        (
            "seed_helpers",
            "# The seed's helpers, from benchmarks/seed_workshop.py (bugs kept on purpose)\n"
            + _source_of(seed_workshop),
        ),
        (
            "load_data",
            """\
df = pd.read_csv("data.csv")
df.head()""",
        ),
        (
            "raw_histograms",
            """\
df.hist(figsize=(12, 10))
plt.tight_layout()""",
        ),
        (
            "engineer_features",
            """\
df, X, y = preprocess(df)
df.hist(figsize=(12, 8))
plt.tight_layout()""",
        ),
        (
            "correlation_heatmap",
            """\
plt.figure(figsize=(8, 6))
sns.heatmap(df.corr(), annot=True)""",
        ),
        (
            "umap_projection",
            f"""\
# get_sample re-reads data.csv; random_state=0 only so benchmark runs draw the same rows
sample = get_sample({umap_n}, 0.5, random_state=0)
_, X, y = preprocess(sample)
X = sklearn.preprocessing.StandardScaler().fit_transform(X)
manifold = umap.UMAP().fit(X)      # no random_state, as in the seed
X_reduced = manifold.transform(X)
plt.figure(figsize=(7, 6))
plt.scatter(X_reduced[:, 0], X_reduced[:, 1], c=y, s=4)""",
        ),
        (
            "isolation_forest",
            f"""\
sample = get_sample({forest_n}, 0.01, random_state=0)
_, X, y = preprocess(sample)
model = sklearn.ensemble.IsolationForest().fit(X)
predicted = [1 if p == -1 else 0 for p in model.predict(X)]
matrix = sklearn.metrics.confusion_matrix(y, predicted, normalize="true")
plt.figure(figsize=(5, 4))
sns.heatmap(matrix, annot=True, fmt=".3f")
matrix""",
        ),
    ]
    nb = new_notebook(cells=[new_markdown_cell(BANNER)])
    for bench_id, source in cells:
        cell = new_code_cell(source)
        cell.metadata["bench"] = {"id": bench_id}
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["bench"] = {"reconstruction": True, "umap_n": umap_n, "forest_n": forest_n}
    nbformat.validate(nb)
    return nb


def main(argv=None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the notebook")
    parser.add_argument("--umap-n", type=int, default=SEED_UMAP_N)
    parser.add_argument("--forest-n", type=int, default=SEED_FOREST_N)
    args = parser.parse_args(argv)
    nbformat.write(build(args.umap_n, args.forest_n), str(args.out))
    print(
        f"wrote {args.out} (reconstructed seed notebook; UMAP on {args.umap_n:,} rows, "
        f"IsolationForest on {args.forest_n:,})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
