"""City batches: reporting (报送) with its receipt, and the province's desk (extensions,
acceptance, return, paper copies, marks). Services flush; routes commit."""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import abort
from flask_login import current_user
from sqlalchemy import case, func, select

from ..applications.models import Application, ProvinceMark, ReviewState
from ..audit.services import record
from ..clock import now
from ..domain.deadlines import ReportingWindow, effective_deadline, in_reminder_window, reporting_window
from ..extensions import db
from .models import BatchState, City, CityBatch, Disclosure, Receipt, Round


class BatchError(ValueError):
    """A refused step; ``str(err)`` is the Chinese message."""


# ---- reading -------------------------------------------------------------------------------

def find_batch(round_id: int, city_id: int) -> CityBatch | None:
    return db.session.scalar(select(CityBatch).where(CityBatch.round_id == round_id,
                                                     CityBatch.city_id == city_id))


def get_batch(round_: Round, city: City) -> CityBatch:
    """The city's batch for the round, created (未开始) on first use."""
    batch = find_batch(round_.id, city.id)
    if batch is None:
        batch = CityBatch(round_id=round_.id, city_id=city.id, state=BatchState.NOT_STARTED,
                          disclosure=Disclosure.ACTIVE, is_late=False, report_count=0)
        db.session.add(batch)
        db.session.flush()
    return batch


def batch_is_locked(round_id: int, city_id: int) -> bool:
    """Reported or accepted: the city's applications and files are read-only."""
    state = db.session.scalar(select(CityBatch.state).where(CityBatch.round_id == round_id,
                                                            CityBatch.city_id == city_id))
    return state is not None and BatchState(state).locked


def note_activity(round_id: int, city_id: int) -> None:
    """The first application moves a batch from 未开始 to 填报中."""
    batch = find_batch(round_id, city_id)
    if batch is None:
        db.session.add(CityBatch(round_id=round_id, city_id=city_id, state=BatchState.FILLING,
                                 disclosure=Disclosure.ACTIVE, is_late=False, report_count=0))
    elif batch.state == BatchState.NOT_STARTED:
        batch.state = BatchState.FILLING


def window_for(batch: CityBatch) -> ReportingWindow:
    return reporting_window(now(), batch.round.deadline, batch.extension_deadline)


def deadline_for(batch: CityBatch) -> datetime:
    return effective_deadline(batch.round.deadline, batch.extension_deadline)


def current_files_by_application(round_id: int, city_id: int) -> dict[int, list]:
    """Current (not superseded) files of a city's applications, in one query."""
    from ..files.models import StoredFile

    grouped: dict[int, list] = defaultdict(list)
    rows = db.session.scalars(select(StoredFile).where(
        StoredFile.round_id == round_id, StoredFile.city_id == city_id,
        StoredFile.application_id.is_not(None), StoredFile.superseded_at.is_(None))
        .order_by(StoredFile.category, StoredFile.uploaded_at, StoredFile.id))
    for stored in rows:
        grouped[stored.application_id].append(stored)
    return grouped


@dataclass
class Readiness:
    """What reporting would send, and what still blocks it."""

    batch: CityBatch
    window: ReportingWindow
    applications: list[Application]  # 初审通过, in 附件3 order
    files: dict[int, list]
    blockers: list[str] = field(default_factory=list)
    not_reviewed: list[Application] = field(default_factory=list)

    @property
    def can_report(self) -> bool:
        return not self.blockers


def readiness(round_: Round, city: City) -> Readiness:
    from ..applications.services import evaluate
    from ..files.categories import FORM

    batch = get_batch(round_, city)
    window = window_for(batch)
    applications = list(db.session.scalars(select(Application).where(
        Application.round_id == round_.id, Application.city_id == city.id)
        .order_by(Application.position, Application.id)))
    passed = [a for a in applications if a.review_state == ReviewState.PASSED]
    files = current_files_by_application(round_.id, city.id)
    blockers: list[str] = []
    if batch.state_enum.locked:
        blockers.append(f"本批次当前状态为“{batch.state_enum.label}”，不能重复报送。")
    if not window.allowed:
        blockers.append(window.message)
    if not passed:
        blockers.append("没有市州初审通过的申报。请先完成初审（至少一份“通过”）。")
    for application in passed:
        problems = [f.message for f in evaluate(application).blocking]
        if not any(f.category == FORM.key for f in files.get(application.id, [])):
            problems.append("尚未上传申报书")
        for problem in problems:
            blockers.append(f"{application.title}：{problem}")
    not_reviewed = [a for a in applications if a.review_state == ReviewState.DRAFT]
    return Readiness(batch, window, passed, files, blockers, not_reviewed)


