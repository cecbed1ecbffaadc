"""The credential slips' job (凭条): one A4 page per new account, printed by the worker right after
the accounts were created, from the values its payload carries, and kept for one download
(``slips.py``). The one-time passwords travel in the payload only: nothing here logs them or
the HTML that holds them, and a failure is logged by its kind alone."""
from __future__ import annotations

import logging
from pathlib import Path

from ...jobs.queue import CREDENTIAL_SLIPS_JOB, handler
from ...print_job import print_pdf_job
from ...printing import render_print, static_base_url
from . import slips

log = logging.getLogger(__name__)


@handler(CREDENTIAL_SLIPS_JOB)
def credential_slips_job(folder: str, creator_id: int, token: str, address: str, second_factor_due: bool,
                         accounts: list[list[str]]) -> None:
    """``accounts``: [user name, city, one-time password] per slip."""
    try:
        html = render_print("auth/slips_print.html", address=address, second_factor_due=second_factor_due,
                            accounts=[{"username": a[0], "city": a[1], "password": a[2]} for a in accounts])
        pdf = print_pdf_job(html, static_base_url(), True)
    except Exception as err:  # never the message: it might quote the page it failed on
        log.error("credential slips for %d accounts could not be made (%s)", len(accounts), type(err).__name__)
        slips.mark_failed(Path(folder), creator_id, token)
        return
    slips.store(Path(folder), creator_id, token, pdf)
