"""Runs inside the student's kernel while it is graded: hand values to the grader as data.

The grader evaluates ``fetch([...])`` and ``call(name, args)`` as IPython *user
expressions* (no cell, no history). Each returns a base64 string of a :mod:`.wire`
container. Student code may replace these functions or the libraries they use; that changes
only the data sent, which the checker verifies as it would any answer.
"""

from __future__ import annotations

import base64

from .wire import decode, encode


def _namespace() -> dict:
    from IPython import get_ipython

    return get_ipython().user_ns


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def fetch(names: list[str]) -> str:
    """The notebook's values of ``names`` (those it defines), as a container."""
    namespace = _namespace()
    return _b64(encode({name: namespace[name] for name in names if name in namespace}))


def call(name: str, arguments: str) -> str:
    """Call the notebook's function ``name`` with arguments sent as data; send back the
    result, or the name and message of what it raised."""
    values: dict = decode(base64.b64decode(arguments))
    function = _namespace().get(name)
    try:
        result = function(*values.get("args", ()), **values.get("kwargs", {}))  # type: ignore[misc]
    except Exception as exc:  # the student's function failing is an answer, sent as data
        return _b64(encode({"raised": [type(exc).__name__, str(exc)[:2000]]}, callables=False))
    return _b64(encode({"result": result}, callables=False))
