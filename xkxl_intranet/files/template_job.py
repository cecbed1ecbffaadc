"""Documents the worker writes for a page that waits for them: the 申报书模板 as .docx (python-docx,
which the web process does not import). The blocks are laid out by the web process
(``applications.document.blocks_for``, from the database); the job only writes them."""
from __future__ import annotations

from ..domain.form_layout import Block
from ..jobs.queue import FORM_DOCX_JOB, handler
from .form_template import form_docx


@handler(FORM_DOCX_JOB)
def form_docx_job(blocks: list[Block]) -> bytes:
    return form_docx(blocks)
