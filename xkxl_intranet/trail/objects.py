"""The 对象 of each audit event, named as people name it (「绵阳市 报送批次」, a platform and its
enterprise, an account's name, a file's name) and, where the reader may open it, the page that
shows it. One query per kind of object, whatever the number of events on the page.

A service: it takes the reading user and returns an endpoint and its arguments, never a URL
(the template builds it). What no longer exists (a deleted draft, a deleted file) is named from
the event's own snapshot and not linked.

The keys an event recorded are named by the notice of the round its object belongs to (an
application's, a file's, a sheet's, a batch's round; :func:`describe_events`): one set of names
per round on the page, the rounds read in one query.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..applications.models import Application
from ..audit.models import AuditEvent
from ..auth.models import Role, User
from ..auth.scoping import can_see_city, opens
from ..extensions import db
from ..files.categories import CATEGORIES
from ..files.models import StoredFile
from ..notice.stored import first_notice
from ..review.models import Assignment, ReviewRound
from ..rounds.models import City, CityBatch, Round
from .changes import KeyNames, key_names, round_key_names


@dataclass(frozen=True)
class ObjectRef:
    """What the 对象 column prints, and the page to open (``endpoint`` ``None``: no link)."""

    text: str
    endpoint: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _ids(events: Iterable[AuditEvent], kind: str) -> set[int]:
    return {int(e.object_id) for e in events if e.object_type == kind and e.object_id.isdigit()}


def _rows(model, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def application_text(platform: str | None, enterprise: str | None, fallback: str) -> str:
    if platform and enterprise:
        return f"{platform}（{enterprise}）"
    return platform or enterprise or fallback


def _snapshot(event: AuditEvent) -> dict[str, Any]:
    return {**(event.before or {}), **(event.after or {})}


class _Namer:
    """Names the objects of one page of events for one reader."""

    def __init__(self, user: User, events: list[AuditEvent]):
        self.user = user
        self.applications: dict[int, Application] = _rows(Application, _ids(events, "application"))
        self.batches: dict[int, CityBatch] = _rows(CityBatch, _ids(events, "batch"))
        self.users: dict[int, User] = _rows(User, _ids(events, "user"))
        self.files: dict[int, StoredFile] = _rows(StoredFile, _ids(events, "file"))
        self.rounds: dict[int, Round] = _rows(Round, _ids(events, "round"))
        self.cities: dict[int, City] = _rows(City, _ids(events, "city"))
        self.sheets: dict[int, Assignment] = _rows(Assignment, _ids(events, "assignment"))
        self.reviews: dict[int, ReviewRound] = _rows(ReviewRound, _ids(events, "review"))
        self.rounds.update(_rows(Round, {r.round_id for r in self.reviews.values()} - set(self.rounds)))
        # A file names the application it belongs to, even a deleted file's application.
        file_apps = {f.application_id for f in self.files.values() if f.application_id}
        file_apps |= {int(s["application_id"]) for e in events if e.object_type == "file"
                      for s in (_snapshot(e),) if str(s.get("application_id") or "").isdigit()}
        file_apps |= {a.application_id for a in self.sheets.values()}
        self.applications.update(_rows(Application, file_apps - set(self.applications)))

    def _application(self, application_id: int, event: AuditEvent) -> ObjectRef:
        application = self.applications.get(application_id)
        if application is None:
            snap = _snapshot(event)
            return ObjectRef(application_text(snap.get("platform_name"), snap.get("enterprise_name"),
                                              "已删除的申报") + "（已删除）")
        text = application_text(application.platform_name, application.enterprise_name, application.title)
        if not can_see_city(self.user, application.city_id):
            return ObjectRef(text)
        return ObjectRef(text, "applications.detail", {"application_id": application.id})

    def _batch(self, batch_id: int, event: AuditEvent) -> ObjectRef:
        batch = self.batches.get(batch_id)
        if batch is None:
            return ObjectRef("报送批次")
        text = f"{batch.city.name} 报送批次"
        if self.user.role == Role.CITY:
            return ObjectRef(text, "rounds.batch" if self.user.city_id == batch.city_id else None)
        return ObjectRef(text, "rounds.city_desk", {"city_id": batch.city_id})

    def _user(self, user_id: int, event: AuditEvent) -> ObjectRef:
        account = self.users.get(user_id)
        if account is None:
            return ObjectRef(f"账号“{event.username}”" if event.username else "账号")
        name = account.display_name or account.username
        text = f"{name}（{account.username}）" if name != account.username else name
        if self.user.role == Role.PROVINCE:
            return ObjectRef(text, "auth.user_edit", {"user_id": account.id})
        return ObjectRef(text)

    def _file(self, file_id: int, event: AuditEvent) -> ObjectRef:
        stored = self.files.get(file_id)
        snap = _snapshot(event)
        category = stored.category_info if stored else CATEGORIES.get(snap.get("category", ""))
        name = stored.original_name if stored else snap.get("name") or ""
        label = category.label if category else "文件"
        text = f"{label}“{name}”" if name else label
        application_id = stored.application_id if stored else snap.get("application_id")
        application = self.applications.get(int(application_id)) if application_id else None
        if application is not None:
            text += f"（{application.title}）"
        if stored is None:
            return ObjectRef(text + "（已删除）")
        if not can_see_city(self.user, stored.city_id):
            return ObjectRef(text)
        if application is not None:
            return ObjectRef(text, "files.application_page", {"application_id": application.id})
        params = {} if self.user.role == Role.CITY else {"city_id": stored.city_id}
        return ObjectRef(text, "files.city_files", params)

    def _round(self, round_id: int, event: AuditEvent) -> ObjectRef:
        round_ = self.rounds.get(round_id)
        text = f"{round_.title} 申报批次" if round_ else "申报批次"
        return ObjectRef(text, "rounds.index" if self.user.role != Role.CITY else None)

    def _city(self, city_id: int, event: AuditEvent) -> ObjectRef:
        city = self.cities.get(city_id)
        if city is None:
            return ObjectRef("市（州）")
        if event.action == "reports.imported":  # the city's applications, where the import put them
            if self.user.role == Role.CITY:
                return ObjectRef(f"{city.name} 申报（Excel导入）", "applications.index")
            return ObjectRef(f"{city.name} 申报（Excel导入）", "applications.index", {"city_id": city.id})
        visible = can_see_city(self.user, city.id)
        return ObjectRef(f"{city.name} 推荐信息汇总表", "reports.summary" if visible else None,
                         {"city_id": city.id} if visible else {})

    def _sheet(self, assignment_id: int, event: AuditEvent) -> ObjectRef:
        """An expert's 评分表: the expert and the application it scores."""
        sheet = self.sheets.get(assignment_id)
        if sheet is None:
            return ObjectRef("评分表（已删除）")
        expert = sheet.expert.display_name if sheet.expert else "评审专家"
        application = self.applications.get(sheet.application_id)
        target = (application_text(application.platform_name, application.enterprise_name, application.title)
                  if application else "申报")
        text = f"{expert}的评分表（{target}）"
        if self.user.role in (Role.PROVINCE, Role.VIEWER) or sheet.expert_id == self.user.id:
            return ObjectRef(text, "applications.detail", {"application_id": sheet.application_id})
        return ObjectRef(text)

    def _review(self, review_id: int, event: AuditEvent) -> ObjectRef:
        review = self.reviews.get(review_id)
        round_ = self.rounds.get(review.round_id) if review else None
        text = f"{round_.title} 专家评审" if round_ else "专家评审"
        return ObjectRef(text, "review.manage" if self.user.role in (Role.PROVINCE, Role.VIEWER) else None)

    def round_of(self, event: AuditEvent) -> int | None:
        """The id of the round the event's object belongs to, where it has one and it is known."""
        if not event.object_id.isdigit():
            return None
        object_id = int(event.object_id)
        if event.object_type == "round":
            return object_id
        rows: dict[str, dict[int, Any]] = {"application": self.applications, "batch": self.batches,
                                           "file": self.files, "review": self.reviews}
        found = rows.get(event.object_type, {}).get(object_id)
        if found is not None:
            return int(found.round_id)
        sheet = self.sheets.get(object_id) if event.object_type == "assignment" else None
        return int(sheet.review_round.round_id) if sheet is not None else None

    def name(self, event: AuditEvent) -> ObjectRef | None:
        namer = {"application": self._application, "batch": self._batch, "user": self._user,
                 "file": self._file, "round": self._round, "city": self._city,
                 "assignment": self._sheet, "review": self._review}.get(event.object_type)
        if namer is None:
            return None
        if not event.object_id.isdigit():
            if event.object_type == "user" and event.username:
                return ObjectRef(f"账号“{event.username}”（不存在）")
            return None
        ref = namer(int(event.object_id), event)
        if ref.endpoint is not None and not opens(self.user, ref.endpoint):
            return ObjectRef(ref.text)  # the 安全审计员 reads the trail, not the pages it names
        return ref


