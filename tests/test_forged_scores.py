"""A hostile class: students whose code tries to decide its own grade (issue 10).

Before the checker (ca27dfa), every test ran in the student's own kernel and nbgrader scored
a test cell by what that kernel printed, so the student's code could forge its grade: each
trick below scored 8 or 9 of 9 there, or 3 of 9 for one task's work (issue 10). Now
tests run in a checker process in which no student code runs, and the kernel's values
reach it only as data. Each trick is one student here (two tricks that fake different
tasks may share one), built from the release notebook, next to a correct control (the
exfiltrator, which also tries to read the hidden tests) and alternative-correct answers
written differently from the instructor's solution.

The points each student must earn are worked out by hand from the notebook's tests (see
the comment above each student): what the honest part of the notebook earns, and nothing
for a task a trick fakes. One grading round (2 workers, sandboxed) is shared by the tests.
The student who reads the input history checks the other promise of issue 10: no hidden
test reaches a student, not even encoded (base64, or bytes drawn into a PNG's pixels).
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from beth_course import notebooks
from beth_course.course import Course
from beth_course.feedback import html_text
from beth_course.grades import grade_table
from beth_course.grading.runner import autograde

from .helpers import fictional_students

pytestmark = pytest.mark.slow

NOTEBOOK = "beth_workshop.ipynb"
POINTS = {  # test cell -> points, as the source notebook gives them
    "df_matches_data_file": 1,
    "raw_histograms_cover_numeric_fields": 1,
    "engineered_features_follow_paper": 2,
    "correlations_of_engineered_features": 1,
    "umap_projection_of_balanced_sample": 2,
    "isolation_forest_on_one_percent_evil": 2,
}
TASKS = dict(
    zip(("df", "hist", "features", "correlations", "umap", "forest"), POINTS, strict=False)
)


def earns(*tasks: str) -> dict[str, int]:
    """Per test cell, the points of ``tasks`` (short names from :data:`TASKS`), 0 elsewhere."""
    unknown = set(tasks) - set(TASKS)
    assert not unknown, unknown
    return {cell: POINTS[cell] if name in tasks else 0 for name, cell in TASKS.items()}


ALL = ("df", "hist", "features", "correlations", "umap", "forest")
ADA = fictional_students().ANSWERS["ada"]  # every task right: 9 of 9


def like_ada(**changes: str) -> dict[str, str]:
    """Ada's answers with some solution cells (by grade id) replaced."""
    return {**ADA, **changes}


# -- alternative-correct answers, written differently from the solution and from ada ---------
ALT_NUMPY = {
    "load_data": """\
df = pandas.read_csv(DATA_FILE)
df.info()""",
    "inspect_head": "df.iloc[:5]",
    "raw_histograms": """\
axes = df.hist(bins=7, figsize=(16, 12), grid=False)
plt.tight_layout()""",
    "engineer_features": """\
df_eng, X, y = beth_helpers.preprocess(df)
df_eng.hist(bins=3, figsize=(10, 8))""",
    # numpy's own Pearson coefficients, labelled like df_eng's columns.
    "correlation_heatmap": """\
values = df_eng.to_numpy(dtype=float)
correlations = pandas.DataFrame(np.corrcoef(values, rowvar=False), index=df_eng.columns,
                                columns=df_eng.columns)
sns.heatmap(correlations, annot=True, fmt=".1f")""",
    # numpy arrays throughout; UMAP fitted, then transform, no random_state.
    "umap_projection": """\
sample = get_sample(df, UMAP_SAMPLE_SIZE, 0.5, random_state=RANDOM_STATE)
_, features, labels = preprocess(sample)
values = features.to_numpy(dtype=float)
spread = values.std(axis=0)
X = (values - values.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
y = np.asarray(labels)
manifold = umap.UMAP(n_neighbors=20).fit(X)
X_reduced = manifold.transform(X)
plt.scatter(X_reduced[:, 0], X_reduced[:, 1], c=y, s=5, cmap="coolwarm")""",
    # A smaller forest on subsamples of rows and of features, fitted on a numpy array.
    "isolation_forest": """\
sample = get_sample(df, FOREST_SAMPLE_SIZE, FOREST_PCT_EVIL, random_state=RANDOM_STATE)
_, features, labels = preprocess(sample)
X, y = features.to_numpy(), np.asarray(labels)
model = sklearn.ensemble.IsolationForest(n_estimators=50, max_samples=200, max_features=0.7,
                                         contamination=0.05, random_state=1).fit(X)
rates = confusion_rates(y, anomaly_labels(model.predict(X)))
plot_confusion_rates(rates, title="50 trees, 70% of the features each")""",
}

