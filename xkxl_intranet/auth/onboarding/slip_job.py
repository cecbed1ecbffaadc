"""The credential slips' job (凭条): one A4 page per new account, printed by the worker right after
the accounts were created, and kept for one download (``slips.py``). The accounts and their
one-time passwords wait in the slips' folder (``slips.take_request`` reads and removes them), not
in the job's payload: nothing here logs them or the HTML that holds them, and a failure is logged
by its kind alone."""
from __future__ import annotations

import logging
from pathlib import Path

from ...jobs.queue import CREDENTIAL_SLIPS_JOB, handler
from ...print_job import print_pdf_job
from ...printing import render_print, static_base_url
from . import slips

log = logging.getLogger(__name__)


@handler(CREDENTIAL_SLIPS_JOB)
def credential_slips_job(folder: str, creator_id: int, token: str, address: str, second_factor_due: bool) -> None:
    accounts = slips.take_request(Path(folder), creator_id, token)
    if accounts is None:  # swept (the worker was down past ONBOARDING_SLIP_MINUTES) or run twice
        log.error("credential slips: the accounts to print are gone")
        slips.mark_failed(Path(folder), creator_id, token)
        return
    try:
        html = render_print("auth/slips_print.html", address=address, second_factor_due=second_factor_due,
                            accounts=[{"username": a[0], "city": a[1], "password": a[2]} for a in accounts])
        pdf = print_pdf_job(html, static_base_url(), True)
    except Exception as err:  # never the message: it might quote the page it failed on
        log.error("credential slips for %d accounts could not be made (%s)", len(accounts), type(err).__name__)
        slips.mark_failed(Path(folder), creator_id, token)
        return
    slips.store(Path(folder), creator_id, token, pdf)
