"""Round settings: the reference data (21 cities, the 2022 round), the deadline, a new
year's round from its notice, and the demo's moved deadline. Operations take the acting user and
flush."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, func, select

from ..applications.models import Application
from ..audit.services import record
from ..auth.models import User
from ..clock import now
from ..domain.deadlines import format_deadline, has_passed
from ..domain.errors import Refused
from ..domain.findings import echo
from ..domain.notices import NoticeKind
from ..extensions import db
from ..files.models import StoredFile
from ..notice.loader import load_notice
from ..notice.schema import Notice
from ..notice.shipped import FIRST_NOTICE
from ..notifications.operations import Link, city_accounts, notify
from ..review.models import ReviewRound
from ..rounds.models import BatchState, City, CityBatch, Round
from ..rounds.reference import CITIES, ROUND_2022
from ..rounds.state import REPORTED_STATES, cities_not_reported, deadline_of
from .round_notice import fill_missing_notices, keep_notice


def ensure_reference_data() -> dict[str, int]:
    """Create the 21 cities and the 2022 round (keeping notices/2022.toml) if missing, and give
    every round that keeps no notice the 2022 one (round_notice.fill_missing_notices). Safe to run
    again."""
    created = {"cities": 0, "rounds": 0}
    existing = {c.code: c for c in db.session.scalars(select(City))}
    for order, (code, name, pinyin, department) in enumerate(CITIES, start=1):
        if code in existing:
            continue
        db.session.add(City(code=code, name=name, pinyin=pinyin, sort_order=order,
                            department_name=department))
        created["cities"] += 1
    if db.session.scalar(select(Round).where(Round.year == ROUND_2022["year"])) is None:
        has_current = db.session.scalar(select(Round).where(Round.is_current)) is not None
        round_ = Round(**ROUND_2022, is_current=not has_current)
        keep_notice(round_, load_notice(FIRST_NOTICE))  # the notice ROUND_2022 is taken from
        db.session.add(round_)
        created["rounds"] += 1
    db.session.flush()
    created["notices"] = fill_missing_notices()
    return created


def mark_round_as_demo(round_: Round, *, days: int = 10) -> None:
    """Demo data: the notice's deadline has passed, so move it ``days`` ahead of now."""
    before = round_.deadline
    round_.deadline = (now() + timedelta(days=days)).replace(second=0, microsecond=0)
    round_.is_demo = True
    db.session.flush()
    record("round.demo_deadline", user=None, object_type="round", object_id=round_.id,
           summary=f"演示数据：截止时间改为 {round_.deadline:%Y-%m-%d %H:%M}",
           before={"deadline": before.isoformat()}, after={"deadline": round_.deadline.isoformat()})


def change_deadline(user: User, round_: Round, deadline: datetime, *, confirm_past: bool = False) -> None:
    """Move the round's deadline. A moment already past closes reporting for every city at once
    (except those with a later extension), so it needs ``confirm_past``."""
    if has_passed(deadline, now()) and not confirm_past:
        raise Refused(f"截止时间 {format_deadline(deadline)} 已过：保存后全部市（州）将立即不能报送"
                      "（已获延期的市州除外）。如确需如此，请勾选“确认立即截止”后再保存。")
    before = round_.deadline
    round_.deadline = deadline
    record("round.deadline_changed", user=user, object_type="round", object_id=round_.id,
           summary=f"截止时间改为 {format_deadline(deadline)}",
           before={"deadline": before.isoformat()}, after={"deadline": deadline.isoformat()})
    db.session.flush()
    if deadline != before:
        _tell_cities_of_the_deadline(round_, before, deadline)


def _tell_cities_of_the_deadline(round_: Round, before: datetime, deadline: datetime) -> None:
    """Every city still to report whose deadline this is (not one with a later extension of its
    own) hears of the move at once, not from the next reminder."""
    batches = {b.city_id: b for b in db.session.scalars(select(CityBatch).where(CityBatch.round_id == round_.id))}
    title = f"报送截止时间调整为 {format_deadline(deadline)}"
    body = (f"省厅已将{round_.title}的报送截止时间由 {format_deadline(before)} 调整为 "
            f"{format_deadline(deadline)}（北京时间）。")
    for city in db.session.scalars(select(City).order_by(City.sort_order, City.code)):
        batch = batches.get(city.id)
        if batch is not None and batch.state in REPORTED_STATES:
            continue
        if deadline_of(round_, batch) != deadline:
            continue  # an extension of its own still applies
        notify(city_accounts(city.id), NoticeKind.DEADLINE_CHANGED, title, body, Link("rounds.batch"))


