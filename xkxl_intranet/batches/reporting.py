"""报送: what a city's batch would send and what still blocks it, the report itself with its
receipt (回执), and the reminder shown near the deadline. Operations take the acting user,
raise :class:`Refused`, and only flush."""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select

from ..applications.evaluation import evaluate
from ..applications.models import Application, ReviewState
from ..audit.services import record
from ..auth.models import User
from ..auth.scoping import scope_to_city
from ..clock import now
from ..domain.deadlines import ReportingWindow, in_reminder_window
from ..domain.errors import NotFound, Refused
from ..domain.findings import Finding, ParseError
from ..domain.notices import NoticeKind
from ..domain.parsing import parse_phone
from ..extensions import db
from ..files.categories import FORM, SUMMARY_SCAN, round_categories
from ..files.models import StoredFile
from ..files.queries import is_current_form
from ..files.reading_state import WAITING
from ..notifications.operations import Link, notify, province_accounts
from ..reports.sheet import STALE_SCAN_MESSAGE, scan_is_stale
from ..rounds.models import BatchState, City, CityBatch, Receipt, Round
from ..rounds.state import batch_for_write, batch_or_blank, deadline_of, find_batch, window_of


def current_files_by_application(round_id: int, city_id: int) -> dict[int, list[StoredFile]]:
    """Current (not superseded) files of a city's applications, in one query."""
    grouped: dict[int, list[StoredFile]] = defaultdict(list)
    rows = db.session.scalars(select(StoredFile).where(
        StoredFile.round_id == round_id, StoredFile.city_id == city_id,
        StoredFile.application_id.is_not(None), StoredFile.superseded_at.is_(None))
        .order_by(StoredFile.category, StoredFile.uploaded_at, StoredFile.id))
    for stored in rows:
        assert stored.application_id is not None  # the query leaves out the city's own files
        grouped[stored.application_id].append(stored)
    return grouped


@dataclass(frozen=True)
class Blocker:
    """One thing that stops 报送, where it is resolved and how, briefly.

    ``where`` is a key the pages turn into a link (services know no URLs): ``application`` (the
    application page, at ``anchor``: the warning's own entry, confirmed there with a note),
    ``edit`` (the form, at the field in error), ``files`` (the application's materials page, at
    its 申报书 box), ``applications`` (the list of drafts, for the 初审), ``summary`` (附件3's
    contact); empty when there is nothing to open (the batch's state, the deadline)."""

    text: str
    how: str = ""
    where: str = ""
    action: str = ""  # the link's words: 去确认, 去修改 …
    application_id: int | None = None
    anchor: str = ""

    def __str__(self) -> str:
        return self.text


ACKNOWLEDGE_HOW = "在申报页面核实后填写说明并确认"
CORRECT_HOW = "在申报修改页面更正后保存"
UPLOAD_HOW = "在该申报的材料页面上传申报书"


def _finding_blocker(application: Application, finding: Finding) -> Blocker:
    """A warning is confirmed with a note at its entry on the application page; an error is
    corrected at its field in the form."""
    text = f"{application.title}：{finding.message}"
    if finding.is_warning:
        return Blocker(text, ACKNOWLEDGE_HOW, "application", "去确认", application.id, finding.anchor)
    return Blocker(text, CORRECT_HOW, "edit", "去修改", application.id, application.round.form.anchor_of(finding.field))


def _application_blockers(application: Application, files: list[StoredFile]) -> list[Blocker]:
    blockers = [_finding_blocker(application, f) for f in evaluate(application).blocking]
    forms = [f for f in files if f.category == FORM.key]
    if not forms:
        blockers.append(Blocker(f"{application.title}：尚未上传申报书", UPLOAD_HOW, "files", "去上传",
                                application.id, f"files-{application.id}-{FORM.key}"))
    elif any(f.reading_state in WAITING for f in forms):
        # What the 申报书 says may add warnings: nothing is reported before it has been compared.
        blockers.append(Blocker(f"{application.title}：申报书正在读取，读取完成并核对后方可报送",
                                "稍候片刻后刷新本页", "application", "去查看", application.id, "document"))
    return blockers