ALT_PANDAS = {
    "load_data": """\
from pandas import read_csv

df = read_csv(DATA_FILE)
print(df.dtypes.value_counts())""",
    "inspect_head": "df.head(5).T",
    "raw_histograms": """\
axes = df.hist(bins=100, figsize=(15, 15), color="teal", edgecolor="black")
plt.tight_layout()""",
    "engineer_features": """\
engineered = preprocess(df)
df_eng, X, y = engineered[0], engineered[1], engineered[2]
df_eng.hist(figsize=(10, 8))""",
    "correlation_heatmap": """\
correlations = df_eng.astype(float).corr(method="pearson")
sns.heatmap(correlations, annot=True)""",
    # X stays a DataFrame; the projection is the fitted model's embedding_.
    "umap_projection": """\
from sklearn.preprocessing import StandardScaler

sample = get_sample(df, UMAP_SAMPLE_SIZE, 0.5, random_state=RANDOM_STATE)
_, X, y = preprocess(sample)
X = pandas.DataFrame(StandardScaler().fit_transform(X), columns=X.columns)
manifold = umap.UMAP(n_neighbors=10, min_dist=0.5, random_state=RANDOM_STATE).fit(X)
X_reduced = manifold.embedding_
sns.scatterplot(x=X_reduced[:, 0], y=X_reduced[:, 1], hue=y)""",
    # Rows drawn with replacement (bootstrap), every row per tree; the flags come from the
    # decision function (negative = outlier), which is what predict does.
    "isolation_forest": """\
from sklearn.ensemble import IsolationForest

sample = get_sample(df, FOREST_SAMPLE_SIZE, FOREST_PCT_EVIL, random_state=RANDOM_STATE)
_, X, y = preprocess(sample)
model = IsolationForest(n_estimators=150, max_samples=1.0, bootstrap=True, random_state=5)
model.fit(X)
flagged = (model.decision_function(X) < 0).astype(int)
rates = confusion_rates(y, flagged)
plot_confusion_rates(rates)""",
}

# -- the tricks ------------------------------------------------------------------------------
# Each trick goes where a student would put it: in the first cell they write (load_data),
# so that it is in force for every later cell, tests included when tests ran in the kernel.

INPUT_TRANSFORMER = """\
# Every later cell becomes `pass` before IPython runs it.
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])"""

AST_TRANSFORMER = """\
import ast


class Nothing(ast.NodeTransformer):
    \"\"\"Every later cell's code becomes `pass`.\"\"\"

    def visit_Module(self, node):
        return ast.fix_missing_locations(ast.Module(body=[ast.Pass()], type_ignores=[]))


get_ipython().ast_transformers.append(Nothing())"""

ERROR_HOOK = """\
from IPython.display import clear_output


def forget_errors(result):
    \"\"\"After each cell: no error in its outputs, none in the kernel's reply.\"\"\"
    result.error_before_exec = result.error_in_exec = None
    clear_output()


get_ipython().events.register("post_run_cell", forget_errors)
df = pandas.read_csv(DATA_FILE)
df.dtypes"""

NOOP_CHECKS = """\
import numpy
import pandas.testing

numpy.allclose = lambda *args, **kwargs: True
numpy.array_equal = lambda *args, **kwargs: True
pandas.testing.assert_frame_equal = lambda *args, **kwargs: None

df = pandas.read_csv(DATA_FILE)
df["timestamp"] = df["timestamp"] + 1.0   # wrong: no longer the file's values
df.dtypes"""

