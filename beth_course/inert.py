"""Make a graded notebook inert: nothing in it can run script where it is rendered.

Students' notebooks are executed by the grader, so their outputs and their markdown are
attacker-controlled, and they are rendered in two places that run script: nbgrader's
formgrader (on the instructor's own Jupyter server, with the instructor's session) and
the HTML feedback pages students open. nbconvert writes HTML and JavaScript outputs and raw
HTML in markdown into those pages as they are (issue 9, item 5).

Design: an allow-list per kind of content, applied to the notebook itself, so every
renderer downstream (formgrader, ``nbgrader generate_feedback``, ``beth-course feedback``,
JupyterLab) gets inert input. The preprocessor `MakeInert` does, in place:

- outputs: ``stream`` and ``error`` stay (nbconvert escapes them); of ``display_data`` and
  ``execute_result`` only ``text/plain``, ``image/png`` and ``image/jpeg`` stay as they are
  (images only if their data is base64); ``text/html`` is sanitized with nh3 (an allow-list
  of tags and attributes: tables, so pandas DataFrames survive, but no script, event
  handlers, iframes, objects, forms, style tags, ids, or ``javascript:``/``data:`` URLs
  other than raster images in ``<img>``); ``text/markdown`` is treated like a markdown
  cell; every other type (JavaScript, widgets, SVG, LaTeX, PDF ...) is dropped, and an
  output left with nothing to show gets a one-line ``text/plain`` note. Output metadata is
  cut to numeric image sizes and alt text: nbconvert 7.17 writes ``width`` into the
  ``<img>`` tag unquoted, so ``width="1 onload=alert(1)"`` is an event handler.
- markdown cells (and ``text/markdown`` outputs): parsed with nbconvert's own markdown
  parser (so what is checked is what is rendered). A source with no raw HTML, no
  ``mermaid`` block and only safe URLs (http, https, mailto, relative; for images also raster
  ``data:`` and the cell's own attachments) is left as written. Otherwise raw HTML is
  escaped (``<`` becomes ``&lt;`` outside code, so it shows as text) and the result is
  parsed again; if it is still not inert (a ``javascript:`` link, a missing attachment),
  the whole source is shown as a fenced code block under a one-line note. The answer's
  text is never lost. A URL is checked as the browser will get it: mistune decodes HTML
  entities in a link destination while parsing and once more while rendering, so
  ``[x](&amp;#x6a;avascript:...)`` becomes ``href="javascript:..."``; the parsed URL is
  decoded again (twice, for margin) before its scheme is read.
- raw cells that nbconvert's HTML output includes (no format, or an HTML format) are
  sanitized like HTML outputs.
- attachments keep only PNG, JPEG and GIF data; notebook metadata loses ``widgets``
  (nbconvert loads the widget manager from a CDN when it is there) and ``title`` (written
  unescaped into ``<title>`` by nbconvert's classic template); execution counts that are
  not integers become ``None``.

Code cell sources are left alone: nbconvert renders them escaped. Hidden tests are another
job (`beth_course.hidden_tests`).

Running it twice changes nothing more. Make it the last step of autograde, so that the
autograded notebooks themselves (what formgrader shows, what is archived) are inert:

- beth-course's worker sets the list in code (``_autograde_config`` in
  ``beth_course/grading/worker.py``): append ``MakeInert`` (imported from here) after
  ``CheckCellMetadata`` in ``config.Autograde.autograde_preprocessors``;
- plain ``nbgrader autograde`` reads ``nbgrader_config.py``::

      from nbgrader.converters import Autograde
      c.Autograde.autograde_preprocessors = [*Autograde.autograde_preprocessors.default(),
                                            "beth_course.inert.MakeInert"]

Last means after ``SaveAutoGrades``: scores are read from the outputs as the kernel left
them, and only then is the notebook made inert. The course's ``nbgrader_config.py`` already
names it in ``GenerateFeedback.preprocessors`` and ``HTMLExporter.preprocessors``
(formgrader's renderer), so pages are inert even for notebooks autograded without it.

Example
-------
>>> from nbformat.v4 import new_markdown_cell, new_notebook
>>> nb = new_notebook(cells=[new_markdown_cell("It is <b onclick=steal()>here</b>")])
>>> make_inert(nb).cells[0].source
'It is &lt;b onclick=steal()>here&lt;/b>'
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from typing import Any

import nh3
from nbconvert.filters.markdown_mistune import MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool

# ---- HTML ------------------------------------------------------------------------------

_HTML_TAGS = set(nh3.ALLOWED_TAGS) | {"tfoot"}
_HTML_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
_HTML_ATTRIBUTES.setdefault("table", set()).add("border")  # pandas writes border="1"
_HTML_ATTRIBUTES["*"] = {"title", "style"}
# Properties that cannot hold a url() and cannot move an element over the page.
_STYLE_PROPERTIES = {
    "text-align",
    "vertical-align",
    "font-weight",
    "font-style",
    "color",
    "background-color",
    "white-space",
    "text-decoration",
}
_URL_SCHEMES = {"http", "https", "mailto", "data"}  # data: is narrowed by _html_attribute
_RASTER_DATA_URL = re.compile(
    r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.IGNORECASE
)


def _html_attribute(tag: str, name: str, value: str) -> str | None:
    """nh3 callback: a ``data:`` URL stays only as the source of an image, and only raster."""
    if value.strip().lower().startswith("data:"):
        if tag == "img" and name == "src" and _RASTER_DATA_URL.match(value.strip()):
            return value
        return None
    return value


def inert_html(fragment: str) -> str:
    """``fragment`` with only the allowed tags, attributes and URLs left (a new string).

    >>> inert_html('<table class="dataframe"><tr><td>1</td></tr></table><script>x()</script>')
    '<table class="dataframe"><tbody><tr><td>1</td></tr></tbody></table>'
    """
    return nh3.clean(
        fragment,
        tags=_HTML_TAGS,
        attributes=_HTML_ATTRIBUTES,
        allowed_classes={"table": {"dataframe"}},
        filter_style_properties=_STYLE_PROPERTIES,
        url_schemes=_URL_SCHEMES,
        attribute_filter=_html_attribute,
    )


# ---- URLs and markdown -----------------------------------------------------------------

_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_CONTROL_AND_SPACE = re.compile(r"[\x00-\x20\x7f]")
_LINK_SCHEMES = {"http", "https", "mailto"}
_ATTACHMENT = "attachment:"
# Every kind of token nbconvert's parser makes that renders as escaped text or fixed markup.
_SAFE_TOKENS = {
    "blank_line",
    "block_code",
    "block_math",
    "block_quote",
    "block_text",
    "codespan",
    "def_list",
    "def_list_head",
    "def_list_item",
    "emphasis",
    "heading",
    "image",
    "inline_math",
    "latex_environment",
    "linebreak",
    "link",
    "list",
    "list_item",
    "multiline_math",
    "paragraph",
    "softbreak",
    "strikethrough",
    "strong",
    "table",
    "table_body",
    "table_cell",
    "table_head",
    "table_row",
    "task_list_item",
    "text",
    "thematic_break",
}
SHOWN_AS_SOURCE = (
    "*(beth-course: shown as written, because it contains HTML, a link or an "
    "image that graded copies do not render.)*"
)


def _scheme(url: str) -> str | None:
    """The URL's scheme as a browser would read it once the renderer has written it."""
    decoded = html.unescape(html.unescape(url))
    match = _SCHEME.match(_CONTROL_AND_SPACE.sub("", decoded).lower())
    return match.group(1) if match else None


