"""An announcement (通知公告), the cities it is addressed to, its attachments and each city's
read receipt.

Attachments keep their bytes in the one file storage (``files/storage.py``) under a random
storage name, like every upload; their rows are here rather than in ``stored_file``, whose rows
belong to a round and a city. ``files/owners.py`` is told about this table so that backups and
``verify-files`` count its files as kept."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions import Model
from ..filenames import ascii_name, extension_of
from ..files.owners import declare_file_table
from ..sqltypes import AwareDateTime

TITLE_MAX = 120
BODY_MAX = 20000


class Announcement(Model):
    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text, default="")  # plain text, shown escaped with its line breaks
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)
    # Set when it is published: only then do the cities see it.
    published_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True, index=True)
    # Every city, now and later, or only the cities of ``targets``.
    all_cities: Mapped[bool] = mapped_column(Boolean, default=True)

    created_by = relationship("User", lazy="joined")
    targets: Mapped[list[AnnouncementCity]] = relationship(
        back_populates="announcement", cascade="all, delete-orphan", lazy="selectin")
    attachments: Mapped[list[AnnouncementAttachment]] = relationship(
        back_populates="announcement", cascade="all, delete-orphan", lazy="selectin",
        order_by="AnnouncementAttachment.id")

    @property
    def city_ids(self) -> set[int]:
        return {t.city_id for t in self.targets}

    @property
    def author_name(self) -> str:
        user = self.created_by
        return (user.display_name or user.username) if user is not None else ""


class AnnouncementCity(Model):
    """One city a chosen-cities announcement is addressed to."""

    __tablename__ = "announcement_city"
    __table_args__ = (UniqueConstraint("announcement_id", "city_id", name="uq_announcement_city"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="CASCADE"))
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)

    announcement: Mapped[Announcement] = relationship(back_populates="targets")


class AnnouncementAttachment(Model):
    """One attached file (the notice's PDF, a template .docx/.xlsx)."""

    __tablename__ = "announcement_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="CASCADE"),
                                                 index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    storage_name: Mapped[str] = mapped_column(String(32), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    mime: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)

    announcement: Mapped[Announcement] = relationship(back_populates="attachments")

    @property
    def plain_download_name(self) -> str:
        """The ASCII ``filename=`` of its download (issue 25, 6f): ``announcement-7-attachment-3.pdf``."""
        return ascii_name("announcement", self.announcement_id, "attachment", self.id,
                          ext=extension_of(self.original_name) or self.kind)


class AnnouncementReceipt(Model):
    """A city has read an announcement: its first reader and when. One row per city, so the
    home page stops showing it to everyone of that city."""

    __tablename__ = "announcement_receipt"
    __table_args__ = (UniqueConstraint("announcement_id", "city_id", name="uq_announcement_receipt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="CASCADE"))
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    read_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now)

    read_by = relationship("User", lazy="joined")

    @property
    def reader_name(self) -> str:
        user = self.read_by
        return (user.display_name or user.username) if user is not None else ""


declare_file_table(AnnouncementAttachment.__tablename__, "通知附件")