# The forest is honest here: its check uses allclose and array_equal, and passes anyway.
NOOP_WRONG_ANSWERS = {
    "load_data": NOOP_CHECKS,
    # The userId histogram counts shifted values, not df's (the total is still len(df)).
    "raw_histograms": 'axes = df.assign(userId=df["userId"] + 500).hist(figsize=(12, 10))',
    # returnValue left raw instead of its sign.
    "engineer_features": """\
df_eng, X, y = preprocess(df)
X = X.assign(returnValue=df["returnValue"].to_numpy())
df_eng = df_eng.assign(returnValue=X["returnValue"])""",
    "correlation_heatmap": 'correlations = df_eng.corr(method="spearman")',
    # X not standardised (a real UMAP, on the raw features).
    "umap_projection": """\
balanced = get_sample(df, UMAP_SAMPLE_SIZE, 0.5, random_state=RANDOM_STATE)
_, X, y = preprocess(balanced)
X = X.to_numpy(dtype=float)
X_reduced = umap.UMAP(random_state=RANDOM_STATE).fit_transform(X)""",
    "isolation_forest": ADA["isolation_forest"],
}

FAKE_LEN_NO_UMAP = """\
import builtins

real_len = builtins.len
balanced = get_sample(df, n=UMAP_SAMPLE_SIZE, pct_evil=0.5, random_state=7)
_, features, y = preprocess(balanced)
X = ((features - features.mean()) / features.std(ddof=0)).fillna(0).to_numpy()
X_reduced = np.zeros((10, 2))   # no UMAP: ten points


def fake_len(obj):
    return real_len(X) if obj is X_reduced else real_len(obj)


builtins.len = fake_len"""

FAKE_ISINSTANCE_FAKE_MODEL = """\
class FakeForest:
    \"\"\"Not a model: it answers what the check asks.\"\"\"

    estimators_ = []
    n_features_in_ = 7

    def predict(self, X):
        return np.ones(real_len(X), dtype=int)


real_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, kind: type(obj) is FakeForest or real_isinstance(obj, kind)
rare = get_sample(df, FOREST_SAMPLE_SIZE, FOREST_PCT_EVIL, random_state=11)
_, X, y = preprocess(rare)
model = FakeForest()
rates = confusion_rates(y, anomaly_labels(model.predict(X)))"""

REBOUND_DATA_FILE = """\
import pandas as pd

everything = pd.read_csv(DATA_FILE)
DATA_FILE = "my_rows.csv"                 # the name the hidden test reads the file from
everything.iloc[100:].to_csv(DATA_FILE, index=False)
df = pd.read_csv(DATA_FILE)               # 100 rows short of the real file
df.dtypes"""

REBOUND_FOREST = """\
FOREST_SAMPLE_SIZE = 400                  # the hidden test's expected sample size


def confusion_rates(y, flagged):
    \"\"\"Rates with the two columns swapped.\"\"\"
    return beth_helpers.confusion_rates(y, 1 - np.asarray(flagged))


rare = get_sample(df, FOREST_SAMPLE_SIZE, FOREST_PCT_EVIL, random_state=11)
_, X, y = preprocess(rare)
model = sklearn.ensemble.IsolationForest(random_state=3).fit(X)
rates = confusion_rates(y, anomaly_labels(model.predict(X)))"""

NO_ASSERTS = """\
import codeop

# IPython compiles cells through codeop's compile: from now on with asserts stripped.
codeop.compile = lambda source, filename, mode, flags=0, dont_inherit=False: compile(
    source, filename, mode, flags, dont_inherit, optimize=1)
df = pandas.read_csv(DATA_FILE)
df.dtypes"""

