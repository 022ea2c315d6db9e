"""The checker runs test cells as IPython would, reading the student's names only as data."""

from __future__ import annotations

import ast
import os
import threading

import pytest

from beth_course.grading import protocol, wire
from beth_course.grading.checker import Checker, StudentError, bound_names, execute, free_names


def _free(code: str) -> set[str]:
    return free_names(ast.parse(code))


def test_free_names_are_what_a_cell_reads_and_never_binds():
    """Reads count; assignments, imports, loop and comprehension names, defs and args do not."""
    code = (
        "import numpy as _np\nfrom math import sqrt\n_total = 0\n"
        "for _i in range(3):\n    _total += df[_i]\n"
        "_sq = [_x * k for _x in X]\n"
        "def _helper(a, *b, c=1, **d):\n    return a + model\n"
        "try:\n    pass\nexcept ValueError as _e:\n    print(_e)\n"
        "assert isinstance(y, _np.ndarray), len(DATA_FILE)\n"
    )
    assert _free(code) == {"df", "k", "X", "model", "y", "DATA_FILE"}
    assert {
        "_np",
        "sqrt",
        "_total",
        "_i",
        "_sq",
        "_x",
        "_helper",
        "a",
        "b",
        "c",
        "d",
        "_e",
    } <= bound_names(ast.parse(code))


def test_execute_shows_a_last_expression_like_ipython():
    """The value of a last expression becomes execute_result (nbgrader's partial credit)."""
    outputs = execute("x = 2\nx * 0.25", {}, "<t>")
    assert outputs == [
        {
            "output_type": "execute_result",
            "execution_count": None,
            "metadata": {},
            "data": {"text/plain": "0.5"},
        }
    ]
    assert execute("1;", {}, "<t>") == [] and execute("None", {}, "<t>") == []


def test_execute_keeps_printed_text_and_warnings_on_stderr():
    """Printing goes to stdout; a warning goes to stderr (which nbgrader scores 0)."""
    outputs = execute("print('hello')\nimport warnings\nwarnings.warn('careful')", {}, "<t>")
    assert outputs[0] == {"output_type": "stream", "name": "stdout", "text": "hello\n"}
    assert outputs[1]["name"] == "stderr" and "careful" in outputs[1]["text"]


def test_a_failing_assert_is_an_error_output_quoting_only_the_cell():
    """The traceback shows the cell's own line, not the checker's internals."""
    outputs = execute('"""Check."""\nassert 1 == 2, "one is not two"', {}, "<my_test>")
    (error,) = outputs
    assert error["ename"] == "AssertionError" and error["evalue"] == "one is not two"
    text = "\n".join(error["traceback"])
    assert "assert 1 == 2" in text and "checker.py" not in text


class FakeChannel:
    """Answers the checker's requests from a dict of student values."""

    def __init__(self, student: dict, calls: dict | None = None):
        self.student, self.calls, self.asked = student, calls or {}, []

    def request(self, header, blob, expect):
        if header["op"] == "need":
            self.asked.append(header["names"])
            return wire.encode({n: self.student[n] for n in header["names"] if n in self.student})
        if header["op"] == "call":
            args = wire.decode(blob)
            outcome = self.calls[header["name"]](*args["args"], **args["kwargs"])
            return wire.encode(outcome, callables=False)
        raise AssertionError(header)


def test_the_checkers_own_names_win_over_the_students():
    """Names a locked cell defined are never asked for; the student's copy cannot replace them."""
    channel = FakeChannel({"DATA_FILE": "forged.csv", "df": [1, 2, 3]})
    checker = Checker(channel)
    assert checker.run("DATA_FILE = 'data.csv'", "parameters") == []
    outputs = checker.run("assert DATA_FILE == 'data.csv' and len(df) == 3", "test")
    assert outputs == [] and channel.asked == [["df"]]


def test_a_name_the_student_never_defined_is_a_name_error():
    """As in the student's kernel: reading an undefined variable fails the test."""
    (error,) = Checker(FakeChannel({})).run("assert model is not None", "test")
    assert error["ename"] == "NameError" and "model" in error["evalue"]


def test_student_values_are_read_again_for_every_test():
    """A test sees the student's variable as it is when that test's turn comes."""
    channel = FakeChannel({"X": [1]})
    checker = Checker(channel)
    checker.run("assert X == [1]", "first")
    channel.student["X"] = [1, 2]
    assert checker.run("assert X == [1, 2]", "second") == []


def test_student_functions_are_called_with_data_and_their_errors_come_back():
    """A test may call a student's function; a ValueError it raises is a ValueError here."""

    def squares(n):
        if n < 1:
            return {"raised": ["ValueError", "n must be positive"]}
        return {"result": [i * i for i in range(1, n + 1)]}

    def bad(n):
        return {"raised": ["MyOwnError", "boom"]}

    channel = FakeChannel({}, calls={"squares": squares, "bad": bad})
    channel.student = {"squares": lambda n: None, "bad": lambda n: None}
    checker = Checker(channel)
    code = (
        "assert squares(3) == [1, 4, 9]\n"
        "try:\n    squares(0)\nexcept ValueError as e:\n    assert 'positive' in str(e)\n"
        "else:\n    raise AssertionError('no error')\n"
    )
    assert checker.run(code, "squares_test") == []
    (error,) = checker.run("bad(1)", "bad_test")
    assert error["ename"] == "StudentError" and "MyOwnError: boom" in error["evalue"]
    assert issubclass(StudentError, Exception)