def describe_objects(user: User, events: list[AuditEvent]) -> dict[int, ObjectRef]:
    """Event id -> how its object is named on the trail, and where ``user`` may open it."""
    return describe_events(user, events, None)[0]


def describe_events(user: User, events: list[AuditEvent], current: Round | None,
                    ) -> tuple[dict[int, ObjectRef], dict[int, KeyNames]]:
    """Event id -> its object's name and link (:func:`describe_objects`), and event id -> the
    names of the keys it recorded: those of its object's round, else of ``current`` (an account,
    a city: they record no declared field), else of the first notice."""
    namer = _Namer(user, events)
    objects = {event.id: ref for event in events if (ref := namer.name(event)) is not None}
    round_ids = {event.id: namer.round_of(event) for event in events}
    rounds = dict(namer.rounds)
    rounds.update(_rows(Round, {i for i in round_ids.values() if i is not None} - set(rounds)))
    by_round: dict[int | None, KeyNames] = {}
    if current is not None:
        by_round[None] = round_key_names(current)
    else:
        notice = first_notice()
        by_round[None] = key_names(notice.form, notice.criteria)
    for round_id in set(round_ids.values()) - set(by_round):
        by_round[round_id] = round_key_names(rounds[round_id]) if round_id in rounds else by_round[None]
    return objects, {event_id: by_round[round_id] for event_id, round_id in round_ids.items()}
