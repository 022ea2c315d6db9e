"""beth_course.inert: notebooks that no renderer can make run a student's script."""

from __future__ import annotations

import copy
import doctest
import re
import time

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell
from traitlets.config import Config

from beth_course import inert
from beth_course.feedback import html_text
from beth_course.inert import SHOWN_AS_SOURCE, inert_markdown, make_inert

from .hostile import PNG, TABLE_CANARY, PageScan, hostile_notebook, hostile_outputs, js


def render(nb: nbformat.NotebookNode, template: str = "classic") -> str:
    """The notebook as nbconvert's HTML exporter writes it (what formgrader serves)."""
    return HTMLExporter(template_name=template).from_notebook_node(nb)[0]


def outputs_of(*outputs) -> list:
    """The outputs after a notebook holding only them was made inert."""
    nb = new_notebook(cells=[new_code_cell("x", outputs=list(outputs))])
    return make_inert(nb).cells[0].outputs


def display(data: dict, metadata: dict | None = None):
    return new_output("display_data", data=data, metadata=metadata or {})


def markdown_page(source: str, attachments: dict | None = None) -> str:
    cell = (
        new_markdown_cell(source, attachments=attachments)
        if attachments
        else new_markdown_cell(source)
    )
    return render(make_inert(new_notebook(cells=[cell])))


# ---- outputs ---------------------------------------------------------------------------


def test_a_dataframe_table_survives_as_a_table():
    """pandas' HTML table keeps its rows, cells and class; its <style> goes."""
    table = hostile_outputs()[7]
    (output,) = outputs_of(table)
    html = output.data["text/html"]
    assert '<table border="1" class="dataframe">' in html
    assert f"<td>{TABLE_CANARY}</td>" in html and "<th>pid</th>" in html
    assert "<style" not in html and "text/plain" in output.data


def test_html_output_loses_script_handlers_frames_forms_styles_and_bad_urls():
    """Of the hostile HTML output only inert markup is left."""
    (output,) = outputs_of(hostile_outputs()[0])
    scan = PageScan(output.data["text/html"])
    assert (scan.scripts, scan.handlers, scan.bad_urls, scan.active_tags) == ([], [], [], [])
    assert "<style" not in output.data["text/html"]
    assert "click" in output.data["text/html"]  # the link's text stays, without its href


@pytest.mark.parametrize(
    "index, mime",
    [
        (1, "application/javascript"),
        (2, "image/svg+xml"),
        (4, "application/vnd.jupyter.widget-view+json"),
    ],
)
def test_active_mime_types_are_dropped_and_text_plain_kept(index, mime):
    """JavaScript, SVG and widget views go; the text/plain fallback stays as it was."""
    given = hostile_outputs()[index]
    plain = given.data["text/plain"]
    (output,) = outputs_of(given)
    assert set(output.data) == {"text/plain"} and output.data["text/plain"] == plain


def test_an_output_left_with_nothing_gets_a_note():
    """An SVG-only output becomes a one-line note naming what was removed."""
    (output,) = outputs_of(hostile_outputs()[3])
    assert output.data == {"text/plain": "[output not shown in graded copies: image/svg+xml]"}


def test_image_width_cannot_smuggle_an_event_handler():
    """nbconvert writes width unquoted into <img>: only numeric sizes survive."""

    def hostile():
        return display({"image/png": PNG}, {"image/png": {"width": f"1 onload={js('w')}"}})

    fine = display(
        {"image/png": PNG},
        {"image/png": {"width": 300, "alt": "a plot"}, "filenames": {"image/png": "javascript:x"}},
    )
    first, second = outputs_of(hostile(), fine)
    assert first.metadata == {} and second.metadata == {
        "image/png": {"width": 300, "alt": "a plot"}
    }
    page = render(new_notebook(cells=[new_code_cell("x", outputs=[hostile()])]))
    assert PageScan(page).handlers == [("img", "onload")]  # what it would have been
    assert (
        PageScan(
            render(make_inert(new_notebook(cells=[new_code_cell("x", outputs=[hostile()])])))
        ).handlers
        == []
    )


def test_image_data_that_is_not_base64_is_dropped():
    """A 'PNG' whose data is markup cannot reach the <img src> attribute."""
    (output,) = outputs_of(display({"image/png": '" onerror="x()', "text/plain": "img"}))
    assert set(output.data) == {"text/plain"}


