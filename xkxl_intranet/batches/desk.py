"""The province's desk for a city's batch: accept (受理), return (退回) with a reason, extend
the deadline, register the paper copies, choose the disclosure. (The marks on its platforms are
set through ``review/marking.py``, from this desk as from the ranking.) Operations take the
acting user, raise :class:`Refused`, and only flush."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ..audit.services import record
from ..auth.models import User
from ..clock import now
from ..domain.deadlines import format_deadline, has_passed, last_instant
from ..domain.errors import Refused
from ..domain.notices import NoticeKind
from ..extensions import db
from ..notifications.operations import Link, city_accounts, notify
from ..review.marking import clear_marks_of_returned_batch
from ..rounds.models import BatchState, CityBatch, Disclosure, Round
from ..rounds.paper import paper_copies


def _transition(user: User, batch: CityBatch, target: BatchState, allowed: set[BatchState], action: str,
                summary: str, **after: Any) -> None:
    if batch.state_enum not in allowed:
        raise Refused(f"{batch.city.name}当前为“{batch.state_enum.label}”，不能{action}。")
    before = {"state": batch.state_enum.label}
    batch.state = target
    record(f"batch.{target.value}", user=user, object_type="batch", object_id=batch.id, city_id=batch.city_id,
           summary=summary, before=before, after={"state": target.label, **after})
    db.session.flush()


def accept(user: User, batch: CityBatch) -> None:
    batch.accepted_at = now()
    _transition(user, batch, BatchState.ACCEPTED, {BatchState.REPORTED}, "受理",
                f"受理{batch.city.name}的报送")
    notify(city_accounts(batch.city_id), NoticeKind.BATCH_ACCEPTED, f"省厅已受理{batch.city.name}的报送",
           f"{batch.round.title}：省厅已于 {batch.accepted_at:%Y-%m-%d %H:%M} 受理本市（州）的报送。",
           Link("rounds.batch"))


def return_batch(user: User, batch: CityBatch, reason: str) -> None:
    """Back to the city with the province's reason. The marks of its applications are cleared
    (each audited with the mark it cleared): what the city reports next is marked afresh."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused("退回时请填写退回原因，市（州）将看到这段说明。")
    if batch.state_enum in (BatchState.REPORTED, BatchState.ACCEPTED):
        clear_marks_of_returned_batch(user, batch)
    batch.return_reason = reason[:2000]
    batch.returned_at = now()
    _transition(user, batch, BatchState.RETURNED, {BatchState.REPORTED, BatchState.ACCEPTED}, "退回",
                f"退回{batch.city.name}的报送：{reason[:200]}", reason=reason[:2000])
    notify(city_accounts(batch.city_id), NoticeKind.BATCH_RETURNED, f"省厅已退回{batch.city.name}的报送，请修改后重新报送",
           f"退回原因：{reason[:2000]}", Link("core.index"))