def _safe_link(url: str) -> bool:
    scheme = _scheme(url)
    return scheme is None or scheme in _LINK_SCHEMES


def _safe_image(url: str, attachments: dict) -> bool:
    if url.startswith(_ATTACHMENT):  # nbconvert's own test, on the raw URL
        return url[len(_ATTACHMENT) :] in attachments
    scheme = _scheme(url)
    if scheme == "data":
        return bool(_RASTER_DATA_URL.match(html.unescape(html.unescape(url)).strip()))
    return scheme is None or scheme in {"http", "https"}


def _tokens(source: str) -> list[dict[str, Any]]:
    """The syntax tree nbconvert's markdown filter builds for ``source``."""
    tokens = MarkdownWithMath(renderer=None)(source)  # type: ignore[arg-type]  # None: a tree
    if not isinstance(tokens, list):
        raise RuntimeError(
            "nbconvert's markdown parser did not return a syntax tree: "
            "beth_course.inert needs mistune 3"
        )
    return tokens


def _token_is_inert(token: dict[str, Any], attachments: dict) -> bool:
    kind = token.get("type")
    url = token.get("attrs", {}).get("url", "")
    if kind not in _SAFE_TOKENS:
        return False
    if kind == "link" and not _safe_link(url):
        return False
    if kind == "image" and not _safe_image(url, attachments):
        return False
    if kind == "block_code" and "mermaid" in str(token.get("attrs", {}).get("info", "")).lower():
        return False  # rendered as a diagram by script in nbconvert's lab template
    children = token.get("children")
    return not isinstance(children, list) or all(
        _token_is_inert(child, attachments) for child in children
    )