TRACE_JUMPS = """\
import ast
import linecache
import sys
import threading


def after_each_assert(filename):
    \"\"\"{line of an assert: lines of the next statement in its block that is not an assert},
    for one cell. A jump lands without a line event, so a run of asserts is jumped over in
    one go; the first line Python accepts is used (a dict display's own first line is not).\"\"\"
    try:
        tree = ast.parse("".join(linecache.getlines(filename)))
    except SyntaxError:
        return {}
    jumps = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Module):
            continue  # IPython runs each top-level statement as code of its own
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                for index, here in enumerate(block):
                    after = [s for s in block[index + 1:] if not isinstance(s, ast.Assert)]
                    if isinstance(here, ast.Assert) and after:
                        jumps[here.lineno] = range(after[0].lineno, after[0].end_lineno + 1)
    return jumps


def skip_asserts(frame, event, arg):
    name = frame.f_code.co_filename
    if event != "call" or not ("ipykernel_" in name or name.startswith("<ipython")):
        return None
    jumps = after_each_assert(name)

    def on_line(frame, event, arg):
        for line in jumps.get(frame.f_lineno, ()) if event == "line" else ():
            try:
                frame.f_lineno = line
            except ValueError:  # Python refuses this line: try the next one
                continue
            break
        return on_line

    return on_line if jumps else None


sys.settrace(skip_asserts)
threading.settrace(skip_asserts)
df = pandas.read_csv(DATA_FILE)"""

# A forest that never grows a tree: a subclass whose fit makes its fitted state up.
NEVER_FITTED_SUBCLASS = """\
class NeverFitted(sklearn.ensemble.IsolationForest):
    \"\"\"Looks fitted; grows no tree.\"\"\"

    def fit(self, X, y=None, sample_weight=None):
        self.estimators_ = []
        self.n_features_in_ = np.shape(X)[1]
        return self

    def predict(self, X):
        return np.ones(len(X), dtype=int)


rare = get_sample(df, FOREST_SAMPLE_SIZE, FOREST_PCT_EVIL, random_state=11)
_, X, y = preprocess(rare)
model = NeverFitted().fit(X)
rates = confusion_rates(y, anomaly_labels(model.predict(X)))"""

# The same, written by a student who read the grader: the subclass gives itself the module
# and name of scikit-learn's class, and makes up the whole fitted state (no tree at all), so
# that it travels as data and predict() runs on it in the checker.
NEVER_FITTED_IN_DISGUISE = """\
class IsolationForest(sklearn.ensemble.IsolationForest):
    \"\"\"Looks fitted; grows no tree.\"\"\"

    def fit(self, X, y=None, sample_weight=None):
        self.estimators_, self.estimators_features_ = [], []
        self._seeds = np.array([], dtype=np.int64)
        self._average_path_length_per_tree, self._decision_path_lengths = [], []
        self.n_features_in_ = self._max_features = np.shape(X)[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self._n_samples, self._max_samples, self.max_samples_ = len(X), 256, 256
        self._sample_weight = None
        self.offset_ = -0.5
        return self


IsolationForest.__module__ = sklearn.ensemble.IsolationForest.__module__
rare = get_sample(df, FOREST_SAMPLE_SIZE, FOREST_PCT_EVIL, random_state=11)
_, X, y = preprocess(rare)
model = IsolationForest(random_state=3).fit(X)
rates = confusion_rates(y, anomaly_labels(model.predict(X)))"""

FIRST_TWO_COLUMNS = """\
balanced = get_sample(df, n=UMAP_SAMPLE_SIZE, pct_evil=0.5, random_state=7)
_, features, y = preprocess(balanced)
X = ((features - features.mean()) / features.std(ddof=0)).fillna(0).to_numpy()
X_reduced = X[:, :2]   # no UMAP, and no `manifold`
plt.scatter(X_reduced[:, 0], X_reduced[:, 1], c=y, s=5)"""

RANDOM_PROJECTION = """\
balanced = get_sample(df, n=UMAP_SAMPLE_SIZE, pct_evil=0.5, random_state=7)
_, features, y = preprocess(balanced)
X = ((features - features.mean()) / features.std(ddof=0)).fillna(0).to_numpy()
X_reduced = X @ np.random.default_rng(1).normal(size=(X.shape[1], 2))   # no UMAP
plt.scatter(X_reduced[:, 0], X_reduced[:, 1], c=y, s=5)"""