def grant_extension(user: User, batch: CityBatch, deadline: datetime, reason: str, *,
                    confirm_past: bool = False) -> None:
    """Extend one city's deadline beyond the round's (to the second: a round deadline of 18:00
    admits the whole minute, so 18:00:30 would shorten it). A moment already past (possible only
    once the round's deadline has passed) closes that city's reporting at once, so it needs
    ``confirm_past``."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused("请填写延期原因。", field="reason")
    round_deadline = batch.round.deadline
    if last_instant(deadline) <= last_instant(round_deadline):
        raise Refused(f"延期截止时间应晚于本批次截止时间（{format_deadline(round_deadline)}）："
                      f"所填的 {format_deadline(deadline)} 不晚于它，延期只能把{batch.city.name}的截止时间推后。",
                      field="deadline")
    if has_passed(deadline, now()) and not confirm_past:
        raise Refused(f"延期截止时间 {format_deadline(deadline)} 已过：保存后{batch.city.name}将立即不能报送。"
                      "如确需如此，请勾选“确认立即截止”后再保存。", field="confirm_past")
    before = {"extension_deadline": batch.extension_deadline.isoformat() if batch.extension_deadline else None}
    batch.extension_deadline = deadline
    batch.extension_reason = reason[:1000]
    batch.extension_granted_at = now()
    record("batch.extension_granted", user=user, object_type="batch", object_id=batch.id, city_id=batch.city_id,
           summary=f"准予{batch.city.name}延期至 {format_deadline(deadline)}：{reason[:200]}",
           before=before, after={"extension_deadline": deadline.isoformat(), "reason": reason[:1000]})
    db.session.flush()
    changed = "变更延期" if before["extension_deadline"] else "准予延期"
    notify(city_accounts(batch.city_id), NoticeKind.BATCH_EXTENDED,
           f"省厅{changed}：{batch.city.name}报送截止时间为 {format_deadline(deadline)}",
           f"新的截止时间：{format_deadline(deadline)}（北京时间）。原因：{reason[:1000]}", Link("core.index"))


PAPER_FIELDS = ("paper_forms_received_on", "paper_disc_received_on", "paper_summary_received_on")


def paper_labels(round_: Round) -> dict[str, str]:
    """What the desk calls each paper copy of ``round_``: the 申报书's copies as its notice says."""
    return {"paper_forms_received_on": paper_copies(round_).forms_label,
            "paper_disc_received_on": "电子版光盘",
            "paper_summary_received_on": "汇总表纸质版"}


def record_paper(user: User, batch: CityBatch, received: dict[str, date | None], note: str) -> None:
    """The days the paper copies arrived (``None``: not yet), and a note. A day after today
    (the one clock's) cannot be a day something was received."""
    today = now().date()
    labels = paper_labels(batch.round)
    future = [key for key in PAPER_FIELDS if (day := received.get(key)) is not None and day > today]
    if future:
        raise Refused("、".join(f"「{labels[k]}收到日期」{received[k]:%Y-%m-%d}" for k in future)
                      + f"：收到日期不能晚于今天（{today:%Y-%m-%d}）。", field=future[0])
    before = {k: (getattr(batch, k).isoformat() if getattr(batch, k) else None) for k in PAPER_FIELDS}
    note_before = batch.paper_note or ""
    for key in PAPER_FIELDS:
        setattr(batch, key, received.get(key))
    batch.paper_note = (note or "").strip()[:1000]
    after = {k: (getattr(batch, k).isoformat() if getattr(batch, k) else None) for k in PAPER_FIELDS}
    changed = {k for k in PAPER_FIELDS if before[k] != after[k]}
    record("batch.paper_received", user=user, object_type="batch", object_id=batch.id, city_id=batch.city_id,
           summary=f"登记{batch.city.name}纸质材料："
                   + ("、".join(f"{labels[k]} {after[k] or '（清除）'}" for k in changed) or "备注"),
           before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    db.session.flush()
    if changed or batch.paper_note != note_before:
        # what arrived, what is still owed, and the province's note ("光盘未收到"): the city acts on it
        lines = [f"{labels[k]}：{after[k] or '已清除'}" for k in PAPER_FIELDS if k in changed]
        owed = [labels[k] for k in PAPER_FIELDS if not after[k]]
        if owed:
            lines.append("尚未收到：" + "、".join(owed))
        if batch.paper_note:
            lines.append(f"省厅备注：{batch.paper_note}")
        notify(city_accounts(batch.city_id), NoticeKind.PAPER_RECORDED, f"省厅已登记{batch.city.name}的纸质材料",
               "；".join(lines), Link("rounds.batch"))


def set_disclosure(user: User, batch: CityBatch, choice: str) -> None:
    try:
        target = Disclosure(choice)
    except ValueError:
        raise Refused("信息公开选项只能是：主动公开、依申请公开或不予公开。") from None
    if batch.state_enum.locked:
        raise Refused("已报送，信息公开选项不能再修改。")
    before = batch.disclosure
    batch.disclosure = target.value
    record("batch.disclosure", user=user, object_type="batch", object_id=batch.id, city_id=batch.city_id,
           summary=f"信息公开选项：{target.value}", before={"disclosure": before},
           after={"disclosure": target.value})
    db.session.flush()