def markdown_is_inert(source: str, attachments: dict | None = None) -> bool:
    """Whether nbconvert renders ``source`` without raw HTML or an unsafe URL."""
    return all(_token_is_inert(token, attachments or {}) for token in _tokens(source))


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _code_spans(line: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each code span: a backtick run up to the next run as long.

    Linear in the line's length (a regular expression with a backreference is not: a
    line of 4,000 backticks took minutes).
    """
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(line)]
    next_same: list[int | None] = [None] * len(runs)
    last_seen: dict[int, int] = {}
    for index in reversed(range(len(runs))):
        length = runs[index][1] - runs[index][0]
        next_same[index] = last_seen.get(length)
        last_seen[length] = index
    spans, index = [], 0
    while index < len(runs):
        closer = next_same[index]
        if closer is None:  # no run as long later on: these backticks are text
            index += 1
            continue
        spans.append((runs[index][0], runs[closer][1]))
        index = closer + 1
    return spans


def _escape_tags(line: str) -> str:
    out, done = [], 0
    for start, end in _code_spans(line):
        out += [_TAG_START.sub("&lt;", line[done:start]), line[start:end]]
        done = end
    out.append(_TAG_START.sub("&lt;", line[done:]))
    return "".join(out)


def _escape_raw_html(source: str) -> str:
    """``<`` that could open a tag, comment or declaration, as ``&lt;``, outside code.

    Telling code from text here is a best effort: the caller parses the result again.
    """
    out, fence = [], None
    for line in source.splitlines(keepends=True):
        opener = _FENCE.match(line)
        if fence is None and opener:
            fence = opener.group(1)
        elif fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
        else:
            line = _escape_tags(line)
        out.append(line)
    return "".join(out)


def _as_code(source: str) -> str:
    """``source`` verbatim in a fenced code block no line of it can close, under a note."""
    longest = max((len(run) for run in re.findall(r"`+", source)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{SHOWN_AS_SOURCE}\n\n{fence}\n{source}\n{fence}\n"


def inert_markdown(source: str, attachments: dict | None = None) -> str:
    """``source`` if nbconvert renders it inert; else raw HTML escaped; else shown as code.

    >>> inert_markdown("A [link](https://example.org) and `<b>` in code")
    'A [link](https://example.org) and `<b>` in code'
    >>> inert_markdown("<img src=x onerror=alert(1)> and `<b>`")
    '&lt;img src=x onerror=alert(1)> and `<b>`'
    """
    if markdown_is_inert(source, attachments):
        return source
    escaped = _escape_raw_html(source)
    if markdown_is_inert(escaped, attachments):
        return escaped
    shown = _as_code(source)
    if not markdown_is_inert(shown):
        raise RuntimeError("beth_course.inert: a markdown source could not be made inert")
    return shown


# ---- outputs ---------------------------------------------------------------------------

_KEPT_AS_IS = ("text/plain", "image/png", "image/jpeg")
_IMAGE_TYPES = ("image/png", "image/jpeg")
_ATTACHMENT_TYPES = ("image/png", "image/jpeg", "image/gif")
_IMAGE_SIZE_KEYS = ("width", "height")


def _is_base64(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_size(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _image_metadata(metadata: dict) -> dict:
    """Per image type: numeric width and height, alt text, ``unconfined``; nothing else."""
    kept = {}
    for mime in _IMAGE_TYPES:
        given = metadata.get(mime)
        if not isinstance(given, dict):
            continue
        entry = {k: given[k] for k in _IMAGE_SIZE_KEYS if _is_size(given.get(k))}
        if isinstance(given.get("alt"), str):
            entry["alt"] = given["alt"]
        if given.get("unconfined") is True:
            entry["unconfined"] = True
        if entry:
            kept[mime] = entry
    return kept


def _inert_data(data: dict) -> tuple[dict, list[str]]:
    """The output's data with only inert types left, and the types removed."""
    kept, removed = {}, []
    for mime, value in data.items():
        if mime == "text/html" and isinstance(value, str):
            kept[mime] = inert_html(value)
        elif mime == "text/markdown" and isinstance(value, str):
            kept[mime] = inert_markdown(value)
        elif mime == "text/plain" and isinstance(value, str):
            kept[mime] = value
        elif mime in _IMAGE_TYPES and _is_base64(value):
            kept[mime] = value
        else:
            removed.append(mime)
    return kept, removed


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def inert_output(output: NotebookNode) -> NotebookNode | None:
    """The output made inert in place, or ``None`` for an unknown kind of output."""
    kind = output.get("output_type")
    if kind == "stream":
        output["name"] = "stderr" if output.get("name") == "stderr" else "stdout"
        output["text"] = _as_text(output.get("text", ""))
        return output
    if kind == "error":
        output["ename"] = _as_text(output.get("ename", ""))
        output["evalue"] = _as_text(output.get("evalue", ""))
        output["traceback"] = [_as_text(line) for line in output.get("traceback", [])]
        return output
    if kind not in ("display_data", "execute_result"):
        return None
    data, removed = _inert_data(output.get("data", {}))
    if removed and not data:
        data["text/plain"] = f"[output not shown in graded copies: {', '.join(removed)}]"
    output["data"] = NotebookNode(data)
    output["metadata"] = NotebookNode(_image_metadata(output.get("metadata", {})))
    if kind == "execute_result":
        output["execution_count"] = _count(output.get("execution_count"))
    return output