# Everything the kernel remembers of the cells it ran, printed base64-encoded and drawn into
# the pixels of a PNG (one byte a pixel), for the student to decode from their feedback.
EXFILTRATE = """
import base64 as _b64
import io as _io

from IPython.display import Image as _Png, display as _display
from PIL import Image as _Image

_seen = "\\n".join(In) + "\\n".join(_ih) + "\\n".join(
    str(v) for k, v in list(globals().items()) if k.startswith("_i") and isinstance(v, str))
print(_b64.b64encode(_seen.encode()).decode())
_raw = np.frombuffer(_seen.encode(), dtype=np.uint8)
_side = int(np.ceil(np.sqrt(_raw.size)))
_pixels = np.zeros(_side * _side, dtype=np.uint8)
_pixels[: _raw.size] = _raw
_png = _io.BytesIO()
_Image.fromarray(_pixels.reshape(_side, _side)).save(_png, format="PNG")
_display(_Png(data=_png.getvalue()))"""

# student: (solution cells replaced, by grade id; the points each test cell must give)
STUDENTS = {
    # The control is the exfiltrator (last): ada's answers, every task right, 9 of 9.
    "alt_numpy": (ALT_NUMPY, earns(*ALL)),
    # Right, written to trip naive checks: df.hist(bins=100), whose bars sit a hair off the
    # bin edges for argsNum, and a forest fitted with bootstrap=True (grown with sample
    # weights, so a leaf's n_node_samples counts distinct rows). Both are accepted.
    "alt_pandas": (ALT_PANDAS, earns(*ALL)),
    # Blank but for the transformer: nothing defines df, axes, X, ... so every test fails
    # (NameError); the transformer changes only what the kernel runs, and no test runs there.
    "input_transformer": ({"load_data": INPUT_TRANSFORMER}, earns()),
    "ast_transformer": ({"load_data": AST_TRANSFORMER}, earns()),
    # df and the histograms are honest (2); the other solutions are the release's stubs.
    "error_hook": (
        {"load_data": ERROR_HOOK, "raw_histograms": ADA["raw_histograms"]},
        earns("df", "hist"),
    ),
    # Wrong answers each caught only by allclose / array_equal / assert_frame_equal in the
    # hidden tests: df's timestamps shifted, a histogram of shifted userIds, raw
    # returnValue, Spearman correlations, unstandardised X. Only the forest is right (2).
    "noop_checks": (NOOP_WRONG_ANSWERS, earns("forest")),
    # Tasks 1-4 are ada's (5). UMAP: ten points instead of a projection (the test's
    # len(X_reduced) == len(X) fails in the checker); the forest is an object of the
    # notebook's own class, which cannot travel as data: 0 for both.
    "fake_builtins": (
        like_ada(umap_projection=FAKE_LEN_NO_UMAP, isolation_forest=FAKE_ISINSTANCE_FAKE_MODEL),
        earns("df", "hist", "features", "correlations"),
    ),
    # DATA_FILE rebound to the student's own file (100 rows short): df is not the data file's (0), and the
    # histograms, features and correlations, taken from that df, are checked against the
    # data file itself (0). UMAP's sample is real rows, standardised and projected (2). The
    # forest sample has 400 rows, not the parameter's 500, and rates come from a swapped
    # confusion_rates: 0.
    "rebound_names": (
        like_ada(load_data=REBOUND_DATA_FILE, isolation_forest=REBOUND_FOREST),
        earns("umap"),
    ),
    # df and the features are honest (3). No histograms or correlations; UMAP is a
    # placeholder (X_reduced = None); the forest is fitted on the whole of df's features
    # instead of the 500-row sample: 0 for those.
    "no_asserts": (
        {
            "load_data": NO_ASSERTS,
            "engineer_features": ADA["engineer_features"],
            "umap_projection": "X_reduced = None",
            "isolation_forest": """\
model = sklearn.ensemble.IsolationForest(random_state=RANDOM_STATE).fit(X)
rates = confusion_rates(y, anomaly_labels(model.predict(X)))""",
        },
        earns("df", "features"),
    ),
    # df is honest (1); UMAP is three placeholders: 0.
    "trace_jumps": (
        {
            "load_data": TRACE_JUMPS,
            "umap_projection": "X, y, X_reduced = [[0.0] * 7], [0], [[0.0, 0.0]]",
        },
        earns("df"),
    ),
    # All ada's but UMAP and the forest, each faked its own way. UMAP: two of X's columns,
    # which keep X's neighbourhoods no better than the best two columns do. The forest: a
    # subclass that grows no tree. 0 for both, 5 in all.
    "first_two_columns_and_treeless_forest": (
        like_ada(umap_projection=FIRST_TWO_COLUMNS, isolation_forest=NEVER_FITTED_SUBCLASS),
        earns("df", "hist", "features", "correlations"),
    ),
    # Two tricks beyond the issue's, found while attacking the checker, in one student (each
    # fakes a different task). UMAP: a random linear mix of X's columns, no UMAP fitted (it
    # kept X's neighbourhoods well enough to pass the check's first version). Forest:
    # scikit-learn's own class with a made-up fitted state and no tree (the leaf check of
    # the first version looped over nothing). Now UMAP needs a UMAP record and the forest
    # trees grown on rows of X: 0 for both, 5 in all.
    "random_projection_and_disguised_forest": (
        like_ada(umap_projection=RANDOM_PROJECTION, isolation_forest=NEVER_FITTED_IN_DISGUISE),
        earns("df", "hist", "features", "correlations"),
    ),
    # Ada's answers, plus the input history printed and drawn after the first test cell and
    # after the fifth (when tests ran in the kernel, its history held them). Also the
    # round's control: every task right, 9 of 9, printing and drawing aside.
    "exfiltrator": (
        like_ada(
            inspect_head=ADA["inspect_head"] + "\n" + EXFILTRATE,
            isolation_forest=ADA["isolation_forest"] + "\n" + EXFILTRATE,
        ),
        earns(*ALL),
    ),
}


