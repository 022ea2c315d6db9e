"""The checker: runs an assignment's tests where no student code has ever run.

Started by the grader once per notebook (``python -I -m beth_course.grading.checker``, in a
sandbox of its own), it evaluates, in order, the cells the grader sends it: the notebook's
locked cells (parameters, imports) and its test cells, hidden tests included, each as
IPython would (the value of a last expression is shown, what is printed is kept). The
student's kernel never receives a test.

Names a cell reads that no cell run here has defined are the student's: the checker asks
the grader for them, and the grader reads them from the student's kernel as data
(:mod:`.wire`), right when the test cell's turn comes. A student's function becomes a
:class:`StudentFunction`: calling it sends the arguments to the kernel and returns the
result, both as data. Names the checker's own cells define always win over the student's,
so a test can rely on the ``numpy`` and ``beth_helpers`` its notebook imported, and on
helpers an earlier test defined.

Protocol (:mod:`.protocol`; grader -> checker, then replies): ``run {code, name}`` ->
optionally ``need {names}`` <- ``values`` (blob), any number of ``call {name}`` (blob) <-
``returned`` (blob), then ``result {outputs}``: the cell's outputs in nbformat's JSON.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import linecache
import os
import sys
import traceback
import warnings
from typing import cast

from . import protocol, wire

MAX_TEXT = 100_000
_BUILTINS = set(dir(builtins))


# -- which names a cell reads from the student -----------------------------------------------
def bound_names(tree: ast.AST) -> set[str]:
    """Every name the code binds anywhere (assignments, imports, defs, loops, ...)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            args = node.args if not isinstance(node, ast.ClassDef) else None
            if args is not None:
                every = args.posonlyargs + args.args + args.kwonlyargs
                bound.update(a.arg for a in every + [args.vararg, args.kwarg] if a is not None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Lambda):
            bound.update(a.arg for a in node.args.args)
    return bound


def free_names(tree: ast.AST) -> set[str]:
    """Names the code reads but never binds, builtins left out."""
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return read - bound_names(tree) - _BUILTINS


_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _top_level_names(node: ast.AST, ctx: type) -> set[str]:
    """Names used with ``ctx`` in ``node`` outside nested scopes (defs, lambdas, comprehensions)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Name) and isinstance(current.ctx, ctx):
            found.add(current.id)
        stack += [c for c in ast.iter_child_nodes(current) if not isinstance(c, _SCOPES)]
    return found


def changed_student_names(code: str) -> set[str]:
    """Names of the student's that a test cell rebinds or deletes (``del squares``).

    Such a test changes the student's own variables (nbgrader's example course checks that
    ``sum_of_squares`` calls ``squares`` by deleting ``squares``); it cannot be run on
    copies in the checker, so the grader runs it in the student's kernel, as nbgrader
    does. A name counts when the cell reads it before binding it, or deletes it.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    state = _Order()
    state.visit(tree.body)
    return (state.read_first & (state.bound | state.deleted)) - _BUILTINS


class _Order:
    """Walks statements in the order they run, noting names read before they are bound."""

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.deleted: set[str] = set()
        self.read_first: set[str] = set()

    def read(self, node) -> None:
        if node is not None:
            self.read_first |= _top_level_names(node, ast.Load) - self.bound

    def bind(self, node) -> None:
        if node is not None:
            self.bound |= _top_level_names(node, ast.Store)

    def visit(self, statements) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, node) -> None:
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.read(item.context_expr)
                self.bind(item.optional_vars)
            self.visit(node.body)
        elif isinstance(node, (ast.If, ast.While)):
            self.read(node.test)
            self.visit(node.body)
            self.visit(node.orelse)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.read(node.iter)
            self.bind(node.target)
            self.visit(node.body)
            self.visit(node.orelse)
        elif isinstance(node, ast.Try):
            self.visit(node.body)
            for handler in node.handlers:
                self.read(handler.type)
                self.bound |= {handler.name} if handler.name else set()
                self.visit(handler.body)
            self.visit(node.orelse)
            self.visit(node.finalbody)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.bound.add(node.name)
        else:
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                self.read_first |= {node.target.id} - self.bound
            self.read(node)
            self.deleted |= _top_level_names(node, ast.Del)
            self.bind(node)


# -- running a cell --------------------------------------------------------------------------
def _stream(name: str, text: str) -> dict:
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"\n... ({len(text) - MAX_TEXT:,} more characters not kept)\n"
    return {"output_type": "stream", "name": name, "text": text}


def _error(exc: BaseException, filename: str) -> dict:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    message = _short(str(exc))
    lines = traceback.format_list(frames)[-20:] + [f"{type(exc).__name__}: {message}"]
    return {
        "output_type": "error",
        "ename": type(exc).__name__,
        "evalue": message,
        "traceback": ["Traceback (most recent call last):"]
        + [_short(line.rstrip("\n")) for line in lines],
    }


