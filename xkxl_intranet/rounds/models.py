from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.declaration import Form
from ..extensions import Model
from ..notice.schema import Notice
from ..notice.stored import kept_notice_of
from ..sqltypes import AwareDateTime


class City(Model):
    """One of the 21 city/prefecture bureaus (市（州）经济和信息化主管部门)."""

    __tablename__ = "city"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)  # 行政区划代码, e.g. 510100
    name: Mapped[str] = mapped_column(String(40), unique=True)
    pinyin: Mapped[str] = mapped_column(String(40), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # Shown on the city's 附件3: the bureau's name and who answers for it.
    department_name: Mapped[str] = mapped_column(String(80), default="")
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # Not printed (附件3 has no such column): where the city's notices are also mailed (issue 24).
    contact_email: Mapped[str] = mapped_column(String(120), default="", server_default="")

    @property
    def prefix(self) -> str:
        """The first four digits of the division code, as in a credit code."""
        return self.code[:4]

    def __repr__(self) -> str:
        return f"<City {self.code} {self.name}>"


class Round(Model):
    """A recommendation round (申报批次), e.g. the 2022 one from 川经信办函〔2022〕71号."""

    __tablename__ = "round"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(120))
    notice_number: Mapped[str] = mapped_column(String(60), default="")
    ministry_notice_number: Mapped[str] = mapped_column(String(60), default="")
    deadline: Mapped[datetime] = mapped_column(AwareDateTime())
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(120), default="")
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    # Demo rounds have their deadline moved into the future; every page says so.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # The province's 推荐结果 marks stay internal until it publishes the round's results.
    results_published_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    results_published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    # The notice the round was opened with (notice.stored): its canonical form and its SHA-256.
    # Kept, not read from the file: editing or deleting notices/<year>.toml later changes nothing
    # of an opened round. Empty only until init-db fills a round opened before rounds kept theirs.
    # Deferred: read only when this process meets its digest for the first time (declaration).
    notice: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)
    notice_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def declaration(self) -> Notice:
        """The notice this round keeps: its 申报书 (``form``), 附件1, 附件3, paper copies, quota.
        Everything an application of this round is checked, shown and printed by comes from it."""
        return kept_notice_of(self.notice_digest, lambda: self.notice)

    @property
    def form(self) -> Form:
        return self.declaration.form

    @property
    def results_published(self) -> bool:
        return self.results_published_at is not None

    def __repr__(self) -> str:
        return f"<Round {self.year}>"


class BatchState(StrEnum):
    """A city's batch in a round (domain.md, States)."""

    NOT_STARTED = "not_started"
    FILLING = "filling"
    REPORTED = "reported"
    RETURNED = "returned"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return {"not_started": "未开始", "filling": "填报中", "reported": "已报送",
                "returned": "退回修改", "accepted": "已受理"}[self.value]

    @property
    def locked(self) -> bool:
        """Reported or accepted: the city's applications and files are read-only."""
        return self in (BatchState.REPORTED, BatchState.ACCEPTED)


class Disclosure(StrEnum):
    """信息公开选项 printed under the city's 附件3."""

    ACTIVE = "主动公开"
    ON_REQUEST = "依申请公开"
    NONE = "不予公开"


class _BatchColumns(Protocol):
    """The columns :class:`BatchFacts` reads, which each class that has it declares."""

    @property
    def state(self) -> str: ...
    @property
    def paper_forms_received_on(self) -> date | None: ...
    @property
    def paper_disc_received_on(self) -> date | None: ...
    @property
    def paper_summary_received_on(self) -> date | None: ...


class BatchFacts:
    """What a batch's columns say, for the stored :class:`CityBatch` and for the dashboard's
    plain copy of it (``batches.dashboard.BatchInfo``) alike."""

    __slots__ = ()

    @property
    def state_enum(self: _BatchColumns) -> BatchState:
        return BatchState(self.state)

    @property
    def paper_complete(self: _BatchColumns) -> bool:
        return bool(self.paper_forms_received_on and self.paper_disc_received_on
                    and self.paper_summary_received_on)


class CityBatch(BatchFacts, Model):
    """One city's batch for one round: its state, deadline extension, receipts and paper copies."""

    __tablename__ = "city_batch"
    __table_args__ = (UniqueConstraint("round_id", "city_id", name="uq_city_batch_round_city"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=BatchState.NOT_STARTED)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    reported_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    report_count: Mapped[int] = mapped_column(Integer, default=0)

    returned_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    accepted_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)

    extension_deadline: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    extension_granted_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)

    # Paper copies the notice asks for, with the day each arrived at the province.
    paper_forms_received_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # 申报书纸质版一式三份
    paper_disc_received_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # 电子版光盘
    paper_summary_received_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # 汇总表纸质版
    paper_note: Mapped[str] = mapped_column(Text, default="")

    disclosure: Mapped[str] = mapped_column(String(20), default=Disclosure.ACTIVE)

    round = relationship("Round", lazy="joined")
    city = relationship("City", lazy="joined")

    __mapper_args__ = {"version_id_col": version}



class Receipt(Model):
    """回执: proof of what a city reported and when, with every file's SHA-256."""

    __tablename__ = "receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("city_batch.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline: Mapped[datetime] = mapped_column(AwareDateTime())  # the deadline that applied
    # The applications and files as reported; the digest makes later tampering visible.
    content: Mapped[dict] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    # The clerk's 「纸质版另行报送」: reported without a current stamped 附件3 scan (none, or one
    # made for a sheet that prints differently now), the stamped paper copy to follow. None on a
    # receipt made before the choice was kept.
    paper_summary_follows: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    city = relationship("City", lazy="joined")
    round = relationship("Round", lazy="joined")
    created_by = relationship("User", lazy="joined")

    @property
    def records_summary_scan(self) -> bool:
        """The receipt says which 附件3 scan was reported (receipts made before did not)."""
        return "summary_scan" in (self.content or {})

    @property
    def summary_scan(self) -> dict | None:
        """The stamped 附件3 scan reported with the batch: name, size, sha256 (None: none)."""
        return (self.content or {}).get("summary_scan")