@dataclass
class Readiness:
    """What reporting would send, and what still blocks it."""

    batch: CityBatch
    window: ReportingWindow
    applications: list[Application]  # 初审通过, in 附件3 order
    files: dict[int, list[StoredFile]]
    blockers: list[Blocker] = field(default_factory=list)
    not_reviewed: list[Application] = field(default_factory=list)
    # Nothing stops reporting without the stamped 附件3 scan (the paper copy may follow), but
    # the clerk must say they know.
    summary_scan_missing: bool = False
    # The scan was uploaded for a 附件3 that prints differently now: the same acknowledgement.
    summary_scan_stale: bool = False
    stale_scan_message: str = STALE_SCAN_MESSAGE


def readiness(round_: Round, city: City) -> Readiness:
    batch = batch_or_blank(round_.id, city.id)
    window = window_of(round_, batch)
    applications = list(db.session.scalars(select(Application).where(
        Application.round_id == round_.id, Application.city_id == city.id)
        .order_by(Application.position, Application.id)))
    passed = [a for a in applications if a.review_state == ReviewState.PASSED]
    files = current_files_by_application(round_.id, city.id)
    blockers: list[Blocker] = []
    if batch.state_enum.locked:
        blockers.append(Blocker(f"本批次当前状态为“{batch.state_enum.label}”，不能重复报送。"))
    if not window.allowed:
        blockers.append(Blocker(window.message))
    if not passed:
        blockers.append(Blocker("没有市州初审通过的申报。请先完成初审（至少一份“通过”）。",
                                "在申报页面的“市州初审”中选择“通过”", "applications", "去初审"))
    for application in passed:
        blockers.extend(_application_blockers(application, files.get(application.id, [])))
    blockers.extend(Blocker(text, where="summary", action="去填写") for text in _contact_blockers(city))
    not_reviewed = [a for a in applications if a.review_state == ReviewState.DRAFT]
    return Readiness(batch, window, passed, files, blockers, not_reviewed,
                     _summary_scan_missing(round_.id, city.id), scan_is_stale(round_, city))


def _summary_scan_query(round_id: int, city_id: int, what: Any) -> Select[Any]:
    """The city's stamped 附件3 scan now (one current file: a new upload supersedes the old)."""
    return (select(what).where(
        StoredFile.round_id == round_id, StoredFile.city_id == city_id,
        StoredFile.category == SUMMARY_SCAN.key, StoredFile.superseded_at.is_(None))
        .order_by(StoredFile.uploaded_at.desc(), StoredFile.id.desc()).limit(1))


def _summary_scan_missing(round_id: int, city_id: int) -> bool:
    return db.session.scalar(_summary_scan_query(round_id, city_id, StoredFile.id)) is None


CONTACT_WHERE = "请在“报表 → 推荐信息汇总表”中填写"


def _contact_blockers(city: City) -> list[str]:
    """附件3 prints the city's 联系人 and 联系方式: both must be there, the number readable."""
    blockers = []
    if not (city.contact_name or "").strip():
        blockers.append(f"推荐信息汇总表（附件3）尚未填写联系人，{CONTACT_WHERE}。")
    try:
        phone = parse_phone(city.contact_phone, "联系方式")
    except ParseError as err:
        blockers.append(f"推荐信息汇总表（附件3）的{err.message}，{CONTACT_WHERE}。")
    else:
        if not phone:
            blockers.append(f"推荐信息汇总表（附件3）尚未填写联系方式（手机或固定电话），{CONTACT_WHERE}。")
    return blockers


@dataclass(frozen=True)
class Todo:
    """One thing a city still has to do before reporting, and where it is done (a key the
    pages turn into a link: ``applications``, ``errors``, ``warnings``, ``drafts``, ``files``,
    ``summary``, ``batch``)."""

    text: str
    where: str


