"""Values as data: how a student's variables travel from their kernel to the checker.

The checker never unpickles or calls anything the student's kernel made. What crosses is a
*container* of bytes: ``MAGIC``, a JSON header and binary parts. The header describes each
value as a node:

- JSON for ``None``, booleans, integers, strings, and tagged forms for floats
  (``{"$float": "nan"}``), tuples, sets, dictionaries, bytes and complex numbers;
- ``{"$npy": [offset, length]}``: a numpy array or scalar as ``.npy`` (read with
  ``allow_pickle=False``; object arrays do not travel);
- ``{"$arrow": [...], "as": "frame"|"series"}``: a pandas DataFrame or Series as an Arrow
  IPC stream (no code runs when it is read);
- ``{"$skops": [...], "type": ...}``: a scikit-learn estimator, read with
  ``skops.io.loads`` and only if every type it holds is on :data:`TRUSTED_TYPES`;
- ``{"$axes": {...}}``: a matplotlib Axes as what it shows (title, labels, limits, the
  rectangles of its bars, the points of its lines and scatters), rebuilt as a real Axes;
- ``{"$umap": {...}}``: a fitted UMAP as its embedding, fuzzy neighbour graph (CSR arrays)
  and ``n_neighbors``, rebuilt as a :class:`UMAP` record (umap's code never runs);
- ``{"$module": name}``: a module the checker has already loaded, by name;
- ``{"$callable": name}``: a function of the notebook, which the checker may call through
  the grader (arguments and result cross as data, see :mod:`.checker`);
- ``{"$unsupported": {"type": ..., "why": ...}}``: anything else, rebuilt as
  :class:`Unreadable`, which fails every use with a message that says why.

Both ends use this module: the kernel side (:func:`encode`) runs inside the student's
kernel, where it can be tampered with, which costs nothing: whatever bytes arrive are
parsed as data by :func:`decode` in a process no student code ever ran in.
"""

from __future__ import annotations

import base64
import io
import json
import math
import struct
import types

MAGIC = b"BETHWIRE1"
MAX_DEPTH = 20
MAX_NODES = 100_000
MAX_AXES_ITEMS = 200_000

# Types skops may build when it reads an estimator; anything else is refused.
TRUSTED_TYPES = (
    "sklearn.tree._tree.Tree",
    "numpy.dtype",
    "numpy.random.mtrand.RandomState",
    "numpy.random._mt19937.MT19937",
)
TRUSTED_MODULE_PREFIX = "sklearn."


class WireError(ValueError):
    """Bytes that are not a well-formed container."""


class Unsupported(Exception):
    """A value this module cannot send as data."""


# -- encoding (in the student's kernel, or in the checker for call arguments) -----------------
class _Writer:
    def __init__(self) -> None:
        self.parts = io.BytesIO()
        self.nodes = 0

    def part(self, data: bytes) -> list[int]:
        offset = self.parts.tell()
        self.parts.write(data)
        return [offset, len(data)]


def encode(values: dict[str, object], callables: bool = True) -> bytes:
    """A container holding ``values`` by name (see the module docstring)."""
    writer = _Writer()
    header = {
        "values": {name: _node(value, writer, 0, callables, name) for name, value in values.items()}
    }
    head = json.dumps(header, allow_nan=False).encode()
    return MAGIC + struct.pack("<Q", len(head)) + head + writer.parts.getvalue()


def unreadable(names: list[str], why: str) -> bytes:
    """A container in which each of ``names`` is unreadable, saying ``why``."""
    values = {n: {"$unsupported": {"type": "not received", "why": why[:300]}} for n in names}
    head = json.dumps({"values": values}).encode()
    return MAGIC + struct.pack("<Q", len(head)) + head


def _node(value, w: _Writer, depth: int, callables: bool, name: str = ""):
    w.nodes += 1
    if depth > MAX_DEPTH or w.nodes > MAX_NODES:
        return _unsupported(value, "nested too deeply or too large")
    try:
        return _encode_value(value, w, depth, callables, name)
    except Unsupported as exc:
        return _unsupported(value, str(exc))
    except Exception as exc:  # a student's object can fail in any way while being read
        return _unsupported(value, f"{type(exc).__name__} while reading it: {exc}"[:300])