def _short(text: str) -> str:
    """At most MAX_TEXT characters, saying how many more there were."""
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f" ... ({len(text) - MAX_TEXT:,} more characters not kept)"


def _result(value) -> dict:
    from IPython.lib.pretty import pretty

    return {
        "output_type": "execute_result",
        "execution_count": None,
        "metadata": {},
        "data": {"text/plain": _short(pretty(value, max_seq_length=1000))},
    }


def _show_warning(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def execute(code: str, namespace: dict, filename: str) -> list[dict]:
    """Run ``code`` in ``namespace`` as IPython would; return its outputs (nbformat JSON).

    Warnings are shown on stderr, as in a kernel (nbgrader scores such a test 0).
    """
    outputs: list[dict] = []
    out, err = io.StringIO(), io.StringIO()
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        tree = ast.parse(code, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        last = cast("ast.Expr | None", last)
        with (
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(),
        ):
            warnings.showwarning = _show_warning
            exec(compile(tree, filename, "exec"), namespace)
            value = None
            if last is not None:
                expression = ast.Expression(last.value)
                value = eval(compile(expression, filename, "eval"), namespace)
    except BaseException as exc:  # the test failing is the result we report
        outputs = [o for o in (_collected(out, err)) if o] + [_error(exc, filename)]
        return outputs
    outputs = [o for o in _collected(out, err) if o]
    if value is not None and not code.rstrip().endswith(";"):
        outputs.append(_result(value))
    return outputs


def _collected(out: io.StringIO, err: io.StringIO) -> list[dict | None]:
    return [
        _stream("stdout", out.getvalue()) if out.getvalue() else None,
        _stream("stderr", err.getvalue()) if err.getvalue() else None,
    ]


# -- the student's functions -----------------------------------------------------------------
class StudentError(Exception):
    """What a student's function raised, when it is not one of Python's own exceptions."""


class StudentFunction:
    """A function of the student's notebook: called through the grader, data in and out."""

    def __init__(self, name: str, channel: Channel):
        self.__name__ = self.name = name
        self._channel = channel

    def __repr__(self) -> str:
        return f"<the notebook's function {self.name}>"

    def __call__(self, *args, **kwargs):
        sent = wire.encode({"args": list(args), "kwargs": dict(kwargs)}, callables=False)
        blob = self._channel.request({"op": "call", "name": self.name}, sent, "returned")
        values = wire.decode(blob)
        if "raised" in values:
            kind, message = (list(values["raised"]) + ["", ""])[:2]
            error = getattr(builtins, str(kind), None)
            if isinstance(error, type) and issubclass(error, Exception):
                raise error(message)
            raise StudentError(f"{kind}: {message}")
        return values.get("result")


class Channel:
    """The checker's end of the pipe to the grader."""

    def __init__(self, read_fd: int, write_fd: int, max_blob: int):
        self.read_fd, self.write_fd, self.max_blob = read_fd, write_fd, max_blob

    def send(self, header: dict, blob: bytes = b"") -> None:
        protocol.send(self.write_fd, header, blob)

    def receive(self) -> tuple[dict, bytes]:
        return protocol.receive(self.read_fd, self.max_blob)

    def request(self, header: dict, blob: bytes, expect: str) -> bytes:
        self.send(header, blob)
        reply, data = self.receive()
        if reply.get("op") != expect:
            raise protocol.ProtocolError(f"expected {expect}, got {reply.get('op')!r}")
        if reply.get("error"):
            raise StudentError(str(reply["error"]))
        return data


class Checker:
    """One notebook's checking namespace (module docstring)."""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.own: set[str] = set()

    def reserve(self, names) -> None:
        """Names the notebook's locked cells bind: never read from the student, even
        before their cell has run here (a test reading one too early fails)."""
        self.own |= {str(n) for n in names}

    def run(self, code: str, name: str) -> list[dict]:
        filename = f"<{name}>"
        try:
            tree = ast.parse(code, filename)
        except SyntaxError as exc:
            return [_error(exc, filename)]
        needed = sorted(free_names(tree) - self.own)
        if needed:
            self._load(needed)
        outputs = execute(code, self.namespace, filename)
        self.own |= bound_names(tree)
        return outputs

    def _load(self, names: list[str]) -> None:
        blob = self.channel.request({"op": "need", "names": names}, b"", "values")
        try:
            values = wire.decode(blob, on_callable=lambda n: StudentFunction(n, self.channel))
        except Exception as exc:  # whatever the bytes do to a parser, it is this test's error
            why = f"the values could not be read ({type(exc).__name__}: {str(exc)[:200]})"
            values = {name: wire.Unreadable(name, "data", why) for name in names}
        for name in names:
            self.namespace.pop(name, None)
        self.namespace.update({k: v for k, v in values.items() if k in names})


# What a checker decodes and checks values of each library with, by the top-level package
# that a notebook's locked cells import. A checker server loads those of the assignment's
# libraries once (see serve() and server_preload()); anything else is imported by the
# forked checker when it first needs it (a student's own DataFrame in a notebook that never
# imports pandas), which is slower but gives the same result.
_SKLEARN = (
    "numpy",
    "skops.io",
    "sklearn.ensemble",
    "sklearn.tree",
    "sklearn.manifold",
    "sklearn.preprocessing",
    "sklearn.metrics",
)
_MATPLOTLIB = ("matplotlib.figure", "matplotlib.patches", "matplotlib.pyplot")
DECODERS = {
    "numpy": ("numpy",),
    "pandas": ("numpy", "pandas", "pyarrow", "pyarrow.ipc"),
    "sklearn": _SKLEARN,
    "umap": _SKLEARN,
    "matplotlib": _MATPLOTLIB,
    "seaborn": _MATPLOTLIB,
}
ALWAYS = ("IPython.lib.pretty",)


def server_preload(imports: list[str]) -> list[str]:
    """What a checker server loads for notebooks whose locked cells import ``imports``: the
    decoders of the libraries among them, then the modules themselves. A notebook that
    imports nothing heavy starts its checker server in a fraction of a second, not 3 s."""
    found = list(ALWAYS)
    for name in imports:
        found += DECODERS.get(name.split(".")[0], ())
    return list(dict.fromkeys([*found, *imports]))


def _quiet_stdio() -> None:
    """What cells print goes to stderr (kept by the grader, bounded); stdin is empty."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    sys.stdout = sys.__stdout__ = open(1, "w", closefd=False)  # type: ignore[misc]


def check(fd: int, max_blob: int) -> int:
    """Serve one notebook's cells over ``fd`` until the grader closes it."""
    return _serve_cells(Channel(fd, fd, max_blob))


def _serve_cells(channel: Channel) -> int:
    """Run the cells the grader sends over ``channel`` until it is done with the notebook."""
    checker = Checker(channel)
    channel.send({"op": "ready", "pid": os.getpid()})
    while True:
        try:
            message, _ = channel.receive()
        except protocol.ProtocolError:  # the grader is done with this notebook
            return 0
        if message.get("op") == "reserve":
            checker.reserve(message.get("names", []))
            continue
        if message.get("op") != "run":
            return 0
        outputs = checker.run(str(message.get("code", "")), str(message.get("name", "cell")))
        channel.send({"op": "result", "outputs": outputs})


def _not_dumpable() -> None:
    """No process of the same user may ptrace this one or read its memory (prctl)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0


def _kill_groups(groups: list[int]) -> None:
    """Kill earlier checkers (each leads its own process group) that did not exit."""
    import signal

    while groups:
        try:
            os.killpg(groups.pop(), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue


def serve(control_fd: int, max_blob: int, preload: list[str]) -> int:
    """A server that imports once, then forks a fresh checker for each notebook.

    It never reads student data, so every checker it forks starts from a process in which
    no student code has run. The grader sends ``{"op": "fork", "lifetime": seconds}`` with a
    socket attached; the child serves that socket (:func:`check`) and is killed by an
    alarm after ``lifetime`` seconds whatever happens.
    """
    import importlib
    import json
    import signal
    import socket

    _not_dumpable()
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a module the notebook imports but this machine lacks
            print(f"checker: could not preload {name}: {exc}", file=sys.stderr)
    control = socket.socket(fileno=control_fd)
    control.sendall(json.dumps({"op": "ready", "pid": os.getpid()}).encode())
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    earlier: list[int] = []
    while True:
        data, fds, _, _ = socket.recv_fds(control, 4096, 1)
        if not data or not fds:
            _kill_groups(earlier)
            return 0
        request = json.loads(data)
        _kill_groups(earlier)
        pid = os.fork()
        if pid == 0:
            os.setsid()
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.alarm(int(request.get("lifetime", 3600)))
            os._exit(check(fds[0], max_blob))
        earlier.append(pid)
        os.close(fds[0])
        control.sendall(json.dumps({"op": "forked", "pid": pid}).encode())


def main() -> int:
    import matplotlib

    matplotlib.use("Agg")
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        control = os.dup(0)
        _quiet_stdio()
        return serve(control, int(sys.argv[2]), sys.argv[3:])
    # One checker on stdin and stdout (the grader's --no-server path, and tests).
    read_fd, write_fd = os.dup(0), os.dup(1)
    _quiet_stdio()
    max_blob = int(sys.argv[1]) if len(sys.argv) > 1 else 256 * 2**20
    return _serve_cells(Channel(read_fd, write_fd, max_blob))


if __name__ == "__main__":
    sys.exit(main())