def outstanding(round_: Round, city: City) -> list[Todo]:
    """What the city still has to do before it can report, in the order a clerk works: the
    applications, their checks, their 申报书, the 初审, the 附件3 contact and scan, the report
    itself. Empty once the batch is reported or accepted."""
    batch = find_batch(round_.id, city.id)
    if batch is not None and batch.state_enum.locked:
        return []
    rows = db.session.execute(
        select(func.count(),
               func.sum(case((Application.error_count > 0, 1), else_=0)),
               func.sum(case((Application.open_warning_count > 0, 1), else_=0)),
               func.sum(case((Application.review_state == ReviewState.DRAFT, 1), else_=0)),
               func.sum(case((Application.review_state == ReviewState.PASSED, 1), else_=0)))
        .where(Application.round_id == round_.id, Application.city_id == city.id)).one()
    total, with_errors, with_warnings, drafts, passed = (int(x or 0) for x in rows)
    with_form = db.session.scalar(select(func.count(func.distinct(StoredFile.application_id))).where(
        StoredFile.round_id == round_.id, StoredFile.city_id == city.id,
        is_current_form())) or 0
    todo = []
    if total == 0:
        todo.append(Todo("尚未录入任何申报", "applications"))
    if with_errors:
        todo.append(Todo(f"{with_errors} 份申报有错误", "errors"))
    if with_warnings:
        todo.append(Todo(f"{with_warnings} 份申报有待确认的提示", "warnings"))
    if total - with_form > 0:
        todo.append(Todo(f"{total - with_form} 份申报未上传申报书", "files"))
    if drafts:
        todo.append(Todo(f"{drafts} 份申报尚未完成市州初审", "drafts"))
    elif total and not passed:
        todo.append(Todo("没有市州初审通过的申报", "applications"))
    todo.extend(Todo(text, "summary") for text in _contact_blockers(city))
    if _summary_scan_missing(round_.id, city.id):
        todo.append(Todo("加盖公章的推荐信息汇总表（附件3）扫描件尚未上传", "files"))
    elif scan_is_stale(round_, city):
        todo.append(Todo(STALE_SCAN_MESSAGE, "files"))
    todo.append(Todo("本市（州）尚未报送" if batch is None or batch.report_count == 0
                     else "退回修改后尚未重新报送", "batch"))
    return todo


def reminder(round_: Round, city: City) -> list[str] | None:
    """From 7 days before the deadline: what is still missing, for the banner on city pages."""
    batch = find_batch(round_.id, city.id)
    if batch is not None and batch.state_enum.locked:
        return None
    if not in_reminder_window(now(), deadline_of(round_, batch)):
        return None
    return [t.text for t in outstanding(round_, city)]


# ---- reporting --------------------------------------------------------------------------------

def _scan_content(scan: StoredFile | None) -> dict[str, Any] | None:
    if scan is None:
        return None
    return {"category": SUMMARY_SCAN.label, "name": scan.original_name, "size": scan.size, "sha256": scan.sha256,
            "uploaded_at": scan.uploaded_at.isoformat(timespec="seconds")}


def _receipt_content(round_: Round, city: City, ready: Readiness, at: datetime, *,
                     paper_summary_follows: bool) -> dict[str, Any]:
    categories = round_categories(round_.declaration.files)
    return {
        "round": round_.title, "notice_number": round_.notice_number, "city": city.name,
        "city_code": city.code, "reported_at": at.isoformat(timespec="seconds"),
        "deadline": ready.window.deadline.isoformat(timespec="seconds"), "late": ready.window.late,
        "contact_name": city.contact_name, "contact_phone": city.contact_phone,
        "summary_scan_missing": ready.summary_scan_missing,
        **({"summary_scan_stale": True} if ready.summary_scan_stale else {}),
        "summary_scan": _scan_content(db.session.scalar(_summary_scan_query(round_.id, city.id, StoredFile))),
        "paper_summary_follows": paper_summary_follows,
        "applications": [
            {"position": a.position, "enterprise_name": a.enterprise_name, "platform_name": a.platform_name,
             "credit_code": a.credit_code, "contact_name": a.contact_name, "contact_mobile": a.contact_mobile,
             "files": [{"category": categories[f.category].label if f.category in categories else f.category,
                        "name": f.original_name, "size": f.size, "sha256": f.sha256}
                       for f in ready.files.get(a.id, [])]}
            for a in ready.applications],
    }