def test_markdown_output_is_made_inert_like_a_markdown_cell():
    """IPython.display.Markdown output: its raw HTML is escaped, its markdown kept."""
    (output,) = outputs_of(hostile_outputs()[5])
    assert output.data["text/markdown"].startswith("&lt;script>")
    assert "**bold**" in output.data["text/markdown"]


def test_stream_and_error_outputs_are_kept_as_they_are():
    """Printed text and tracebacks stay: nbconvert escapes them."""
    stream = hostile_outputs()[8]
    error = new_output("error", ename="AssertionError", evalue="<b>x</b>", traceback=["tb <i>"])
    kept = outputs_of(copy.deepcopy(stream), copy.deepcopy(error))
    assert kept == [stream, error]


def test_unknown_output_kinds_and_bad_execution_counts_go():
    """An output type nbformat does not know is dropped; counts must be integers."""
    cell = new_code_cell("x")
    cell.outputs = [{"output_type": "update_display_data", "data": {}}]
    cell.execution_count = "<script>"
    nb = new_notebook()
    nb.cells.append(cell)
    cell = make_inert(nb).cells[0]
    assert cell.outputs == [] and cell.execution_count is None


# ---- markdown --------------------------------------------------------------------------

PLAIN_MARKDOWN = (
    "# Answer\n\nThe forest isolates *evil* processes: `x < y` and $a<b$.\n\n"
    "```python\nif a <b:\n    pass\n```\n\n"
    "- see [the paper](https://arxiv.org/abs/2107.10310) and [notes](notes.md#top)\n"
    "- mail <mailto:me@example.org> or <https://example.org>\n\n"
    "![plot](attachment:plot.png) ![inline](data:image/png;base64," + PNG + ")\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n"
)


def test_markdown_without_html_or_unsafe_urls_is_left_as_written():
    """Ordinary answers (links, images, code with '<', math, tables) are not touched."""
    assert inert_markdown(PLAIN_MARKDOWN, {"plot.png": {"image/png": PNG}}) == PLAIN_MARKDOWN


def test_raw_html_in_markdown_is_escaped_and_images_and_links_still_work():
    """The text of raw HTML shows; the markdown image and link still render."""
    source = (
        f'Text <img src=x onerror="{js("md")}"> and <script>{js("s")}</script>\n\n'
        "[paper](https://arxiv.org/abs/2107.10310) ![plot](attachment:plot.png) `<b>`"
    )
    page = markdown_page(source, {"plot.png": {"image/png": PNG}})
    scan = PageScan(page)
    assert scan.handlers == [] and "onerror" in page  # shown as text, not as an attribute
    assert '<a href="https://arxiv.org/abs/2107.10310">paper</a>' in page
    assert f'src="data:image/png;base64,{PNG}"' in page
    assert "<code>&lt;b&gt;</code>" in page  # code keeps its own text


@pytest.mark.parametrize(
    "source",
    [
        f"[a](javascript:{js('a')})",
        f"[a](JaVaScRiPt:{js('a')})",
        f"[a](java\tscript:{js('a')})",
        f"[a](&#x6a;avascript:{js('a')})",
        f"[a](&amp;#x6a;avascript:{js('a')})",  # mistune decodes entities twice
        f"[a]\n\n[a]: javascript:{js('a')}",
        f"<javascript:{js('a')}>",
        f"[a](vbscript:{js('a')})",
        "[a](data:text/html;base64,PHNjcmlwdD4=)",
        "![a](data:image/svg+xml;base64,PHN2Zz4=)",
    ],
)
def test_unsafe_links_are_neutralised_and_the_text_kept(source):
    """No live javascript:/data: href in the page, and the URL's text still shows."""
    page = markdown_page(source)
    scan = PageScan(page)
    assert scan.bad_urls == [] and scan.handlers == []
    assert _letters(source)[-16:] in _letters(html_text(page))
    before = PageScan(render(new_notebook(cells=[new_markdown_cell(source)])))
    if "\t" not in source:  # a tab ends the destination: no link at all, in either
        assert before.bad_urls  # without inert_markdown, the URL is live


def _letters(text: str) -> str:
    return re.sub(r"\W", "", text)


def test_code_spans_keep_their_text_when_raw_html_is_escaped():
    """Backtick runs pair as CommonMark pairs them; an unpaired run is text."""
    assert inert_markdown("a <b> `x<y` ``c`<d`` `<e") == "a &lt;b> `x<y` ``c`<d`` `&lt;e"


def test_a_line_of_backticks_is_handled_in_linear_time():
    """4,000 backticks after raw HTML took minutes with a backreference regex; not now."""
    started = time.perf_counter()
    assert inert_markdown("<b>" + "`" * 4000).startswith("&lt;b>")
    assert time.perf_counter() - started < 5