def still_running(round_: Round) -> list[str]:
    """Why ``round_`` is still under way (empty when it is over): its reporting window (with
    the latest extension) has not closed, or cities have reported and wait for 受理."""
    reasons = []
    latest = max([round_.deadline, *db.session.scalars(
        select(CityBatch.extension_deadline).where(CityBatch.round_id == round_.id,
                                                   CityBatch.extension_deadline.is_not(None)))])
    if not has_passed(latest, now()):
        reasons.append(f"报送截止时间 {format_deadline(latest)} 未到")
    waiting = db.session.scalar(select(func.count()).select_from(CityBatch).where(
        CityBatch.round_id == round_.id, CityBatch.state == BatchState.REPORTED.value))
    if waiting:
        reasons.append(f"{waiting} 个市（州）已报送、尚待受理")
    return reasons


def current_round_running() -> list[str]:
    """:func:`still_running` of the current round (the 申报批次 page warns before a new one)."""
    current = db.session.scalar(select(Round).where(Round.is_current))
    return still_running(current) if current is not None else []


# Round's text columns and their lengths: a notice's value or a typed one that would not fit is
# refused by name rather than cut short (or refused by PostgreSQL with a 500).
_ROUND_TEXTS = {"title": "名称", "notice_number": "通知文号", "ministry_notice_number": "依据的工业和信息化部通知文号",
                "contact_name": "联系人", "contact_phone": "联系电话", "contact_email": "电子邮箱"}


def open_round(user: User | None, notice: Notice, *, notice_file: str, deadline: datetime | None = None,
               title: str = "", notice_number: str = "", ministry_notice_number: str = "",
               contact_name: str = "", contact_phone: str = "", contact_email: str = "",
               confirm_replace: bool = False) -> Round:
    """A later year's round, opened from its notice, becomes the current one; cities and
    accounts carry over. The round keeps the notice (its canonical form and digest:
    round_notice.keep_notice), so editing ``notice_file`` later changes nothing of it. Its year is
    the notice's; its deadline, title, numbers and contacts are the notice's where none is given
    (a blank box on the form). Every page then shows the new round, so replacing a round still under
    way needs ``confirm_replace`` (and :func:`make_current` can put the earlier one back).
    ``user`` None: ``flask notice open`` without ``--user``, recorded as the system."""
    year = notice.year
    typed = {"title": title, "notice_number": notice_number, "ministry_notice_number": ministry_notice_number,
             "contact_name": contact_name, "contact_phone": contact_phone, "contact_email": contact_email}
    texts = {name: typed[name].strip() or str(getattr(notice, name)).strip() for name in _ROUND_TEXTS}
    for name, label in _ROUND_TEXTS.items():
        column = Round.__table__.c[name].type
        length = column.length if isinstance(column, String) else None
        if length is not None and len(texts[name]) > length:
            raise Refused(f"「{label}」超过 {length} 个字：“{echo(texts[name])}”")
    deadline = deadline or notice.deadline
    if db.session.scalar(select(Round).where(Round.year == year)) is not None:
        raise Refused(f"{year}年的申报批次已存在（通知文件 {notice_file} 是{year}年的通知）。")
    if has_passed(deadline, now()):  # as current round it would close reporting for every city at once
        raise Refused(f"「报送截止时间」{format_deadline(deadline)} 已过：新批次的报送截止时间应晚于现在，请核对。")
    current = db.session.scalar(select(Round).where(Round.is_current))
    if current is not None and not confirm_replace and (reasons := still_running(current)):
        raise Refused(f"当前批次“{current.title}”尚未结束：{'，'.join(reasons)}。开启新批次后，各页面只显示新批次，"
                      "各市（州）不能再报送当前批次。如确需开启，请勾选“确认开启新批次”后再提交。")
    if current is not None:
        current.is_current = False
    round_ = Round(year=year, deadline=deadline, is_current=True, is_demo=False, **texts)
    keep_notice(round_, notice)
    db.session.add(round_)
    db.session.flush()
    record("round.opened", user=user, object_type="round", object_id=round_.id,
           summary=f"开启新批次：{round_.title}，截止 {deadline:%Y-%m-%d %H:%M}，"
                   f"依据通知 {notice_file}（摘要 {notice.digest}）",
           before={"current": current.title} if current is not None else None,
           after={"year": year, "title": round_.title, "deadline": deadline.isoformat(),
                  "notice_file": notice_file, "notice_digest": notice.digest})
    return round_


# What a round may hold, as a refusal names it (a city's batch exists from its first entry on).
_HELD = (("申报", Application), ("市（州）批次记录", CityBatch), ("上传文件", StoredFile), ("专家评审", ReviewRound))


