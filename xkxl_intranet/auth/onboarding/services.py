"""开通市州账号: the 系统管理员 creates several city accounts in one step, each with a one-time
password for its credential slip (凭条, ``slips.py`` and ``slip_job.py``).

One transaction: every account is created or none (a refusal rolls the whole unit of work
back). The passwords are returned to the caller, which hands them to the slip's job and nowhere
else: no row, audit event or log line holds them. No Flask here.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...audit.services import record
from ...domain.errors import Refused
from ...extensions import db
from ...rounds.models import City
from ..models import Role, User
from ..services import create_user, find_user

MAX_PER_CITY = 10
# The user names: the city's pinyin and a two-digit number, the first free ones
# (zigong01, zigong02 …): a clerk reads their city in it, and it never collides with the
# demo's plain pinyin names (chengdu).
NAME_DIGITS = 2
PENDING_NAME = "（待填写姓名）"


@dataclass(frozen=True)
class IssuedAccount:
    """An account just created, with its one-time password: for the slip only."""

    user_id: int
    username: str
    city_name: str
    password: str


def cities_without_accounts() -> list[City]:
    """The cities with no city account at all (「全部没有账号的市州」)."""
    have = select(User.city_id).where(User.role == Role.CITY, User.city_id.is_not(None))
    return list(db.session.scalars(select(City).where(City.id.not_in(have)).order_by(City.sort_order)))


def parse_per_city(text: str | None) -> int:
    """「每个市州账号数」 as typed: a whole number from 1 to :data:`MAX_PER_CITY`."""
    value = (text or "").strip() or "1"
    if not value.isdigit() or not 1 <= int(value) <= MAX_PER_CITY:
        raise Refused(f"「每个市州账号数」须为1至{MAX_PER_CITY}之间的整数，收到“{value[:20]}”。")
    return int(value)


def _chosen_cities(city_ids: list[int], all_without: bool) -> list[City]:
    if all_without:
        cities = cities_without_accounts()
        if not cities:
            raise Refused("「全部没有账号的市州」：每个市（州）都已经有账号，没有可开通的市（州）。")
        return cities
    if not city_ids:
        raise Refused("「市（州）」：请至少勾选一个市（州），或选择「全部没有账号的市州」。")
    cities = list(db.session.scalars(select(City).where(City.id.in_(set(city_ids))).order_by(City.sort_order)))
    if len(cities) != len(set(city_ids)):
        raise Refused("「市（州）」：所选的市（州）不存在，请刷新页面后重新选择。")
    return cities


def _free_names(city: City, count: int, taken: set[str]) -> list[str]:
    base = (city.pinyin or city.code).lower()
    names: list[str] = []
    number = 1
    while len(names) < count:
        name = f"{base}{number:0{NAME_DIGITS}d}"
        if name not in taken and find_user(name) is None:
            names.append(name)
            taken.add(name)
        number += 1
    return names


def create_city_accounts(actor: User, *, city_ids: list[int], per_city: int,
                         all_without: bool = False) -> list[IssuedAccount]:
    """Create ``per_city`` accounts in each chosen city (``city_ids``, or every city without an
    account when ``all_without``); each has a random password that meets the policy, to be
    changed at its first log-in and good for that one log-in only (``password_one_time``).
    Real names and contacts are left for later (账号管理 edits them)."""
    if not 1 <= per_city <= MAX_PER_CITY:
        raise Refused(f"「每个市州账号数」须为1至{MAX_PER_CITY}之间的整数。")
    cities = _chosen_cities(city_ids, all_without)
    issued: list[IssuedAccount] = []
    taken: set[str] = set()
    for city in cities:
        for username in _free_names(city, per_city, taken):
            user, password = create_user(actor, username=username, display_name=f"{city.name}{PENDING_NAME}",
                                         role=Role.CITY, city=city)
            issued.append(IssuedAccount(user.id, user.username, city.name, password))
    names = [account.username for account in issued]
    record("account.bulk_created", user=actor, object_type="user",
           summary=f"批量开通{len(cities)}个市（州）的{len(issued)}个账号：" + "、".join(names),
           after={"accounts": [{"username": a.username, "city": a.city_name} for a in issued]})
    return issued