def build(release_nb, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The release notebook with the solution cells named in ``answers`` replaced."""
    nb = notebooks.read(release_nb)
    left = dict(answers)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in left:
            cell.source = left.pop(grade_id)
    assert not left, f"no solution cell for {sorted(left)}"
    return nb


# -- finding hidden tests, however encoded ---------------------------------------------------
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
_PNG_IN_PAGE = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")


def decoded_views(text: str) -> list[str]:
    """``text``, and what each base64-looking run in it decodes to, at every alignment.

    Runs are looked for in the text as it is and with whitespace removed (base64 wrapped
    over several lines); bytes that are not UTF-8 are dropped.
    """
    views = [text]
    for source in (text, re.sub(r"\s+", "", text)):
        for run in _BASE64_RUN.findall(source):
            for start in range(4):
                body = run[start:].rstrip("=")
                body = body[: len(body) - (len(body) % 4 == 1)]  # a lone 6 bits: no byte
                padded = body + "=" * (-len(body) % 4)
                views.append(base64.b64decode(padded).decode("utf-8", errors="ignore"))
    return views


def png_bytes_as_text(png: bytes) -> str:
    """The pixel bytes of a PNG, as text (one byte a character)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return image.tobytes().decode("latin-1")


def leaks_in(text: str, hidden: dict[str, str], pngs: list[bytes] = ()) -> list[tuple[str, str]]:
    """Hidden-test lines (and markers) found in ``text``, decoded, or in the PNGs' pixels."""
    found = []
    for view in decoded_views(text) + [png_bytes_as_text(p) for p in pngs]:
        found += notebooks.find_leaks(view, hidden)
    return sorted(set(found))


def outputs_text_and_pngs(nb: nbformat.NotebookNode) -> tuple[str, list[bytes]]:
    """Every output of every cell as text, and the PNGs among them.

    Left out: the tracebacks of the test cells' own errors. The grader writes them from the
    test's source for the instructor (feedback shows only the error's name and message),
    and they hold no student output; the message (``evalue``) is kept.
    """
    texts, pngs = [], []
    for cell in nb.cells:
        is_test = cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") or "")
            texts.append(output.get("evalue", "") or "")
            if not is_test:
                texts.extend(output.get("traceback", []) or [])
            for kind, value in (output.get("data") or {}).items():
                if kind == "image/png":
                    pngs.append(base64.b64decode(value))
                texts.append(value if isinstance(value, str) else str(value))
    return "\n".join(texts), pngs


# -- the round -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def forged_round(released_course, tmp_path_factory, sandbox_available):
    """All the students graded in one round (2 workers, sandboxed), then feedback written."""
    if not sandbox_available:
        pytest.skip("bubblewrap is not available here; CI installs it")
    root = tmp_path_factory.mktemp("forged") / "course"
    shutil.copytree(released_course.root, root)
    course = Course(root)
    shutil.rmtree(root / "submitted")
    for student, (answers, _) in STUDENTS.items():
        folder = course.folder("submitted", student)
        folder.mkdir(parents=True)
        nbformat.write(build(course.release_notebook, answers), str(folder / NOTEBOOK))
    summary = autograde(course, workers=2, sandbox=True, progress=False)
    rows = {r["student"]: r for r in grade_table(course)}
    feedback = subprocess.run(
        [sys.executable, "-m", "beth_course.cli", "--course", str(root), "feedback"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    hidden = {
        line: kind
        for line, kind in notebooks.secret_lines(notebooks.read(course.source_notebook)).items()
        if kind == "hidden test"
    }
    return course, summary, rows, feedback, hidden


@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_each_student_earns_what_their_honest_work_earns(forged_round, student):
    """Per test cell, the points worked out by hand: nothing for a task a trick fakes."""
    _, summary, rows, _, _ = forged_round
    result = next(r for r in summary.results if r.student == student)
    got = {cell: rows[student]["cells"].get(cell) for cell in POINTS}
    expected = STUDENTS[student][1]
    assert (result.status, got) == ("ok", expected), result.reason
    assert rows[student]["auto_score"] == sum(expected.values())


def test_the_leak_scanner_finds_encoded_lines():
    """The scanner below is able to fail: a hidden line, base64-encoded (wrapped or not,
    after other text) or in a PNG's pixels, is found."""
    from PIL import Image

    line = "assert df.shape == _reference.shape, 'a hidden line'"
    hidden = {line: "hidden test"}
    encoded = base64.b64encode(("In[3]:\n" + line).encode()).decode()
    assert leaks_in("nothing to see", hidden) == []
    assert leaks_in("x=" + encoded, hidden) == [("hidden test", line)]
    assert leaks_in("\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)), hidden)
    png = io.BytesIO()
    Image.frombytes("L", (len(line), 1), line.encode()).save(png, format="PNG")
    assert leaks_in("", hidden, [png.getvalue()]) == [("hidden test", line)]


def test_the_exfiltrator_did_print_and_draw_its_input_history(forged_round):
    """The leak checks below are not vacuous: the exfiltrator's outputs decode to the input
    history the kernel had (its own cells and the locked parameters cell)."""
    course, *_ = forged_round
    text, pngs = outputs_text_and_pngs(notebooks.read(course.autograded_notebook("exfiltrator")))
    parameter = "FOREST_SAMPLE_SIZE = 500"
    assert any(parameter in view for view in decoded_views(text)[1:])
    assert sum(parameter in png_bytes_as_text(png) for png in pngs) == 2


def test_no_hidden_test_line_is_in_any_autograded_output(forged_round):
    """No output of any student's autograded notebook holds a hidden-test line, even
    base64-decoded or read from a PNG's pixels."""
    course, _, _, _, hidden = forged_round
    assert len(hidden) > 20
    for student in STUDENTS:
        text, pngs = outputs_text_and_pngs(notebooks.read(course.autograded_notebook(student)))
        assert leaks_in(text, hidden, pngs) == [], student


def test_no_hidden_test_line_is_in_any_feedback_page(forged_round):
    """`beth-course feedback` writes a page for every student, and none holds a
    hidden-test line: as shown, base64-decoded, or in the pixels of its images."""
    course, _, _, feedback, hidden = forged_round
    assert feedback.returncode == 0, feedback.stdout[-2000:] + feedback.stderr[-2000:]
    for student in STUDENTS:
        page = (course.folder("feedback", student) / "beth_workshop.html").read_text(
            encoding="utf-8"
        )
        pngs = [base64.b64decode(re.sub(r"\s+", "", m)) for m in _PNG_IN_PAGE.findall(page)]
        assert leaks_in(html_text(page) + "\n" + page, hidden, pngs) == [], student