def reminder(round_: Round, city: City) -> list[str] | None:
    """From 7 days before the deadline: what is still missing, for the banner on city pages."""
    batch = find_batch(round_.id, city.id)
    deadline = effective_deadline(round_.deadline, batch.extension_deadline if batch else None)
    if batch is not None and batch.state_enum.locked:
        return None
    if not in_reminder_window(now(), deadline):
        return None
    from ..files.models import StoredFile

    rows = db.session.execute(
        select(func.count(),
               func.sum(case((Application.error_count > 0, 1), else_=0)),
               func.sum(case((Application.open_warning_count > 0, 1), else_=0)),
               func.sum(case((Application.review_state == ReviewState.DRAFT, 1), else_=0)))
        .where(Application.round_id == round_.id, Application.city_id == city.id)).one()
    total, with_errors, with_warnings, drafts = (int(x or 0) for x in rows)
    with_form = db.session.scalar(select(func.count(func.distinct(StoredFile.application_id))).where(
        StoredFile.round_id == round_.id, StoredFile.city_id == city.id,
        StoredFile.category == "form", StoredFile.superseded_at.is_(None)))
    missing = []
    if total == 0:
        missing.append("尚未录入任何申报")
    if with_errors:
        missing.append(f"{with_errors} 份申报有错误")
    if with_warnings:
        missing.append(f"{with_warnings} 份申报有待确认的提示")
    if total - (with_form or 0) > 0:
        missing.append(f"{total - (with_form or 0)} 份申报未上传申报书")
    if drafts:
        missing.append(f"{drafts} 份申报尚未完成市州初审")
    missing.append("本市（州）尚未报送")
    return missing


# ---- reporting --------------------------------------------------------------------------------

def _receipt_content(round_: Round, city: City, ready: Readiness, at: datetime) -> dict:
    from ..files.categories import CATEGORIES

    return {
        "round": round_.title, "notice_number": round_.notice_number, "city": city.name,
        "city_code": city.code, "reported_at": at.isoformat(timespec="seconds"),
        "deadline": ready.window.deadline.isoformat(timespec="seconds"), "late": ready.window.late,
        "applications": [
            {"position": a.position, "enterprise_name": a.enterprise_name, "platform_name": a.platform_name,
             "credit_code": a.credit_code, "contact_name": a.contact_name, "contact_mobile": a.contact_mobile,
             "files": [{"category": CATEGORIES[f.category].label if f.category in CATEGORIES else f.category,
                        "name": f.original_name, "size": f.size, "sha256": f.sha256}
                       for f in ready.files.get(a.id, [])]}
            for a in ready.applications],
    }


def content_digest(content: dict) -> str:
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def report(round_: Round, city: City) -> Receipt:
    """报送: one final step; refused while anything blocks. Produces a receipt (回执)."""
    ready = readiness(round_, city)
    if ready.blockers:
        raise BatchError("不能报送：" + "；".join(ready.blockers[:10]))
    at = now()
    batch = ready.batch
    before = {"state": batch.state_enum.label}
    batch.report_count += 1
    batch.state = BatchState.REPORTED
    batch.reported_at = at
    batch.reported_by_id = current_user.id
    batch.is_late = ready.window.late
    content = _receipt_content(round_, city, ready, at)
    receipt = Receipt(number=f"HZ{round_.year}-{city.code}-{batch.report_count:02d}", batch_id=batch.id,
                      round_id=round_.id, city_id=city.id, created_at=at, created_by_id=current_user.id,
                      is_late=ready.window.late, deadline=ready.window.deadline, content=content,
                      content_sha256=content_digest(content))
    db.session.add(receipt)
    db.session.flush()
    record("batch.reported", object_type="batch", object_id=batch.id, city_id=city.id,
           summary=f"{city.name}报送{len(ready.applications)}份申报，回执号 {receipt.number}"
                   + ("（逾期，按延期报送）" if ready.window.late else ""),
           before=before, after={"state": BatchState.REPORTED.label, "receipt": receipt.number,
                                 "late": ready.window.late})
    return receipt


def receipts_stmt():
    from ..auth.scoping import scope_to_city

    return scope_to_city(select(Receipt), Receipt.city_id)


def get_receipt_or_404(receipt_id: int) -> Receipt:
    receipt = db.session.scalar(receipts_stmt().where(Receipt.id == receipt_id))
    if receipt is None:
        abort(404)
    return receipt


def receipts_for(round_id: int, city_id: int) -> list[Receipt]:
    return list(db.session.scalars(receipts_stmt().where(Receipt.round_id == round_id,
                                                         Receipt.city_id == city_id)
                                   .order_by(Receipt.created_at.desc())))


# ---- the province's desk -----------------------------------------------------------------------

