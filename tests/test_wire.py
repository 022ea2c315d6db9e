"""Values cross from the student's kernel to the checker as data, and only as data."""

from __future__ import annotations

import math
import struct

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from beth_course.grading import wire  # noqa: E402


def roundtrip(**values):
    return wire.decode(wire.encode(values))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -3,
        2**70,
        1.5,
        math.inf,
        "text",
        b"\x00\xff",
        2 + 3j,
        [1, "a"],
        (1, (2, 3)),
        {1, 2},
        frozenset({"x"}),
        {"k": [1, 2.5], 3: None},
    ],
    ids=repr,
)
def test_plain_values_come_back_equal_and_of_the_same_type(value):
    """JSON-like values, with the types JSON itself would lose."""
    back = roundtrip(v=value)["v"]
    assert back == value and type(back) is type(value)


def test_nan_comes_back_as_nan():
    """Floats are sent by their repr, so nan and the last digit survive."""
    back = roundtrip(a=float("nan"), b=0.1 + 0.2)
    assert math.isnan(back["a"]) and back["b"] == 0.1 + 0.2


def test_numpy_arrays_and_scalars_keep_dtype_and_shape():
    """Arrays travel as .npy; a numpy scalar stays a numpy scalar."""
    array = np.arange(12, dtype=np.int32).reshape(3, 4)
    back = roundtrip(a=array, s=np.float64(2.5), b=np.array([True, False]))
    assert back["a"].dtype == np.int32 and np.array_equal(back["a"], array)
    assert isinstance(back["s"], np.float64) and back["s"] == 2.5
    assert back["b"].dtype == bool


def test_dataframe_keeps_columns_dtypes_index_and_text(real_rows):
    """A DataFrame of real BETH rows comes back equal, dtypes included."""
    frame = real_rows.iloc[100:400]
    back = roundtrip(df=frame)["df"]
    pd.testing.assert_frame_equal(back, frame)


def test_series_keeps_its_name_or_lack_of_one():
    """Series come back as Series, named or not."""
    back = roundtrip(a=pd.Series([1, 2], name="evil"), b=pd.Series([1.5]))
    assert back["a"].name == "evil" and list(back["a"]) == [1, 2]
    assert back["b"].name is None and back["b"].iloc[0] == 1.5


def test_axes_come_back_as_real_axes_showing_the_same_bars():
    """A histogram's titles and bar heights survive; the Axes is the checker's own."""
    from matplotlib.axes import Axes

    frame = pd.DataFrame({"a": [1, 1, 2, 3], "b": [0.5, 0.5, 0.5, 9.0]})
    axes = frame.hist(bins=3)
    back = roundtrip(axes=axes)["axes"]
    plt.close("all")
    assert back.shape == axes.shape
    for sent, got in zip(axes.ravel(), back.ravel(), strict=False):
        assert isinstance(got, Axes) and got.get_title() == sent.get_title()
        assert [p.get_height() for p in got.patches] == [p.get_height() for p in sent.patches]


def test_fitted_isolation_forest_loads_and_predicts_the_same():
    """scikit-learn estimators travel through skops and predict as the original does."""
    from sklearn.ensemble import IsolationForest

    X = np.random.default_rng(0).normal(size=(200, 3))
    model = IsolationForest(n_estimators=10, random_state=0).fit(X)
    back = roundtrip(model=model)["model"]
    assert type(back) is IsolationForest
    assert np.array_equal(back.predict(X), model.predict(X))


def _forest_subclass():
    from sklearn.ensemble import IsolationForest

    class Forest(IsolationForest):
        """A student's own forest, with whatever methods they like."""

    Forest.__module__, Forest.__qualname__ = "__main__", "Forest"
    return IsolationForest, Forest


def test_an_estimator_subclass_is_not_sent():
    """A student's own class (here an IsolationForest subclass) is not sent as an estimator."""
    base, forest = _forest_subclass()
    back = roundtrip(model=forest(n_estimators=5).fit(np.zeros((20, 2))))["model"]
    assert isinstance(back, wire.Unreadable) and not isinstance(back, base)


def test_a_forged_estimator_with_an_untrusted_type_is_not_loaded(monkeypatch):
    """Even sent as skops data, a type off the allow-list is refused by the reader."""
    import json
    import sys
    import types

    import skops.io

    base, forest = _forest_subclass()
    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(Forest=forest))
    blob = skops.io.dumps(forest(n_estimators=5).fit(np.zeros((20, 2))))
    head = json.dumps({"values": {"model": {"$skops": [0, len(blob)], "type": "x"}}}).encode()
    back = wire.decode(wire.MAGIC + struct.pack("<Q", len(head)) + head + blob)["model"]
    assert isinstance(back, wire.Unreadable)
    with pytest.raises(TypeError, match="does not load: __main__.Forest"):
        back.predict  # noqa: B018 -- the attribute access itself must fail


