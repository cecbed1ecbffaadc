"""附件3 as printed, from the data alone (no acting user: a pure read of one city's rows), and
its fingerprint: a stamped scan is a picture of the sheet on the day it was printed, so the
fingerprint of the sheet is kept with the scan when it is uploaded, and a later change of
what 附件3 prints (the order, the contacts, an application's listed values, the heading) makes
the scan stale.

Imported by the files upload (to keep the fingerprint) and by 报送 readiness (to compare).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import load_only

from ..applications.models import Application, ReviewState
from ..extensions import db
from ..files.categories import SUMMARY_SCAN
from ..files.models import StoredFile
from ..rounds.models import City, Round
from ..rounds.state import find_batch
from .layouts import DEFAULT_DISCLOSURE, SUMMARY_HEADERS, Summary, SummaryRow

SUMMARY_COLUMNS = (Application.id, Application.round_id, Application.city_id, Application.position,
                   Application.version, Application.review_state, Application.platform_name,
                   Application.enterprise_name, Application.contact_name, Application.contact_mobile)

STALE_SCAN_MESSAGE = "附件3已在扫描件上传后修改，请重新打印盖章并上传扫描件"


def summary_of(round_: Round, city: City, applications: Iterable[Application]) -> Summary:
    """The sheet for the city's 初审通过 ``applications`` in 附件3 order."""
    rows = tuple(SummaryRow(n, a.id, a.platform_name or "", a.enterprise_name or "", a.contact_name or "",
                            a.contact_mobile or "")
                 for n, a in enumerate(applications, start=1))
    batch = find_batch(round_.id, city.id)
    disclosure = batch.disclosure if batch is not None and batch.disclosure else DEFAULT_DISCLOSURE
    return Summary(round_title=round_.title, city_name=city.name, department_name=city.department_name or "",
                   contact_name=city.contact_name or "", contact_phone=city.contact_phone or "",
                   disclosure=disclosure, rows=rows)


def printed_summary(round_: Round, city: City) -> Summary:
    """The city's 附件3 as anyone allowed to see it would print it now."""
    stmt = (select(Application).options(load_only(*SUMMARY_COLUMNS))
            .where(Application.round_id == round_.id, Application.city_id == city.id,
                   Application.review_state == ReviewState.PASSED)
            .order_by(Application.position, Application.id))
    return summary_of(round_, city, db.session.scalars(stmt))


def fingerprint(summary: Summary) -> str:
    """SHA-256 of what the sheet prints, cell by cell (not the record ids: the same text is
    the same sheet). The foot's seal line and blank 填报日期 are the same on every sheet and are
    left out: a scan stamped before they were printed shows the same rows, so it is not stale."""
    printed = {"title": summary.title, "department": summary.department_line,
               "contact": summary.contact_line, "phone": summary.phone_line,
               "disclosure": summary.disclosure_line, "headers": list(SUMMARY_HEADERS),
               "rows": [list(row.cells) for row in summary.rows]}
    canonical = json.dumps(printed, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def summary_fingerprint(round_: Round, city: City) -> str:
    return fingerprint(printed_summary(round_, city))


def scan_is_stale(round_: Round, city: City) -> bool:
    """The city's current 附件3 scan was uploaded for a sheet that prints differently now. A scan
    without a fingerprint (uploaded before fingerprints were kept) cannot be checked: not stale."""
    kept = db.session.execute(select(StoredFile.id, StoredFile.summary_digest).where(
        StoredFile.round_id == round_.id, StoredFile.city_id == city.id,
        StoredFile.category == SUMMARY_SCAN.key, StoredFile.superseded_at.is_(None))
        .order_by(StoredFile.uploaded_at.desc(), StoredFile.id.desc()).limit(1)).first()
    if kept is None or not kept.summary_digest:
        return False
    return kept.summary_digest != summary_fingerprint(round_, city)
