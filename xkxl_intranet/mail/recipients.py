"""Whom a notice can be mailed to: the e-mail addresses people keep on their accounts (我的账号,
or the administrator's account form). A caller picks the accounts and passes the addresses to
``outbox.queue_mail``; accounts without an address, and disabled ones, are left out.

The city's 附件3 (推荐信息汇总表) prints a 联系人 and a 联系方式 (a telephone number: ``City.contact_name``,
``City.contact_phone``) and no e-mail address, so a city is reached through its clerks' accounts
(:func:`city_addresses`). The round's ``contact_email`` is the province's own contact (the
notice's 魏鹏程), printed for the cities, not an address to send the cities' notices to.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ..auth.models import Role, User
from ..extensions import db


def addresses_of(users: Iterable[User]) -> list[str]:
    """The addresses of ``users`` that are enabled and have one, each once, in the order given."""
    found: list[str] = []
    for user in users:
        if user.is_enabled and user.email and user.email not in found:
            found.append(user.email)
    return found


def city_addresses(city_id: int) -> list[str]:
    """The addresses of the enabled clerks (``city`` accounts) of city ``city_id``."""
    return addresses_of(db.session.scalars(
        select(User).where(User.role == Role.CITY.value, User.city_id == city_id).order_by(User.id)))


def role_addresses(role: Role) -> list[str]:
    """The addresses of every enabled account of ``role`` (e.g. the province's staff)."""
    return addresses_of(db.session.scalars(select(User).where(User.role == role.value).order_by(User.id)))