def _encode_value(value, w: _Writer, depth: int, callables: bool, name: str):
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value if abs(value) < 2**53 else {"$int": str(value)}
    if type(value) is float:
        return {"$float": repr(value)}
    if type(value) is complex:
        return {"$complex": [repr(value.real), repr(value.imag)]}
    if type(value) in (bytes, bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if type(value) in (list, tuple, set, frozenset):
        items = [_node(v, w, depth + 1, False) for v in value]
        return items if type(value) is list else {"$" + type(value).__name__: items}
    if type(value) is dict:
        return {
            "$dict": [
                [_node(k, w, depth + 1, False), _node(v, w, depth + 1, False)]
                for k, v in value.items()
            ]
        }
    special = _encode_special(value, w, depth)
    if special is not None:
        return special
    if isinstance(value, types.ModuleType):
        return {"$module": value.__name__}
    if callables and depth == 0 and name and callable(value):
        return {"$callable": name}
    raise Unsupported("this kind of value cannot be passed to the grader")


def _encode_special(value, w: _Writer, depth: int):
    """numpy, pandas, scikit-learn and matplotlib values; None for anything else."""
    module = type(value).__module__ or ""
    if module.startswith("numpy"):
        return _encode_numpy(value, w, depth)
    if module.startswith("pandas"):
        return _encode_pandas(value, w)
    if module.startswith("sklearn.") and hasattr(value, "get_params"):
        return _encode_estimator(value, w, depth)
    if _type_name(value) == "sklearn.tree._tree.Tree":
        return _encode_tree(value, w, depth)
    if module.startswith("matplotlib") and _is_axes(value):
        return {"$axes": _axes_summary(value)}
    if module.startswith("umap") and type(value).__name__ == "UMAP":
        return _encode_umap(value, w)
    return None


def _encode_umap(value, w: _Writer) -> dict:
    """A fitted UMAP as its data: the embedding, the fuzzy neighbour graph, n_neighbors."""
    import io as _io

    import numpy as np

    graph = value.graph_.tocsr()
    parts = {}
    for key, array in (
        ("embedding", value.embedding_),
        ("data", graph.data),
        ("indices", graph.indices),
        ("indptr", graph.indptr),
    ):
        buffer = _io.BytesIO()
        np.save(buffer, np.asarray(array), allow_pickle=False)
        parts[key] = w.part(buffer.getvalue())
    return {
        "$umap": {
            **parts,
            "shape": [int(n) for n in graph.shape],
            "n_neighbors": int(value.n_neighbors),
        }
    }


def _encode_estimator(value, w: _Writer, depth: int):
    """A scikit-learn estimator as its class name and state (``__getstate__``), each value
    encoded as data; skops, slower, for an estimator whose state holds anything else."""
    state = {str(k): _node(v, w, depth + 1, False) for k, v in value.__getstate__().items()}
    if not any(_has_unsupported(node) for node in state.values()):
        return {"$estimator": {"class": _type_name(value), "state": state}}
    import skops.io

    return {"$skops": w.part(skops.io.dumps(value)), "type": _type_name(value)}


def _encode_tree(tree, w: _Writer, depth: int):
    """scikit-learn's compiled Tree: its constructor's arguments and its arrays."""
    import numpy as np

    state = tree.__getstate__()
    return {
        "$tree": {
            "n_features": int(tree.n_features),
            "n_outputs": int(tree.n_outputs),
            "n_classes": _node(np.asarray(tree.n_classes, dtype=np.intp), w, depth + 1, False),
            "state": {str(k): _node(v, w, depth + 1, False) for k, v in state.items()},
        }
    }


def _has_unsupported(node) -> bool:
    if type(node) is list:
        return any(_has_unsupported(n) for n in node)
    if type(node) is not dict:
        return False
    if "$unsupported" in node:
        return True
    return any(_has_unsupported(n) for n in node.values())


def _encode_numpy(value, w: _Writer, depth: int):
    import numpy as np

    if isinstance(value, np.ndarray) and value.dtype == object:
        flat = value.ravel()
        if flat.size and all(type(a) is str for a in flat):
            return {"$strings": [str(a) for a in flat], "shape": list(value.shape)}
        if flat.size and all(_is_axes(a) for a in flat):
            return {
                "$axes_array": {
                    "shape": list(value.shape),
                    "items": [{"$axes": _axes_summary(a)} for a in flat],
                }
            }
        raise Unsupported("a numpy array of Python objects")
    if isinstance(value, (np.ndarray, np.generic)):
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(value), allow_pickle=False)
        return {"$npy": w.part(buffer.getvalue()), "scalar": isinstance(value, np.generic)}
    return None