def _transition(batch: CityBatch, target: BatchState, allowed: set[BatchState], action: str,
                summary: str, **after) -> None:
    if batch.state_enum not in allowed:
        raise BatchError(f"{batch.city.name}当前为“{batch.state_enum.label}”，不能{action}。")
    before = {"state": batch.state_enum.label}
    batch.state = target
    record(f"batch.{target.value}", object_type="batch", object_id=batch.id, city_id=batch.city_id,
           summary=summary, before=before, after={"state": target.label, **after})
    db.session.flush()


def accept(batch: CityBatch) -> None:
    batch.accepted_at = now()
    _transition(batch, BatchState.ACCEPTED, {BatchState.REPORTED}, "受理",
                f"受理{batch.city.name}的报送")


def return_batch(batch: CityBatch, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise BatchError("退回时请填写退回原因，市（州）将看到这段说明。")
    batch.return_reason = reason[:2000]
    batch.returned_at = now()
    _transition(batch, BatchState.RETURNED, {BatchState.REPORTED, BatchState.ACCEPTED}, "退回",
                f"退回{batch.city.name}的报送：{reason[:200]}", reason=reason[:2000])


def grant_extension(batch: CityBatch, deadline: datetime, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise BatchError("请填写延期原因。")
    if deadline <= batch.round.deadline:
        raise BatchError(f"延期截止时间应晚于本批次截止时间（{batch.round.deadline:%Y-%m-%d %H:%M}）。")
    if deadline <= now():
        raise BatchError("延期截止时间应晚于当前时间。")
    before = {"extension_deadline": batch.extension_deadline.isoformat() if batch.extension_deadline else None}
    batch.extension_deadline = deadline
    batch.extension_reason = reason[:1000]
    batch.extension_granted_at = now()
    record("batch.extension_granted", object_type="batch", object_id=batch.id, city_id=batch.city_id,
           summary=f"准予{batch.city.name}延期至 {deadline:%Y-%m-%d %H:%M}：{reason[:200]}",
           before=before, after={"extension_deadline": deadline.isoformat(), "reason": reason[:1000]})
    db.session.flush()


PAPER_FIELDS = {
    "paper_forms_received_on": "申报书纸质版（一式三份）",
    "paper_disc_received_on": "电子版光盘",
    "paper_summary_received_on": "汇总表纸质版",
}


def record_paper(batch: CityBatch, received: dict[str, date | None], note: str) -> None:
    before = {k: (getattr(batch, k).isoformat() if getattr(batch, k) else None) for k in PAPER_FIELDS}
    for key in PAPER_FIELDS:
        setattr(batch, key, received.get(key))
    batch.paper_note = (note or "").strip()[:1000]
    after = {k: (getattr(batch, k).isoformat() if getattr(batch, k) else None) for k in PAPER_FIELDS}
    changed = {k for k in PAPER_FIELDS if before[k] != after[k]}
    record("batch.paper_received", object_type="batch", object_id=batch.id, city_id=batch.city_id,
           summary=f"登记{batch.city.name}纸质材料："
                   + ("、".join(f"{PAPER_FIELDS[k]} {after[k] or '（清除）'}" for k in changed) or "备注"),
           before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    db.session.flush()


def mark_application(application: Application, mark: str, note: str) -> None:
    """The province's choice for a platform in a reported batch."""
    batch = find_batch(application.round_id, application.city_id)
    if batch is None or batch.state_enum not in (BatchState.REPORTED, BatchState.ACCEPTED):
        raise BatchError("只有已报送的申报可以标记推荐结果。")
    if application.review_state != ReviewState.PASSED:
        raise BatchError("只有市州初审通过的申报可以标记推荐结果。")
    try:
        target = ProvinceMark(mark) if mark else None
    except ValueError:
        raise BatchError("请选择：推荐工信部、列入省级培育名单或未入选。") from None
    before = {"province_mark": application.mark.label if application.mark else None,
              "province_note": application.province_note}
    application.province_mark = target.value if target else None
    application.province_note = (note or "").strip()[:1000]
    application.marked_at = now()
    application.marked_by_id = current_user.id
    record("application.marked", object_type="application", object_id=application.id,
           city_id=application.city_id,
           summary=f"省厅标记：{target.label if target else '清除标记'}（{application.title}）",
           before=before, after={"province_mark": target.label if target else None,
                                 "province_note": application.province_note})
    db.session.flush()


def set_disclosure(batch: CityBatch, choice: str) -> None:
    try:
        target = Disclosure(choice)
    except ValueError:
        raise BatchError("信息公开选项只能是：主动公开、依申请公开或不予公开。") from None
    if batch.state_enum.locked:
        raise BatchError("已报送，信息公开选项不能再修改。")
    before = batch.disclosure
    batch.disclosure = target.value
    record("batch.disclosure", object_type="batch", object_id=batch.id, city_id=batch.city_id,
           summary=f"信息公开选项：{target.value}", before={"disclosure": before},
           after={"disclosure": target.value})
    db.session.flush()


# ---- dashboard ----------------------------------------------------------------------------------

@dataclass
class CityRow:
    city: City
    batch: CityBatch | None
    total: int = 0
    passed: int = 0
    not_recommended: int = 0
    with_problems: int = 0
    marks: dict[str, int] = field(default_factory=dict)

    @property
    def state(self) -> BatchState:
        if self.batch is None:
            return BatchState.FILLING if self.total else BatchState.NOT_STARTED
        state = self.batch.state_enum
        if state is BatchState.NOT_STARTED and self.total:
            return BatchState.FILLING
        return state


def dashboard_rows(round_: Round) -> list[CityRow]:
    """All 21 cities with their counts: three queries whatever the number of applications."""
    cities = list(db.session.scalars(select(City).order_by(City.sort_order)))
    batches = {b.city_id: b for b in db.session.scalars(select(CityBatch).where(CityBatch.round_id == round_.id))}
    rows = {c.id: CityRow(c, batches.get(c.id)) for c in cities}
    counts = db.session.execute(
        select(Application.city_id,
               func.count(),
               func.sum(case((Application.review_state == ReviewState.PASSED, 1), else_=0)),
               func.sum(case((Application.review_state == ReviewState.NOT_RECOMMENDED, 1), else_=0)),
               func.sum(case(((Application.error_count + Application.open_warning_count) > 0, 1), else_=0)),
               func.sum(case((Application.province_mark == ProvinceMark.RECOMMENDED, 1), else_=0)),
               func.sum(case((Application.province_mark == ProvinceMark.CULTIVATION, 1), else_=0)),
               func.sum(case((Application.province_mark == ProvinceMark.NOT_SELECTED, 1), else_=0)))
        .where(Application.round_id == round_.id).group_by(Application.city_id))
    for city_id, total, passed, not_rec, problems, rec, cult, nots in counts:
        row = rows[city_id]
        row.total, row.passed, row.not_recommended, row.with_problems = (int(total), int(passed or 0),
                                                                         int(not_rec or 0), int(problems or 0))
        row.marks = {"recommended": int(rec or 0), "cultivation": int(cult or 0), "not_selected": int(nots or 0)}
    return [rows[c.id] for c in cities]


SORT_KEYS = {
    "city": lambda r: r.city.sort_order,
    "state": lambda r: list(BatchState).index(r.state),
    "total": lambda r: r.total,
    "passed": lambda r: r.passed,
    "problems": lambda r: r.with_problems,
    "reported": lambda r: (r.batch is None or r.batch.reported_at is None,
                           r.batch.reported_at.timestamp() if r.batch and r.batch.reported_at else 0),
    "paper": lambda r: not (r.batch and r.batch.paper_complete),
}


def sort_rows(rows: list[CityRow], key: str, descending: bool) -> list[CityRow]:
    function = SORT_KEYS.get(key, SORT_KEYS["city"])
    return sorted(rows, key=function, reverse=descending)


# ---- round settings ------------------------------------------------------------------------------

def change_deadline(round_: Round, deadline: datetime) -> None:
    before = round_.deadline
    round_.deadline = deadline
    record("round.deadline_changed", object_type="round", object_id=round_.id,
           summary=f"截止时间改为 {deadline:%Y-%m-%d %H:%M:%S}",
           before={"deadline": before.isoformat()}, after={"deadline": deadline.isoformat()})
    db.session.flush()


def open_round(*, year: int, title: str, notice_number: str, deadline: datetime,
               contact_name: str, contact_phone: str, contact_email: str) -> Round:
    """A later year's round becomes the current one; cities and accounts carry over."""
    if db.session.scalar(select(Round).where(Round.year == year)) is not None:
        raise BatchError(f"{year}年的申报批次已存在。")
    for existing in db.session.scalars(select(Round).where(Round.is_current)):
        existing.is_current = False
    round_ = Round(year=year, title=title.strip(), notice_number=notice_number.strip(), deadline=deadline,
                   contact_name=contact_name.strip(), contact_phone=contact_phone.strip(),
                   contact_email=contact_email.strip(), is_current=True, is_demo=False,
                   ministry_notice_number="")
    db.session.add(round_)
    db.session.flush()
    record("round.opened", object_type="round", object_id=round_.id,
           summary=f"开启新批次：{round_.title}，截止 {deadline:%Y-%m-%d %H:%M}",
           after={"year": year, "title": round_.title, "deadline": deadline.isoformat()})
    return round_


def register_guards() -> None:
    """Once reported, the city's files are read-only too (the files domain asks us)."""
    from ..files.services import register_upload_guard

    register_upload_guard(_locked_batch_refusal)


def _locked_batch_refusal(application: Application) -> str | None:
    if batch_is_locked(application.round_id, application.city_id):
        return "本市（州）的申报已报送，材料为只读；如需修改，请联系省厅退回。"
    return None