def test_objects_that_are_not_data_become_unreadable_with_the_reason():
    """An arbitrary object is never sent; using its stand-in fails with a message."""

    class Anything:
        pass

    back = roundtrip(thing=Anything(), objects=np.array([Anything()], dtype=object))
    for name in ("thing", "objects"):
        assert isinstance(back[name], wire.Unreadable)
        with pytest.raises(TypeError, match=f"{name} .*could not be passed"):
            len(back[name])


def test_a_hostile_object_that_raises_while_read_is_unreadable():
    """A DataFrame subclass whose methods raise does not break the capture of the others."""

    class Boom(pd.DataFrame):
        def __arrow_c_stream__(self, *args, **kwargs):
            raise RuntimeError("nope")

        @property
        def _constructor(self):
            raise RuntimeError("nope")

    back = roundtrip(bad=Boom({"a": [1]}), good=[1])
    assert back["good"] == [1]


def test_functions_become_stand_ins_only_where_the_checker_asks():
    """Top-level functions are called by name through the grader; without a hook, unreadable."""

    def square(x):
        return x * x

    data = wire.encode({"square": square, "nested": [square]})
    plain = wire.decode(data)
    assert isinstance(plain["square"], wire.Unreadable) and isinstance(
        plain["nested"][0], wire.Unreadable
    )
    hooked = wire.decode(data, on_callable=lambda name: ("stand-in", name))
    assert hooked["square"] == ("stand-in", "square")


def test_modules_are_reimported_by_name_not_sent():
    """A module value is the checker's own import of the same name."""
    import statistics

    assert roundtrip(m=statistics)["m"] is statistics


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a container",
        wire.MAGIC + struct.pack("<Q", 10**9),
        wire.MAGIC + struct.pack("<Q", 3) + b"{x}",
    ],
)
def test_malformed_containers_are_refused(data):
    """Bytes that are not a container raise WireError, never anything worse."""
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_a_part_pointing_outside_the_container_makes_that_value_unreadable():
    """A forged header cannot make the reader read past the data it was given."""
    import json

    head = json.dumps({"values": {"x": {"$npy": [0, 10**6]}, "ok": 1}}).encode()
    back = wire.decode(wire.MAGIC + struct.pack("<Q", len(head)) + head + b"short")
    assert isinstance(back["x"], wire.Unreadable) and back["ok"] == 1


def test_pickled_numpy_arrays_are_not_loaded():
    """An .npy holding pickled objects is refused (allow_pickle=False)."""
    import io
    import json

    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    blob = buffer.getvalue()
    head = json.dumps({"values": {"x": {"$npy": [0, len(blob)]}}}).encode()
    back = wire.decode(wire.MAGIC + struct.pack("<Q", len(head)) + head + blob)
    assert isinstance(back["x"], wire.Unreadable)


def test_a_forest_travels_as_its_state_not_through_skops_and_predicts_the_same(monkeypatch):
    """The usual model path is scikit-learn's own state (fast); skops is not needed for it."""
    import skops.io
    from sklearn.ensemble import IsolationForest

    def no_skops(*args, **kwargs):
        raise AssertionError("skops was used")

    frame = pd.DataFrame(np.random.default_rng(1).normal(size=(120, 3)), columns=["a", "b", "c"])
    model = IsolationForest(n_estimators=5, random_state=0).fit(frame)
    monkeypatch.setattr(skops.io, "dumps", no_skops)
    back = roundtrip(model=model)["model"]
    assert type(back) is IsolationForest and list(back.feature_names_in_) == ["a", "b", "c"]
    assert np.array_equal(back.predict(frame), model.predict(frame))


def test_an_estimator_of_a_class_off_the_list_is_not_rebuilt():
    """A forged $estimator naming something that is not a scikit-learn estimator is refused."""
    import json

    for kind in ("os.system", "subprocess.Popen", "sklearn.utils.Bunch"):
        head = json.dumps({"values": {"m": {"$estimator": {"class": kind, "state": {}}}}}).encode()
        back = wire.decode(wire.MAGIC + struct.pack("<Q", len(head)) + head)["m"]
        assert isinstance(back, wire.Unreadable), kind
