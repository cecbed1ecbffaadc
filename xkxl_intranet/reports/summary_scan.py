"""The city's stamped 附件3 scan: kept with the fingerprint of the sheet it scans (so that a
later change to the city's 附件3 shows it stale), and its box on the city's files page."""
from __future__ import annotations

from collections.abc import Sequence

from werkzeug.datastructures import FileStorage

from ..applications.file_panels import Section
from ..auth.models import User
from ..auth.scoping import is_own_city_clerk
from ..files import operations
from ..files.categories import SUMMARY_SCAN
from ..files.models import StoredFile
from ..files.operations import Message, UploadOutcome
from ..files.queries import summary_scans
from ..rounds.models import City, Round
from .sheet import STALE_SCAN_MESSAGE, scan_is_stale, summary_fingerprint


def store_scans(user: User, uploads: Sequence[FileStorage], *, city: City, round_: Round) -> UploadOutcome:
    """The clerk's upload of the city's scan (``files.operations.store_uploads``), with the
    fingerprint of the 附件3 as it stands now."""
    return operations.store_uploads(user, uploads, category=SUMMARY_SCAN, city=city, round_=round_,
                                    summary_digest=summary_fingerprint(round_, city))


def store_scan_bytes(user: User, data: bytes, name: str, *, city: City, round_: Round) -> StoredFile:
    """A scan the system was given as bytes, kept as if uploaded."""
    return operations.store_bytes(user, data, name, category=SUMMARY_SCAN.key, city=city, round_=round_,
                                  summary_digest=summary_fingerprint(round_, city))


def summary_section(user: User, city: City, round_: Round, *, return_to: str,
                    messages: list[Message] | None = None) -> Section:
    """The city's 汇总表 scans in ``round_``: uploaded by its own clerk, never deleted (a new
    scan replaces the current one and the old one is kept)."""
    return Section(
        category=SUMMARY_SCAN, files=summary_scans(city.id, round_.id),
        dom_id=f"files-city-{city.id}-{SUMMARY_SCAN.key}", return_to=return_to,
        can_upload=is_own_city_clerk(user, city.id), messages=list(messages or ()),
        notice=STALE_SCAN_MESSAGE + "。" if scan_is_stale(round_, city) else "")
