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
from sqlalchemy.orm import lazyload, load_only
from sqlalchemy.orm.interfaces import LoaderOption

from ..applications.models import Application, ReviewState
from ..domain.answers import IDENTITY_KEYS
from ..domain.parsing import format_field
from ..extensions import db
from ..files.categories import SUMMARY_SCAN
from ..files.models import StoredFile
from ..notice.schema import Notice
from ..rounds.models import City, Round
from ..rounds.state import find_batch
from .summary_layout import Summary, SummaryLine, SummaryRow, SummarySheetColumn, summary_columns

# What 附件3 reads of an application: the named columns (the document of the other declared
# values comes with it, Application.answers_row).
SUMMARY_COLUMNS = (Application.id, Application.round_id, Application.city_id, Application.position,
                   Application.version, Application.review_state, Application.platform_name,
                   Application.enterprise_name, Application.credit_code, Application.contact_name,
                   Application.contact_mobile)

STALE_SCAN_MESSAGE = "附件3已在扫描件上传后修改，请重新打印盖章并上传扫描件"


def _named_only(columns: Iterable[SummarySheetColumn]) -> bool:
    return all(c.field is None or c.field.key in IDENTITY_KEYS for c in columns)


def summary_loading(notice: Notice) -> tuple[LoaderOption, ...]:
    """What to load of each application for the notice's 附件3 (:data:`SUMMARY_COLUMNS`, whatever
    fields it prints: the others are in the document ``values()`` reads)."""
    if _named_only(summary_columns(notice)):  # 2022's: the named columns alone, no document loaded
        return (load_only(*SUMMARY_COLUMNS), lazyload(Application.answers_row))
    return (load_only(*SUMMARY_COLUMNS),)


def _cell(column: SummarySheetColumn, number: int, application: Application,
          values: dict[str, object] | None) -> object:
    """序号, a named column's text as stored, any other field as the reports print it."""
    if column.field is None:
        return number
    if column.field.key in IDENTITY_KEYS:
        return getattr(application, column.field.key) or ""
    assert values is not None
    return format_field(column.field, values.get(column.field.key), thousands=True)


def _summary_row(columns: tuple[SummarySheetColumn, ...], named_only: bool, number: int,
                 application: Application) -> SummaryRow:
    values = None if named_only else application.values()
    return SummaryRow(number, application.id, application.platform_name or "",
                      tuple(_cell(c, number, application, values) for c in columns))


def summary_of(round_: Round, city: City, applications: Iterable[Application]) -> Summary:
    """The sheet for the city's 初审通过 ``applications`` in 附件3 order, as the round's notice
    lays it out."""
    notice = round_.declaration
    columns = summary_columns(notice)  # once for the sheet, not per row
    named_only = _named_only(columns)
    rows = tuple(_summary_row(columns, named_only, n, a) for n, a in enumerate(applications, start=1))
    batch = find_batch(round_.id, city.id)
    disclosure = batch.disclosure if batch is not None and batch.disclosure else notice.summary.default_disclosure
    return Summary(notice, round_title=round_.title, city_name=city.name,
                   department_name=city.department_name or "", contact_name=city.contact_name or "",
                   contact_phone=city.contact_phone or "", disclosure=disclosure, rows=rows)


def printed_summary(round_: Round, city: City) -> Summary:
    """The city's 附件3 as anyone allowed to see it would print it now."""
    stmt = (select(Application).options(*summary_loading(round_.declaration))
            .where(Application.round_id == round_.id, Application.city_id == city.id,
                   Application.review_state == ReviewState.PASSED)
            .order_by(Application.position, Application.id))
    return summary_of(round_, city, db.session.scalars(stmt))


# The key of a line above or under the table in the fingerprint, by the first placeholder it
# fills: the names the 2022 sheet's four lines have always had, so that a scan stamped before
# 附件3 was declared by the round's notice is still the same sheet. Any other line is keyed by
# its place ("header2", "footer1").
LINE_KEYS = {"department_name": "department", "contact_name": "contact", "contact_phone": "phone",
             "disclosure": "disclosure"}


def _keyed_lines(lines: tuple[SummaryLine, ...], place: str, taken: set[str]) -> dict[str, str]:
    keyed = {}
    for n, line in enumerate(lines, start=1):
        named = [LINE_KEYS[name] for name in sorted(line.names) if name in LINE_KEYS]
        key = named[0] if len(named) == 1 and named[0] not in taken else f"{place}{n}"
        taken.add(key)
        keyed[key] = line.text
    return keyed


def fingerprint(summary: Summary) -> str:
    """SHA-256 of what the sheet prints, cell by cell (not the record ids: the same text is
    the same sheet). The foot's seal line and blank 填报日期 are the same on every sheet and are
    left out: a scan stamped before they were printed shows the same rows, so it is not stale."""
    taken: set[str] = set()
    printed = {"title": summary.title, **_keyed_lines(summary.header_lines, "header", taken),
               **_keyed_lines(summary.footer_lines, "footer", taken), "headers": list(summary.headers),
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