def content_digest(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


SCAN_NOT_ACKNOWLEDGED = ("加盖公章的推荐信息汇总表扫描件尚未上传。请先上传，或勾选“已知悉：扫描件尚未上传，"
                         "纸质版另行报送”后再报送。")


def report(user: User, round_: Round, city: City, *, scan_missing_acknowledged: bool = False) -> Receipt:
    """报送: one final step; refused while anything blocks. Produces a receipt (回执)."""
    ready = readiness(round_, city)
    if ready.blockers:
        raise Refused("不能报送：" + "；".join(b.text for b in ready.blockers[:10]))
    if ready.summary_scan_missing and not scan_missing_acknowledged:
        raise Refused(SCAN_NOT_ACKNOWLEDGED)
    if ready.summary_scan_stale and not scan_missing_acknowledged:
        raise Refused(f"{STALE_SCAN_MESSAGE}，或勾选“已知悉：扫描件与当前汇总表不一致，纸质版另行报送”后再报送。")
    # The acknowledgement is asked for only when there is no current scan: it is the choice to
    # send the stamped 附件3 on paper instead.
    paper_summary_follows = ready.summary_scan_missing or ready.summary_scan_stale
    at = now()
    batch = batch_for_write(round_.id, city.id)
    before = {"state": batch.state_enum.label}
    batch.report_count += 1
    batch.state = BatchState.REPORTED
    batch.reported_at = at
    batch.reported_by_id = user.id
    batch.is_late = ready.window.late
    content = _receipt_content(round_, city, ready, at, paper_summary_follows=paper_summary_follows)
    receipt = Receipt(number=f"HZ{round_.year}-{city.code}-{batch.report_count:02d}", batch_id=batch.id,
                      round_id=round_.id, city_id=city.id, created_at=at, created_by_id=user.id,
                      is_late=ready.window.late, deadline=ready.window.deadline, content=content,
                      content_sha256=content_digest(content), paper_summary_follows=paper_summary_follows)
    db.session.add(receipt)
    db.session.flush()
    record("batch.reported", user=user, object_type="batch", object_id=batch.id, city_id=city.id,
           summary=f"{city.name}报送{len(ready.applications)}份申报，回执号 {receipt.number}"
                   + ("（逾期，按延期报送）" if ready.window.late else ""),
           before=before, after={"state": BatchState.REPORTED.label, "receipt": receipt.number,
                                 "late": ready.window.late, "paper_summary_follows": paper_summary_follows})
    # The province acts next: accept it or return it.
    notify(province_accounts(), NoticeKind.BATCH_REPORTED,
           f"{city.name}已报送{len(ready.applications)}份申报" + ("（逾期，按延期报送）" if ready.window.late else ""),
           f"回执号 {receipt.number}，请审核后受理或退回。", Link("rounds.city_desk", {"city_id": city.id}))
    return receipt


def get_receipt(user: User, receipt_id: int) -> Receipt:
    """A receipt ``user`` may see; :class:`NotFound` otherwise (another city's)."""
    receipt = db.session.scalar(scope_to_city(select(Receipt), Receipt.city_id, user)
                                .where(Receipt.id == receipt_id))
    if receipt is None:
        raise NotFound
    return receipt


def receipt_versions(receipt: Receipt) -> list[Any]:
    """What a receipt's PDF depends on (its key, see :mod:`generated`): its content's digest and
    the few things it prints beside (the city's name, who reported, 纸质版另行报送), all loaded
    with the receipt itself."""
    return [receipt.id, receipt.number, receipt.content_sha256, receipt.created_at, receipt.deadline,
            receipt.is_late, receipt.paper_summary_follows, receipt.city.name,
            receipt.created_by.display_name if receipt.created_by else None]


def receipts_for(user: User, round_id: int, city_id: int) -> list[Receipt]:
    return list(db.session.scalars(scope_to_city(select(Receipt), Receipt.city_id, user)
                                   .where(Receipt.round_id == round_id, Receipt.city_id == city_id)
                                   .order_by(Receipt.created_at.desc())))
