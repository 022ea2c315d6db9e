"""The Content-Security-Policy every HTML page beth-course writes carries.

Feedback pages show students' outputs and answers, and the report shows what submissions
printed when they failed. Their content is made inert first (`beth_course.inert`, and HTML
escaping in the report); the policy is the second line of defence: a browser that opens
the page runs no script at all (inline, from a URL, or as a ``javascript:`` link), loads no
frame, object or font from elsewhere and sends no form, whatever got through.

Pages keep what they need: inline ``<style>`` (nbconvert's and bootstrap's CSS are inlined),
images as ``data:`` URLs (plots) or from https (images a student's markdown links to).
nbconvert's feedback template still writes its MathJax ``<script>`` tags; the policy keeps
them from loading, so formulas show as TeX source.

>>> with_csp('<html><head><title>t</title></head></html>')[:59]
'<html><head><meta http-equiv="Content-Security-Policy" cont'
"""

from __future__ import annotations

import re

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; object-src 'none'; style-src 'unsafe-inline'; "
    "img-src data: https:; font-src data:; base-uri 'none'; form-action 'none'"
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def with_csp(page: str) -> str:
    """``page`` with `CSP_META` as the first element of its ``<head>`` (a new string).

    The policy governs only what comes after it, so it goes first. Raises ``ValueError``
    for a page without a ``<head>``, rather than write a page without the policy.
    """
    match = _HEAD.search(page)
    if match is None:
        raise ValueError("this page has no <head>: cannot add the Content-Security-Policy")
    return page[: match.end()] + CSP_META + page[match.end() :]