# ---- cells and the notebook ------------------------------------------------------------


def _inert_attachments(cell: NotebookNode) -> None:
    """Keep only raster image data in the cell's attachments; drop emptied ones."""
    attachments = cell.get("attachments")
    if attachments is None:
        return
    cleaned = {}
    if isinstance(attachments, dict):
        for name, bundle in attachments.items():
            images = {
                mime: value
                for mime, value in (bundle or {}).items()
                if mime in _ATTACHMENT_TYPES and _is_base64(value)
            }
            if images:
                cleaned[name] = images
    if cleaned:
        cell["attachments"] = NotebookNode(cleaned)
    else:
        del cell["attachments"]


def _rendered_as_html(cell: NotebookNode) -> bool:
    """Whether nbconvert's HTML output includes this raw cell (no format, or HTML)."""
    fmt = cell.metadata.get("raw_mimetype") or cell.metadata.get("format") or ""
    return not str(fmt).strip() or "html" in str(fmt).lower()


def inert_cell(cell: NotebookNode) -> NotebookNode:
    """The cell made inert, in place (code sources are left: nbconvert escapes them)."""
    _inert_attachments(cell)
    if cell.cell_type == "markdown":
        cell.source = inert_markdown(cell.source, cell.get("attachments"))
    elif cell.cell_type == "raw" and _rendered_as_html(cell):
        cell.source = inert_html(cell.source)
    elif cell.cell_type == "code":
        cell.execution_count = _count(cell.get("execution_count"))
        outputs = (inert_output(output) for output in cell.get("outputs", []))
        cell.outputs = [output for output in outputs if output is not None]
    return cell


def make_inert(nb: NotebookNode) -> NotebookNode:
    """Make every cell and the notebook's metadata inert; works in place, returns ``nb``."""
    for key in ("widgets", "title"):
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        inert_cell(cell)
    return nb


class MakeInert(Preprocessor):
    """nbconvert/nbgrader preprocessor: nothing in the notebook can run script when rendered.

    Use it as the last autograde step, in ``GenerateFeedback.preprocessors`` and in
    ``HTMLExporter.preprocessors`` (formgrader); see the module docstring for the wiring.
    """

    enabled = Bool(True, help="Whether to make notebooks inert (keep this on).").tag(config=True)

    def preprocess(self, nb, resources):
        return make_inert(nb), resources