def _held(round_id: int) -> list[str]:
    holds = [(label, db.session.scalar(select(func.count()).select_from(model).where(model.round_id == round_id)))
             for label, model in _HELD]
    return [f"{n} 项{label}" for label, n in holds if n]


def deletable_round_ids() -> set[int]:
    """The rounds 申报批次 offers to delete: not the current one, and holding nothing."""
    held = set()
    for _label, model in _HELD:
        held |= set(db.session.scalars(select(model.round_id).distinct()))
    return set(db.session.scalars(select(Round.id).where(Round.is_current.is_(False)))) - held


def delete_round(user: User, round_: Round) -> None:
    """Take back a round opened by mistake: only one that holds nothing (no application, batch,
    file or review) and is not the current round."""
    if round_.is_current:
        raise Refused(f"“{round_.title}”是当前批次，不能删除；请先把另一个批次设为当前批次。")
    if held := _held(round_.id):
        raise Refused(f"“{round_.title}”已有 {'、'.join(held)}，不能删除。")
    record("round.deleted", user=user, object_type="round", object_id=round_.id,
           summary=f"删除批次：{round_.title}",
           before={"year": round_.year, "title": round_.title, "deadline": round_.deadline.isoformat()})
    db.session.delete(round_)
    db.session.flush()


def make_current(user: User, round_: Round) -> None:
    """Put ``round_`` back as the current round (after a new round was opened too early, or to
    look back at an earlier year's work): every page shows it again."""
    if round_.is_current:
        raise Refused(f"“{round_.title}”已是当前批次。")
    before = db.session.scalar(select(Round).where(Round.is_current))
    if before is not None:
        before.is_current = False
        db.session.flush()  # one current round at a time, also for a unique index
    round_.is_current = True
    record("round.made_current", user=user, object_type="round", object_id=round_.id,
           summary=f"设为当前批次：{round_.title}",
           before={"current": before.title if before is not None else None}, after={"current": round_.title})
    db.session.flush()


def reasons_to_wait(round_: Round) -> list[str]:
    """Why publishing ``round_``'s 推荐结果 now would be early: cities that have not (or no
    longer) reported, a reporting deadline not yet passed. Empty when nothing is left to wait for."""
    reasons = []
    waiting = cities_not_reported(round_.id).get(round_.id, 0)
    if waiting:
        reasons.append(f"尚有 {waiting} 个市（州）未报送")
    if not has_passed(round_.deadline, now()):
        reasons.append(f"报送截止时间（{format_deadline(round_.deadline)}）未到")
    return reasons


def publish_results(user: User, round_: Round, publish: bool, *, confirm_early: bool = False) -> None:
    """The province's 推荐结果 become visible to the cities (or are withdrawn again). The
    province decides when; publishing while cities have not reported or before the deadline
    needs ``confirm_early``, and the trail says what was confirmed."""
    if publish == round_.results_published:
        raise Refused("推荐结果已公布。" if publish else "推荐结果尚未公布。")
    early = reasons_to_wait(round_) if publish else []
    if early and not confirm_early:
        raise Refused("现在公布推荐结果为时尚早：" + "；".join(early) + "。公布后各市（州）即可看到省厅的推荐标记，"
                      "之后报送的市（州）也会看到。如确需现在公布，请勾选“确认提前公布”后再公布。")
    before = {"results_published_at": round_.results_published_at.isoformat() if round_.results_published_at
              else None}
    round_.results_published_at = now() if publish else None
    round_.results_published_by_id = user.id if publish else None
    summary = ("公布推荐结果：各市（州）可看到省厅的推荐标记" if publish
               else "撤回推荐结果公布：各市（州）不再看到省厅的推荐标记")
    if early:
        summary += "（经确认提前公布：" + "；".join(early) + "）"
    record("round.results_published" if publish else "round.results_withdrawn", user=user,
           object_type="round", object_id=round_.id, summary=summary,
           before=before, after={"results_published_at": round_.results_published_at.isoformat()
                                 if round_.results_published_at else None})
    db.session.flush()
    if publish:
        _notify_results(round_)


def _notify_results(round_: Round) -> None:
    """The cities that now see the marks (batch 已报送 or 已受理: applications.rules) are told;
    a city that reports later sees them on its pages."""
    reported = db.session.scalars(select(CityBatch.city_id).where(
        CityBatch.round_id == round_.id, CityBatch.state.in_(REPORTED_STATES)).order_by(CityBatch.city_id))
    recipients = [user for city_id in reported for user in city_accounts(city_id)]
    notify(recipients, NoticeKind.RESULTS_PUBLISHED, f"{round_.title}推荐结果已公布",
           "省厅已公布推荐结果：本市（州）各申报的推荐标记可在申报列表中查看。", Link("applications.index"))