def test_a_missing_attachment_is_shown_instead_of_breaking_the_page():
    """nbconvert refuses a whole notebook that cites a missing attachment; not after this."""
    source = "Here: ![gone](attachment:gone.png)"
    with pytest.raises(Exception, match="missing attachment"):
        render(new_notebook(cells=[new_markdown_cell(source)]))
    assert "attachment:gone.png" in markdown_page(source)


def test_a_mermaid_diagram_is_shown_as_code():
    """Mermaid blocks become diagrams by script in nbconvert's lab template."""
    assert inert_markdown("```mermaid\ngraph TD\n```").startswith(SHOWN_AS_SOURCE)


def test_attachments_keep_only_raster_images():
    """SVG (and anything not PNG, JPEG or GIF) leaves the attachments; emptied ones go."""
    cell = new_markdown_cell(
        "![p](attachment:p.png)",
        attachments={
            "p.png": {"image/png": PNG, "image/svg+xml": "<svg onload='x()'/>"},
            "s.svg": {"image/svg+xml": "<svg onload='x()'/>"},
        },
    )
    cell = make_inert(new_notebook(cells=[cell])).cells[0]
    assert cell.attachments == {"p.png": {"image/png": PNG}}


# ---- other cells and the notebook ------------------------------------------------------


def test_raw_html_cells_are_sanitized_and_other_raw_cells_kept():
    """nbconvert copies raw cells with no format or an HTML format into the page."""
    html = new_raw_cell(
        f"<script>{js('raw')}</script><b>kept</b>", metadata={"raw_mimetype": "text/html"}
    )
    bare = new_raw_cell(f"<img src=x onerror={js('bare')}>")
    latex = new_raw_cell(r"\section{<b>}", metadata={"raw_mimetype": "text/latex"})
    cells = make_inert(new_notebook(cells=[html, bare, latex])).cells
    assert cells[0].source == "<b>kept</b>" and cells[1].source == '<img src="x">'
    assert cells[2].source == r"\section{<b>}"


def test_widget_state_and_title_leave_the_notebook_metadata():
    """nbconvert loads a widget manager for widget state and writes the title unescaped."""
    nb = make_inert(hostile_notebook())
    assert "widgets" not in nb.metadata and "title" not in nb.metadata


def test_making_a_notebook_inert_twice_changes_nothing_more():
    """Autograde and feedback may both run it: the second pass is a no-op."""
    once = make_inert(hostile_notebook())
    assert make_inert(copy.deepcopy(once)) == once


@pytest.mark.parametrize("template", ["classic", "lab"])
def test_the_hostile_notebook_renders_with_only_the_templates_own_scripts(template):
    """Rendered by nbconvert, the inert notebook has no student script, handler or bad URL."""
    own = PageScan(render(new_notebook(), template)).scripts
    before = PageScan(render(hostile_notebook(), template))
    after = PageScan(render(make_inert(hostile_notebook()), template))
    assert len(before.scripts) > len(own) and before.handlers  # the notebook is hostile
    assert after.scripts == own
    assert (after.handlers, after.bad_urls, after.active_tags) == ([], [], [])
    assert {"class": "dataframe", "border": "1"} in after.tables


def test_the_preprocessor_runs_from_config_by_import_path():
    """As nbgrader_config.py names it: HTMLExporter.preprocessors = ['beth_course.inert.MakeInert']."""
    config = Config({"HTMLExporter": {"preprocessors": ["beth_course.inert.MakeInert"]}})
    page = HTMLExporter(config=config, template_name="classic").from_notebook_node(
        hostile_notebook()
    )[0]
    scan = PageScan(page)
    assert (scan.handlers, scan.bad_urls, scan.active_tags) == ([], [], [])


def test_docstring_examples():
    """The examples in beth_course/inert.py run as written."""
    assert doctest.testmod(inert).failed == 0


def test_the_documented_autograde_wiring_puts_make_inert_last():
    """The nbgrader_config.py line in the module docstring gives a working, enabled last step."""
    from nbconvert.exporters import NotebookExporter
    from nbgrader.converters import Autograde

    exporter = NotebookExporter()
    for step in [*Autograde.autograde_preprocessors.default(), "beth_course.inert.MakeInert"]:
        exporter.register_preprocessor(step)
    last = exporter._preprocessors[-1]
    assert isinstance(last, inert.MakeInert) and last.enabled
    assert "Autograde.autograde_preprocessors.default()" in inert.__doc__
