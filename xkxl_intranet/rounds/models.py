from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..sqltypes import AwareDateTime


class City(db.Model):
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

    @property
    def prefix(self) -> str:
        """The first four digits of the division code, as in a credit code."""
        return self.code[:4]

    def __repr__(self) -> str:
        return f"<City {self.code} {self.name}>"


class Round(db.Model):
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

    def __repr__(self) -> str:
        return f"<Round {self.year}>"
