"""Printing: a print template rendered to HTML, and HTML to PDF (WeasyPrint), for receipts,
reports and the demo's 申报书 alike.

Print templates are rendered with :func:`render_print`, which does not run the page's context
processors: a PDF needs no navigation, reminder banner or countdown, and must not pay the
queries behind them. The CJK fonts come from Debian's fonts-noto-cjk (installed by make).
Every print template extends ``templates/print/base.html``, which holds the rules all prints
share (A4, black, ruled tables whose header repeats and whose rows stay whole); the two
landscape lists (roster, 评审汇总表) extend ``print/list.html``; a print itself keeps only what
is its own. The HTML is complete in itself: no stylesheet, font or image is fetched.

The print templates (``templates/*/*_print.html``) use a handful of elements. WeasyPrint
matches its complete HTML5 user-agent stylesheet (some 250 rules, most of them for forms,
lists, ruby, bidi…) against every element; for a roster of 500 applications that is 7,500
table cells and about a fifth of the rendering time. :func:`render_pdf` gives WeasyPrint a
lean user-agent stylesheet with the rules these templates rely on instead. If a later
WeasyPrint stops asking for ``_ua_stylesheets`` the default one is used: slower, same output.
``tests/reports/test_pdf.py`` checks that both give the same pages and text.

**Where a PDF is made.** Served by the serving command, the web process lays out the HTML (a
template and its rows: milliseconds) and the job worker turns it into a PDF, in a child process
with limits of its own (``RENDER_MEMORY_MB``, ``RENDER_CPU_SECONDS``, ``RENDER_WALL_SECONDS``;
``print_job.py``); the page waits for it, before the readings in the queue. WeasyPrint's memory
is the child's and goes with it: rendered in the serving processes, eight viewers printing in a
loop left them 400 MB larger (glibc keeps what a render freed for the next), and a render as
large as the province's roster of 2,016 applications held a serving process at 450 MB more
while it ran (``benchmarks/bench_hostile.py``, ``bench_generated.py``). Elsewhere (commands,
tests, benchmarks that call a report directly) ``PRINT_IN_WORKER`` is off and the PDF is made
here.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app

from .jobs.queue import PRINT_PDF_JOB, jobs

LEAN_UA_CSS = """
head, link, meta, script, style, title, template, [hidden] { display: none }
html, body, div, p, h1, h2, h3, section, header, footer, figure, figcaption { display: block }
span, b, strong, small, br { display: inline }
body { margin: 8px }
p { margin-top: 1em; margin-bottom: 1em }
h1 { font-size: 2em; font-weight: bold; margin-top: .67em; margin-bottom: .67em;
     break-after: avoid; break-inside: avoid }
h2 { font-size: 1.5em; font-weight: bold; margin-top: .83em; margin-bottom: .83em;
     break-after: avoid; break-inside: avoid }
b, strong, th { font-weight: bold }
small { font-size: smaller }
table { display: table; box-sizing: border-box; border-spacing: 2px; border-collapse: separate;
        text-indent: initial }
colgroup { display: table-column-group }
col { display: table-column }
thead { display: table-header-group }
tbody { display: table-row-group }
tfoot { display: table-footer-group }
tr { display: table-row }
td, th { display: table-cell; padding: 1px }
thead, tbody, tfoot, table > tr { vertical-align: middle }
tr, td, th { vertical-align: inherit }
table, td, th { border-color: gray }
thead, tbody, tfoot, tr { border-color: inherit }
@page {
  margin: 75px;
  @top-left { text-align: left; vertical-align: middle }
  @top-center { text-align: center; vertical-align: middle }
  @top-right { text-align: right; vertical-align: middle }
  @bottom-left { text-align: left; vertical-align: middle }
  @bottom-center { text-align: center; vertical-align: middle }
  @bottom-right { text-align: right; vertical-align: middle }
}
"""


def css_string(text: str) -> str:
    """``text`` as a double-quoted CSS string, e.g. for ``content:`` in a page margin box; safe
    inside a ``<style>`` element (no quote, backslash, newline or ``<`` survives unescaped)."""
    escaped = "".join(f"\\{ord(ch):X} " if ch in '"\\<>&\n\r' else ch for ch in str(text))
    return f'"{escaped}"'


def render_print(template_name: str, **context) -> str:
    """A print template as HTML, with only the context given (no context processors)."""
    return current_app.jinja_env.get_template(template_name).render(**context)


def static_base_url() -> str:
    """Lets a print template's stylesheet link resolve to the static folder on disk."""
    assert current_app.static_folder is not None  # the package's static/
    return str(Path(current_app.static_folder)) + "/"


def print_pdf(template_name: str, **context) -> bytes:
    """A print template straight to PDF."""
    return render_pdf(render_print(template_name, **context), base_url=static_base_url())


# WeasyPrint is imported on first use: it takes about a second to import, which every
# command and test that never prints would otherwise pay.
@lru_cache(maxsize=1)
def _lean_user_agent_stylesheet():
    from weasyprint import CSS

    return CSS(string=LEAN_UA_CSS)


@lru_cache(maxsize=1)
def _report_html_class():
    from weasyprint import HTML

    class ReportHTML(HTML):
        def _ua_stylesheets(self, *args, **kwargs):
            return [_lean_user_agent_stylesheet()]

    return ReportHTML


def render_pdf(html: str, *, base_url: str | None = None, lean: bool = True) -> bytes:
    """The PDF of a report page, made by the job worker when ``PRINT_IN_WORKER`` (the serving
    command), else here; ``lean=False`` uses WeasyPrint's own user-agent stylesheet. Raises
    ``jobs.queue.JobUnavailable`` when the worker does not answer in time: its own limit, after a
    reading it may have in hand."""
    config = current_app.config
    if config.get("PRINT_IN_WORKER"):
        timeout = float(config["RENDER_WALL_SECONDS"]) + float(config["JOBS_WALL_SECONDS"])
        return jobs().call(PRINT_PDF_JOB, html, base_url, lean, timeout=timeout)
    return write_pdf(html, base_url, lean)


def write_pdf(html: str, base_url: str | None = None, lean: bool = True) -> bytes:
    """WeasyPrint itself: the PDF of ``html``, in this process."""
    from weasyprint import HTML

    cls = _report_html_class() if lean else HTML
    return cls(string=html, base_url=base_url).write_pdf()