def _encode_pandas(value, w: _Writer):
    import pandas as pd
    import pyarrow as pa

    if isinstance(value, pd.Series):
        frame, kind = (
            value.to_frame(name=value.name if value.name is not None else "__series__"),
            "series",
        )
    elif isinstance(value, pd.DataFrame):
        frame, kind = value, "frame"
    elif isinstance(value, pd.Index):
        frame, kind = pd.DataFrame({"__index__": value}), "index"
    else:
        return None
    table = pa.Table.from_pandas(frame)
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return {"$arrow": w.part(sink.getvalue().to_pybytes()), "as": kind}


def _is_axes(value) -> bool:
    try:
        from matplotlib.axes import Axes
    except ImportError:
        return False
    return isinstance(value, Axes)


def _axes_summary(ax) -> dict:
    """What an Axes shows, as plain data."""
    import numpy as np

    patches = []
    for patch in ax.patches[:MAX_AXES_ITEMS]:
        box = patch.get_bbox() if not hasattr(patch, "get_height") else None
        if box is None:
            patches.append(
                [
                    float(patch.get_x()),
                    float(patch.get_y()),
                    float(patch.get_width()),
                    float(patch.get_height()),
                ]
            )
        else:
            patches.append([float(box.x0), float(box.y0), float(box.width), float(box.height)])
    lines = [
        np.asarray(line.get_xydata(), dtype=float)[:MAX_AXES_ITEMS].tolist()
        for line in ax.get_lines()[:100]
    ]
    points = [
        np.asarray(c.get_offsets(), dtype=float)[:MAX_AXES_ITEMS].tolist()
        for c in ax.collections[:100]
        if hasattr(c, "get_offsets")
    ]
    return {
        "title": str(ax.get_title()),
        "xlabel": str(ax.get_xlabel()),
        "ylabel": str(ax.get_ylabel()),
        "xlim": [float(v) for v in ax.get_xlim()],
        "ylim": [float(v) for v in ax.get_ylim()],
        "patches": patches,
        "lines": lines,
        "points": points,
    }


def _type_name(value) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _unsupported(value, why: str) -> dict:
    try:
        kind = _type_name(value)
    except Exception:  # a hostile __class__ property
        kind = "an unknown type"
    return {"$unsupported": {"type": str(kind)[:200], "why": str(why)[:300]}}


# -- decoding (in the checker: data only) -------------------------------------------------------
class Unreadable:
    """Stands in for a value that could not be passed as data; every use fails, saying why."""

    def __init__(self, name: str, kind: str, why: str):
        object.__setattr__(
            self, "_message", f"{name} ({kind}) could not be passed to the grader: {why}"
        )

    def __repr__(self) -> str:
        return f"<{object.__getattribute__(self, '_message')}>"

    def __getattr__(self, attr):
        raise TypeError(object.__getattribute__(self, "_message"))

    def __bool__(self):
        raise TypeError(object.__getattribute__(self, "_message"))

    def __len__(self):
        raise TypeError(object.__getattribute__(self, "_message"))

    def __iter__(self):
        raise TypeError(object.__getattribute__(self, "_message"))

    def __array__(self, *args, **kwargs):
        raise TypeError(object.__getattribute__(self, "_message"))


