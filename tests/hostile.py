"""A hostile notebook built in memory, and a scanner for the HTML pages rendered from it.

Every payload, when it runs in a browser, sets ``data-ran-<name>="yes"`` on the page's
``<html>`` element. The attribute name is built by concatenation at run time, so escaped
or quoted payload text can never produce it: finding it in a browser's DOM proves that
script ran.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import nbformat
import pandas as pd
from nbformat.v4 import (new_code_cell, new_markdown_cell, new_notebook, new_output,
                         new_raw_cell)

# A 1x1 PNG.
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cf80000003010100c9fe92ef0000000049454e44ae426082"
)).decode("ascii")
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
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" onload="{js("svg-output")}">'
           f'<script>{js("svg-script")}</script></svg>')
    return [
        _display({"text/html": html_payload, "text/plain": "<HTML object>"}),
        _display({"application/javascript": js("js-output"),
                  "text/plain": "<IPython.core.display.Javascript object>"}),
        _display({"image/svg+xml": svg, "text/plain": "<IPython.core.display.SVG object>"}),
        _display({"image/svg+xml": svg}),
        _display({"application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                  "text/plain": "IntSlider(value=0)"}),
        _display({"text/markdown": f"<script>{js('md-output')}</script> **bold**",
                  "text/plain": "<Markdown object>"}),
        _display({"image/png": PNG, "text/plain": "<Figure>"},
                 {"image/png": {"width": f"1 onload={js('png-width')}"}}),
        new_output("execute_result", execution_count=3,
                   data={"text/html": frame._repr_html_(), "text/plain": repr(frame)}),
        new_output("stream", name="stdout", text="<script>not markup: printed text</script>\n"),
    ]


def hostile_markdown() -> str:
    """A written answer with raw HTML, script and ``javascript:`` links of every kind."""
    return "\n\n".join([
        "My answer: the **forest** isolates evil processes.",
        f"<script>{js('md-script')}</script>",
        f'An image <img src=x onerror="{js("md-onerror")}"> inline.',
        f'<a href="javascript:{js("md-html-link")}">html link</a>',
        f"[markdown link](javascript:{js('md-link')})",
        f"[double-encoded link](&amp;#x6a;avascript:{js('md-encoded-link')})",
        f'<iframe srcdoc="&lt;script&gt;parent.{js("md-iframe")}&lt;/script&gt;"></iframe>',
        f'<svg onload="{js("md-svg")}"></svg>',
        "A plot I drew: ![my plot](attachment:plot.png)",
    ])


def hostile_notebook() -> nbformat.NotebookNode:
    """A graded-looking notebook whose outputs, answer, raw cell and metadata are hostile."""
    code = new_code_cell("show_everything()", execution_count=3, outputs=hostile_outputs())
    answer = new_markdown_cell(hostile_markdown(), attachments={
        "plot.png": {"image/png": PNG, "image/svg+xml": f"<svg onload=\"{js('attachment')}\"/>"},
    })
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False,
                                   "grade_id": "written_answer", "points": 1,
                                   "schema_version": 3}
    raw = new_raw_cell(f"<script>{js('raw-cell')}</script>", metadata={"raw_mimetype": "text/html"})
    nb = new_notebook(cells=[code, answer, raw])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.metadata["title"] = f"</title><script>{js('title')}</script>"
    return nb


# ---- scanning rendered pages ---------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "background",
                  "xlink:href", "srcdoc", "codebase", "cite"}
ACTIVE_TAGS = {"iframe", "object", "embed", "form", "frame", "frameset", "applet", "base",
               "svg", "math", "link"}
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
    return [s for s in scan.scripts
            if s.get("src") != mathjax_url and s.get("type") != "text/x-mathjax-config"]
