"""Rebuild submitted/<student>/beth_workshop/ for the course's fictional students.

Usage: python scripts/make_fictional_submissions.py

Each fictional student's answers live below; they are pasted into the solution cells of the
current release notebook, so the submissions follow the release when it changes. Run it
after `beth-course release` when the notebook's cells change, then regrade
(`make goldens`). The expected scores are in tests/test_course_roundtrip.py.

- ada: every task right, written differently from the instructor's solution
  (`import pandas as pd`, `fit_transform`, other UMAP and forest parameters, numpy input).
- ben: half right. His own feature engineering repeats the seed workshop's
  mountNamespace bug, and his UMAP input is not standardised (only a hidden test sees it).
- cleo: handed in the release notebook untouched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "beth_workshop"
TIMESTAMPS = {
    "ada": "2026-11-20 09:12:44.000000 UTC",
    "ben": "2026-11-20 23:58:03.000000 UTC",
    "cleo": "2026-11-21 08:30:00.000000 UTC",
}

ANSWERS = {
    "ada": {
        "load_data": """\
import pandas as pd

df = pd.read_csv(DATA_FILE)
print(df.dtypes)""",
        "inspect_head": "df.head(5)",
        "raw_histograms": """\
axes = df.hist(bins=40, figsize=(14, 12), color="slategray")
plt.tight_layout()""",
        "engineer_features": """\
df_eng, X, y = preprocess(df)
df_eng.hist(bins=20, figsize=(12, 9))
plt.tight_layout()""",
        "correlation_heatmap": """\
correlations = df_eng.corr(method="pearson")
fig, ax = plt.subplots(figsize=(9, 7))
sns.heatmap(correlations, annot=True, fmt=".1f", cmap="coolwarm", center=0, ax=ax)""",
        "umap_projection": """\
balanced = get_sample(df, n=UMAP_SAMPLE_SIZE, pct_evil=0.5, random_state=7)
_, features, y = preprocess(balanced)
X = (features - features.mean()) / features.std()   # pandas' std (ddof=1) is fine too
X = X.fillna(0).to_numpy()
manifold = umap.UMAP(n_neighbors=30, min_dist=0.2, random_state=7).fit(X)
X_reduced = manifold.embedding_
ax = sns.scatterplot(x=X_reduced[:, 0], y=X_reduced[:, 1], hue=y, palette="Set1", s=10)
ax.set_title("Benign (0) and evil (1) events after UMAP")""",
        "isolation_forest": """\
rare = get_sample(df, FOREST_SAMPLE_SIZE, FOREST_PCT_EVIL, random_state=11)
_, X, y = preprocess(rare)
model = sklearn.ensemble.IsolationForest(n_estimators=200, contamination=0.02, random_state=3)
model.fit(X.to_numpy())
rates = confusion_rates(y, anomaly_labels(model.predict(X.to_numpy())))
plot_confusion_rates(rates, title="IsolationForest, 1% evil")""",
        "false_positive_answer": """\
Benign events outnumber attacks by about a hundred to one here, so even the few percent of
benign events the forest flags add up to more alerts than the attack produces. Most alerts
an analyst would open are false, and after a while people stop trusting them. I would tell
the team to measure the false-positive rate on their own normal traffic first and tune the
contamination so the alert volume is something they can actually review.""",
    },
    "ben": {
        "load_data": """\
df = pandas.read_csv(DATA_FILE)
df.dtypes""",
        "inspect_head": "df.head()",
        "raw_histograms": """\
axes = df.hist(figsize=(12, 10))
plt.tight_layout()""",
        "engineer_features": """\
# my own version of the feature engineering
df_eng = df.copy()
df_eng["processId"] = df_eng["processId"].map(lambda p: 0 if p in [0, 1, 2] else 1)
df_eng["parentProcessId"] = df_eng["parentProcessId"].map(lambda p: 0 if p in [0, 1, 2] else 1)
df_eng["userId"] = df_eng["userId"].map(lambda u: 0 if u < 1000 else 1)
df_eng["mountNamespace"] == 4026531840
df_eng["returnValue"] = df_eng["returnValue"].map(lambda r: -1 if r < 0 else (0 if r == 0 else 1))
df_eng = df_eng[list(FEATURE_COLUMNS) + ["evil"]]
X = df_eng.drop(columns="evil")
y = df_eng["evil"]
df_eng.hist(figsize=(12, 8))""",
        "correlation_heatmap": """\
correlations = df_eng.corr()
sns.heatmap(correlations)""",
        "umap_projection": """\
sample = get_sample(df, UMAP_SAMPLE_SIZE, 0.5, random_state=RANDOM_STATE)
_, X, y = preprocess(sample)
manifold = umap.UMAP(random_state=RANDOM_STATE).fit(X)
X_reduced = manifold.transform(X)
plt.scatter(X_reduced[:, 0], X_reduced[:, 1], c=y, s=4)""",
        "isolation_forest": """\
sample = get_sample(df, FOREST_SAMPLE_SIZE, FOREST_PCT_EVIL, random_state=RANDOM_STATE)
_, X, y = preprocess(sample)
model = sklearn.ensemble.IsolationForest(random_state=RANDOM_STATE).fit(X)
rates = confusion_rates(y, anomaly_labels(model.predict(X)))
plot_confusion_rates(rates)""",
        "false_positive_answer": "False positives are bad because they are wrong.",
    },
    "cleo": {},
}


def build(release_nb: Path, student: str) -> nbformat.NotebookNode:
    nb = nbformat.read(str(release_nb), as_version=4)
    answers = dict(ANSWERS[student])
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers.pop(grade_id)
    if answers:
        sys.exit(f"{student}: no solution cell for {sorted(answers)} in {release_nb}")
    return nb


def main() -> None:
    release_nb = ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for student, stamp in TIMESTAMPS.items():
        folder = ROOT / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(build(release_nb, student), str(folder / f"{ASSIGNMENT}.ipynb"))
        (folder / "timestamp.txt").write_text(stamp + "\n")
        print(f"wrote {folder.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