def split(data: bytes) -> tuple[dict, memoryview]:
    """``(header, parts)`` of a container; :class:`WireError` if it is not one."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        raise WireError("not a value container")
    (size,) = struct.unpack_from("<Q", data, len(MAGIC))
    start = len(MAGIC) + 8
    if size > len(data) - start:
        raise WireError("the container's header is cut short")
    try:
        header = json.loads(bytes(data[start : start + size]))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"the container's header is not JSON: {type(exc).__name__}") from None
    if not isinstance(header, dict) or not isinstance(header.get("values"), dict):
        raise WireError("the container's header has no values")
    return header, memoryview(data)[start + size :]


def decode(data: bytes, on_callable=None) -> dict[str, object]:
    """The values of a container, rebuilt from data (see the module docstring).

    ``on_callable(name)`` makes the stand-in for a notebook function; without it, functions
    are :class:`Unreadable`.
    """
    header, parts = split(data)
    return {
        str(name): _safely(node, parts, str(name), on_callable)
        for name, node in header["values"].items()
    }


def _safely(node, parts, name: str, on_callable):
    """One value; a value that cannot be rebuilt becomes :class:`Unreadable`, saying why."""
    try:
        return _value(node, parts, name, on_callable, 0)
    except (Exception, RecursionError) as exc:  # numpy, Arrow and skops raise many types
        return Unreadable(name, "malformed data", f"{type(exc).__name__}: {str(exc)[:250]}")


def _part(parts: memoryview, ref) -> bytes:
    if (
        not isinstance(ref, list)
        or len(ref) != 2
        or not all(type(x) is int and x >= 0 for x in ref)
        or sum(ref) > len(parts)
    ):
        raise WireError("a part reference points outside the container")
    return bytes(parts[ref[0] : ref[0] + ref[1]])


def _value(node, parts, name: str, on_callable, depth: int):
    if depth > MAX_DEPTH:
        raise WireError("the container nests too deeply")
    if node is None or type(node) in (bool, int, str):
        return node
    if type(node) is list:
        return [_value(n, parts, name, None, depth + 1) for n in node]
    if type(node) is not dict or len(node) == 0:
        raise WireError(f"unknown node for {name}")
    tag = next(iter(node))
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise WireError(f"unknown node type {tag!r} for {name}")
    return decoder(node, parts, name, on_callable, depth)


def _items(node, key, parts, name, depth):
    items = node[key]
    if type(items) is not list:
        raise WireError(f"malformed {key} for {name}")
    return [_value(n, parts, name, None, depth + 1) for n in items]


def _float(text) -> float:
    if type(text) is not str or len(text) > 40:
        raise WireError("malformed float")
    return float(text)


def _dict(node, parts, name, depth):
    out = {}
    for pair in node["$dict"]:
        if type(pair) is not list or len(pair) != 2:
            raise WireError(f"malformed dict for {name}")
        key = _value(pair[0], parts, name, None, depth + 1)
        try:
            out[key] = _value(pair[1], parts, name, None, depth + 1)
        except TypeError:  # an unhashable key (a list): keep the data, as a string
            out[repr(key)] = _value(pair[1], parts, name, None, depth + 1)
    return out


def _npy(node, parts, name, _cb, _depth):
    import numpy as np

    array = np.load(io.BytesIO(_part(parts, node["$npy"])), allow_pickle=False)
    return array[()] if node.get("scalar") is True else array


def _arrow(node, parts, name, _cb, _depth):
    import pyarrow as pa

    with pa.ipc.open_stream(pa.BufferReader(_part(parts, node["$arrow"]))) as reader:
        frame = reader.read_all().to_pandas()
    kind = node.get("as")
    if kind == "series":
        series = frame.iloc[:, 0]
        return series.rename(None) if series.name == "__series__" else series
    if kind == "index":
        import pandas as pd

        return pd.Index(frame["__index__"])
    return frame


def _skops(node, parts, name, _cb, _depth):
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    data = _part(parts, node["$skops"])
    try:  # the usual case in one pass: skops' own defaults plus our short list
        return _well_formed(skops.io.loads(data, trusted=list(TRUSTED_TYPES)), name)
    except UntrustedTypesFoundException:  # other types: check each against the allow-list
        untrusted = skops.io.get_untrusted_types(data=data)
    refused = [t for t in untrusted if t not in TRUSTED_TYPES and not _trusted_estimator(t)]
    if refused:
        return Unreadable(
            name,
            str(node.get("type"))[:200],
            f"it holds types the grader does not load: {', '.join(refused)[:300]}",
        )
    return _well_formed(skops.io.loads(data, trusted=untrusted), name)


def _well_formed(model, name: str):
    """``model``, or Unreadable if one of its decision trees is not one scikit-learn could
    have grown: children out of range or pointing back (a crash or an endless walk in
    scikit-learn's compiled code), features out of range, arrays of the wrong length."""
    trees = [model] if hasattr(model, "tree_") else list(getattr(model, "estimators_", []) or [])
    for tree in trees:
        problem = _tree_problem(tree)
        if problem:
            return Unreadable(name, _type_name(model), f"a tree is not well-formed: {problem}")
    return model


def _tree_problem(estimator) -> str:
    import numpy as np

    tree = getattr(estimator, "tree_", None)
    if tree is None:
        return "a tree-based model without its tree"
    n = int(tree.node_count)
    left, right, feature = (
        np.asarray(a) for a in (tree.children_left, tree.children_right, tree.feature)
    )
    arrays = (left, right, feature, tree.threshold, tree.n_node_samples, tree.value)
    if n < 1 or any(len(a) != n for a in arrays):
        return "its arrays do not match its node count"
    leaf, index = left == -1, np.arange(n)
    if np.any(leaf != (right == -1)):
        return "a node has one child"
    inner = ~leaf
    if np.any(left[inner] <= index[inner]) or np.any(right[inner] <= index[inner]):
        return "a child comes before its parent"
    if np.any(left[inner] >= n) or np.any(right[inner] >= n):
        return "a child is out of range"
    features = int(getattr(estimator, "n_features_in_", tree.n_features))
    if (
        np.any(feature[inner] < 0)
        or np.any(feature[inner] >= features)
        or tree.n_features != features
    ):
        return "a split uses a feature out of range"
    if not np.all(np.isfinite(np.asarray(tree.threshold)[inner])):
        return "a threshold is not a number"
    return ""


def _estimator(node, parts, name, _cb, depth):
    """Rebuild an estimator of an allowed scikit-learn class from its state, as skops
    does (``__new__`` then ``__setstate__``); its trees are then checked."""
    import importlib

    spec = node["$estimator"]
    kind = spec.get("class") if type(spec) is dict else None
    state = spec.get("state") if type(spec) is dict else None
    if type(kind) is not str or type(state) is not dict or not _trusted_estimator(kind):
        return Unreadable(name, str(kind)[:200], "not a scikit-learn estimator the grader loads")
    module, _, qualname = kind.rpartition(".")
    cls = getattr(importlib.import_module(module), qualname)
    obj = cls.__new__(cls)
    obj.__setstate__({str(k): _value(v, parts, name, None, depth + 1) for k, v in state.items()})
    return _well_formed(obj, name)


def _tree(node, parts, name, _cb, depth):
    import numpy as np
    from sklearn.tree._tree import Tree

    spec = node["$tree"]
    n_features, n_outputs = spec.get("n_features"), spec.get("n_outputs")
    n_classes = np.asarray(
        _value(spec.get("n_classes"), parts, name, None, depth + 1), dtype=np.intp
    )
    if type(n_features) is not int or type(n_outputs) is not int or n_classes.shape != (n_outputs,):
        raise WireError(f"malformed tree for {name}")
    tree = Tree(n_features, n_classes, n_outputs)
    state = {str(k): _value(v, parts, name, None, depth + 1) for k, v in spec["state"].items()}
    tree.__setstate__(state)
    return tree


def _strings(node, parts, name, _cb, _depth):
    import numpy as np

    items, shape = node["$strings"], node.get("shape")
    if type(items) is not list or not all(type(i) is str for i in items) or type(shape) is not list:
        raise WireError(f"malformed strings for {name}")
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(shape)


def _trusted_estimator(type_name: str) -> bool:
    """A scikit-learn class (by its dotted name) that is an estimator or a tree."""
    if not type_name.startswith(TRUSTED_MODULE_PREFIX):
        return False
    module, _, qualname = type_name.rpartition(".")
    try:
        import importlib

        from sklearn.base import BaseEstimator

        kind = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError, ValueError):
        return False
    return isinstance(kind, type) and issubclass(kind, BaseEstimator)


