from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions import Model
from ..filenames import ascii_name, extension_of
from ..sqltypes import AwareDateTime
from .categories import Category, round_categories


class OwnedByApplication(Protocol):
    """What files need of the application they belong to (``applications.models.Application``,
    a package above this one): which it is, whose, and what to call it."""

    @property
    def id(self) -> int: ...

    @property
    def round_id(self) -> int: ...

    @property
    def city_id(self) -> int: ...

    @property
    def title(self) -> str: ...


class StoredFile(Model):
    """One uploaded file: an application's 申报书 version or evidence, or a city's 汇总表 scan.

    The bytes live under ``UPLOAD_FOLDER/<storage_name[:2]>/<storage_name[2:]>``; the
    storage name is random, the user's file name is only shown and sent back.
    """

    __tablename__ = "stored_file"
    __table_args__ = (
        Index("ix_stored_file_application_category", "application_id", "category"),
        Index("ix_stored_file_round_city_category", "round_id", "city_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), nullable=True)
    category: Mapped[str] = mapped_column(String(20))
    original_name: Mapped[str] = mapped_column(String(255))
    storage_name: Mapped[str] = mapped_column(String(32), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    mime: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    # Set on the earlier 申报书 (or 汇总表 scan) when a new version replaces it.
    superseded_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    # A 申报书 as read when it was uploaded (files/form_reading.py): status, the fields found,
    # the document's own rules. Pages show it without reading the document again.
    reading: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Where its reading stands (files/reading_state.py): pending, running, done or failed. The
    # reading is a job (xkxl_intranet/jobs/): this row, not the queue, is what says a 申报书 is
    # still to be read, so a queue lost in a crash is refilled from here.
    reading_state: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    reading_requested_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    # The worker reading it ("host:pid:token") and since when: one file is read by one worker.
    reading_claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    reading_claimed_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    reading_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A 附件3 scan: the fingerprint of 附件3 as printed when it was uploaded (reports/sheet.py),
    # so that a later change of the sheet shows the scan is stale.
    summary_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)

    uploaded_by = relationship("User", lazy="joined")
    city = relationship("City", lazy="joined")
    application = relationship("Application", lazy="select")
    round = relationship("Round", lazy="select")

    @property
    def category_info(self) -> Category:
        """The kind of file as its round's notice names it (rounds keep their own, issue 21)."""
        known = round_categories(self.round.declaration.files)
        return known.get(self.category) or Category(self.category, self.category, frozenset(), versioned=False)

    @property
    def plain_download_name(self) -> str:
        """The ASCII ``filename=`` of its download, for a client that ignores the Chinese name
        (issue 25, 6f): what it is, whose, which: ``form-chengdu-2022-application-12-345.pdf``."""
        return ascii_name(self.category, self.city.pinyin, self.round.year,
                          f"application-{self.application_id}" if self.application_id else None, self.id,
                          ext=extension_of(self.original_name) or self.kind)

    @property
    def uploader_name(self) -> str:
        user = self.uploaded_by
        return (user.display_name or user.username) if user is not None else ""

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.category} {self.original_name}>"
