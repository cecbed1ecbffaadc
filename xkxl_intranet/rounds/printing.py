"""HTML to PDF with WeasyPrint; CJK fonts come from Debian's fonts-noto-cjk (installed by make)."""
from __future__ import annotations

from flask import current_app


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    # base_url lets the stylesheet link resolve to the app's static folder on disk.
    return HTML(string=html, base_url=current_app.static_folder + "/").write_pdf()