def _axes(node, parts, name, _cb, _depth):
    return rebuild_axes(node["$axes"])


def _axes_array(node, parts, name, _cb, depth):
    import numpy as np
    from matplotlib.figure import Figure

    spec = node["$axes_array"]
    shape = spec.get("shape")
    figure = Figure()  # one figure for all of them: a figure each costs more than the axes
    raw = spec.get("items", [])
    if type(raw) is not list or len(raw) > 1000:
        raise WireError(f"malformed array of axes for {name}")
    items = [rebuild_axes(item["$axes"], figure, (len(raw), i + 1)) for i, item in enumerate(raw)]
    if type(shape) is not list or math.prod(shape) != len(items):
        raise WireError(f"malformed array of axes for {name}")
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(shape)


class UMAP:
    """A fitted UMAP as the checker sees it: data only (``embedding_``, ``graph_`` as a
    scipy CSR matrix, ``n_neighbors``); none of umap's code runs on it."""

    def __init__(self, embedding, graph, n_neighbors: int):
        self.embedding_, self.graph_, self.n_neighbors = embedding, graph, n_neighbors

    def __repr__(self) -> str:
        return f"<fitted UMAP, as data: {self.embedding_.shape[0]} points, n_neighbors={self.n_neighbors}>"


def _umap(node, parts, name, _cb, _depth):
    import numpy as np
    import scipy.sparse

    spec = node["$umap"]
    arrays = {
        key: np.load(io.BytesIO(_part(parts, spec[key])), allow_pickle=False)
        for key in ("embedding", "data", "indices", "indptr")
    }
    shape = spec.get("shape")
    if (
        type(shape) is not list
        or len(shape) != 2
        or not all(type(n) is int and n >= 0 for n in shape)
        or type(spec.get("n_neighbors")) is not int
        or arrays["embedding"].ndim != 2
    ):
        raise WireError(f"malformed UMAP for {name}")
    graph = scipy.sparse.csr_matrix(
        (arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(shape)
    )
    graph.check_format(full_check=True)
    return UMAP(arrays["embedding"], graph, spec["n_neighbors"])


def rebuild_axes(summary: dict, figure=None, place: tuple[int, int] = (1, 1)):
    """A real matplotlib Axes showing what ``summary`` describes (in ``figure``, as subplot
    ``place[1]`` of a column of ``place[0]``, when given)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    if type(summary) is not dict:
        raise WireError("malformed axes")
    ax = (figure or Figure()).add_subplot(place[0], 1, place[1])
    ax.set_title(str(summary.get("title", "")))
    ax.set_xlabel(str(summary.get("xlabel", "")))
    ax.set_ylabel(str(summary.get("ylabel", "")))
    for x, y, width, height in _rows(summary.get("patches", []), 4):
        ax.add_patch(Rectangle((x, y), width, height))
    for line in summary.get("lines", [])[:100]:
        points = _rows(line, 2)
        ax.plot([p[0] for p in points], [p[1] for p in points])
    for cloud in summary.get("points", [])[:100]:
        points = _rows(cloud, 2)
        ax.scatter([p[0] for p in points], [p[1] for p in points])
    for key, setter in (("xlim", ax.set_xlim), ("ylim", ax.set_ylim)):
        limits = _rows([summary.get(key, [])], 2)
        if limits:
            setter(*limits[0])
    return ax


def _rows(rows, width: int) -> list[list[float]]:
    if type(rows) is not list or len(rows) > MAX_AXES_ITEMS:
        raise WireError("malformed axes data")
    out = []
    for row in rows:
        if (
            type(row) is not list
            or len(row) != width
            or not all(type(v) in (int, float) for v in row)
        ):
            raise WireError("malformed axes data")
        out.append([float(v) for v in row])
    return out


def _module(node, parts, name, _cb, _depth):
    import sys

    module_name = node["$module"]
    module = sys.modules.get(module_name) if type(module_name) is str else None
    if module is None or module_name == "__main__":
        # Importing on request would run any installed program's module (a __main__).
        return Unreadable(name, "module", f"{str(module_name)[:100]} is not loaded in the checker")
    return module


def _callable(node, parts, name, on_callable, _depth):
    if on_callable is None or type(node["$callable"]) is not str:
        return Unreadable(name, "function", "functions can only be called by name")
    return on_callable(node["$callable"])


def _unsupported_value(node, parts, name, _cb, _depth):
    info = node["$unsupported"]
    info = info if type(info) is dict else {}
    return Unreadable(name, str(info.get("type", "?"))[:200], str(info.get("why", "?"))[:300])


_DECODERS = {
    "$int": lambda n, p, name, cb, d: int(str(n["$int"])[:5000]),
    "$float": lambda n, p, name, cb, d: _float(n["$float"]),
    "$complex": lambda n, p, name, cb, d: complex(
        _float(n["$complex"][0]), _float(n["$complex"][1])
    ),
    "$bytes": lambda n, p, name, cb, d: base64.b64decode(str(n["$bytes"]), validate=True),
    "$tuple": lambda n, p, name, cb, d: tuple(_items(n, "$tuple", p, name, d)),
    "$set": lambda n, p, name, cb, d: set(_items(n, "$set", p, name, d)),
    "$frozenset": lambda n, p, name, cb, d: frozenset(_items(n, "$frozenset", p, name, d)),
    "$dict": lambda n, p, name, cb, d: _dict(n, p, name, d),
    "$npy": _npy,
    "$arrow": _arrow,
    "$skops": _skops,
    "$estimator": _estimator,
    "$tree": _tree,
    "$strings": _strings,
    "$axes": _axes,
    "$axes_array": _axes_array,
    "$umap": _umap,
    "$module": _module,
    "$callable": _callable,
    "$unsupported": _unsupported_value,
}