def test_protocol_messages_round_trip_and_respect_limits():
    """Header and blob arrive whole; an oversized blob or a silent peer is an error."""
    read_fd, write_fd = os.pipe()
    try:
        protocol.send(write_fd, {"op": "x", "n": 1}, b"blob")
        assert protocol.receive(read_fd, 100) == ({"op": "x", "n": 1}, b"blob")
        protocol.send(write_fd, {"op": "big"}, b"z" * 200)
        with pytest.raises(protocol.ProtocolError, match="over the limit"):
            protocol.receive(read_fd, 100)
    finally:
        os.close(write_fd)
        os.close(read_fd)
    read_fd, write_fd = os.pipe()
    try:
        import time

        with pytest.raises(protocol.ProtocolError, match="in time"):
            protocol.receive(read_fd, 100, deadline=time.monotonic() + 0.05)
    finally:
        os.close(write_fd)
        os.close(read_fd)


def test_protocol_survives_a_large_blob_through_a_pipe():
    """Messages larger than a pipe's buffer are written and read in pieces."""
    read_fd, write_fd = os.pipe()
    blob = os.urandom(3 * 2**20)
    writer = threading.Thread(target=protocol.send, args=(write_fd, {"op": "v"}, blob))
    writer.start()
    try:
        assert protocol.receive(read_fd, 4 * 2**20)[1] == blob
    finally:
        writer.join()
        os.close(write_fd)
        os.close(read_fd)


class FakeBridge:
    """The grader's side of fetches, answering from a dict (no kernel)."""

    def __init__(self, values):
        self.values = values

    def fetch(self, names):
        return wire.encode({n: self.values[n] for n in names if n in self.values})

    def call(self, name, arguments):
        raise RuntimeError("no kernel here")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from beth_course.grading.checking import CheckerServer, CheckerSpec, checker_env
    from beth_course.grading.limits import Limits

    limits = Limits(
        memory=2**31,
        cpu_seconds=60,
        processes=32,
        file_size=2**26,
        submission_timeout=60,
        threads=1,
        uid_base=61000,
    )
    tmp_path = tmp_path_factory.mktemp("checker")
    spec = CheckerSpec(
        uid=os.getuid(), limits=limits, env=checker_env(limits), sandboxed=False, cwd=str(tmp_path)
    )
    started = CheckerServer(spec, str(tmp_path), preload=["statistics"])
    assert started.failure is None, started.failure
    yield started, spec, tmp_path
    started.close()


def test_each_notebook_gets_a_fresh_checker_from_the_server(server):
    """Two checkers forked in turn: different processes; nothing of the first in the second."""
    from beth_course.grading.checking import CheckerProcess

    started, spec, folder = server
    first = CheckerProcess(spec, str(folder), started)
    first.start()
    assert (
        first.run("leftover = 1\nimport os\nos.getpid()", "a", FakeBridge({}), 30)[0]["output_type"]
        == "execute_result"
    )
    first.close()
    second = CheckerProcess(spec, str(folder), started)
    second.start()
    (error,) = second.run("assert leftover == 1", "b", FakeBridge({}), 30)
    assert error["ename"] == "NameError" and second.pid != first.pid
    assert second.run("assert x == [1, 2]", "c", FakeBridge({"x": [1, 2]}), 30) == []
    second.close()


def test_a_checker_that_hangs_fails_its_cell_in_time_and_the_next_one_starts(server):
    """A cell that never returns is an error after its time; the server still forks."""
    import time

    from beth_course.grading.checking import CheckerProcess

    started, spec, folder = server
    stuck = CheckerProcess(spec, str(folder), started)
    stuck.start()
    began = time.monotonic()
    (error,) = stuck.run("while True:\n    pass", "hang", FakeBridge({}), 1.0)
    assert error["ename"] == "GraderError" and time.monotonic() - began < 5
    stuck.close()
    fresh = CheckerProcess(spec, str(folder), started)
    fresh.start()
    assert (
        fresh.failure is None
        and fresh.run("1 + 1", "ok", FakeBridge({}), 30)[0]["data"]["text/plain"] == "2"
    )
    fresh.close()


def test_the_server_loads_the_decoders_of_the_libraries_the_notebook_imports():
    """A notebook that imports nothing heavy gets a server that loads nothing heavy; the
    BETH setup cell's imports bring pandas', scikit-learn's and matplotlib's decoders."""
    from beth_course.grading.checker import server_preload

    assert server_preload([]) == ["IPython.lib.pretty"]
    assert server_preload(["math", "statistics"]) == ["IPython.lib.pretty", "math", "statistics"]
    beth = server_preload(["pandas", "sklearn.ensemble", "seaborn", "umap", "beth_helpers"])
    for module in ("pandas", "pyarrow.ipc", "skops.io", "sklearn.tree", "matplotlib.pyplot"):
        assert module in beth, module
    assert {"sklearn.ensemble", "seaborn", "umap", "beth_helpers"} <= set(beth)
    assert len(beth) == len(set(beth))


def test_a_checker_decodes_a_dataframe_its_server_never_loaded_pandas_for(server):
    """The server here preloads only ``statistics``: the forked checker imports pandas and
    pyarrow when the student's DataFrame arrives, and checks it as usual."""
    import pandas as pd

    from beth_course.grading.checking import CheckerProcess

    started, spec, folder = server
    checker = CheckerProcess(spec, str(folder), started)
    checker.start()
    try:
        before = checker.run("import sys\n'pandas' in sys.modules", "a", FakeBridge({}), 30)
        assert before[0]["data"]["text/plain"] == "False"
        frame = pd.DataFrame({"pid": [1, 2, 3]})
        assert checker.run("assert df['pid'].sum() == 6", "b", FakeBridge({"df": frame}), 30) == []
    finally:
        checker.close()
