"""The shared gates: roles and cities.

Two halves:

- **Rules** that take the acting user explicitly (services use these): every query for
  city-owned records goes through :func:`scope_to_city`, so a clerk only ever sees their own
  city's rows; another city's record is simply not found (:class:`NotFound`, a 404), never a
  403 that would confirm it exists.
- **Route helpers** that read Flask-Login's ``current_user``: role gates
  (:func:`roles_required`, answering 404 for the same reason) and the ``*_or_404`` look-ups
  every blueprint shares. Services never import these.

What a rule needs of a package above (an assignment, a mark) lives beside that package, in its
``rules.py``: who may read an application or its files and who sees the province's marks
(``applications/rules.py``), whose score sheets (``review/rules.py``).

A review expert (评审专家) belongs to no city: every city-scoped query finds nothing for them,
and an application (with its files) is theirs to see only while it is assigned to them
(``applications.rules.scope_applications``).

三权分立 (separation of duties): the 系统管理员 (``admin``) manages accounts and reads the
system's settings and health; the 安全审计员 (``auditor``) reads and exports the whole audit
trail; the province does the business. Neither of the first two sees any city's data
(:func:`scope_to_city` finds nothing for them, as for experts). An account has one role, so one
duty, unless the deployment sets ``COMBINED_DUTIES`` (``XKXL_COMBINED_DUTIES=1``): then a province
account also manages accounts and reads the whole trail (:func:`manages_accounts`,
:func:`reads_whole_trail`), for a small deployment that accepts the risk.

Experts, administrators and auditors are *confined* roles: every page not in their row of
:data:`CONFINED_ENDPOINTS` is a 404 for them (:func:`keep_confined_roles_to_their_pages`, a
``before_request`` hook), so a page added later stays closed to them until it is listed there.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeGuard, TypeVar

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import Select, false

from ..domain.errors import NotFound
from ..extensions import db
from ..rounds.models import City, Round
from ..rounds.state import current_round
from .models import Role, User

# ---- rules (explicit user) ---------------------------------------------------------------------


STAFF_ROLES = frozenset({Role.PROVINCE, Role.VIEWER})

# A statement comes back restricted, with its columns as they were.
SelectT = TypeVar("SelectT", bound=Select)

def signed_in(user: User | None) -> TypeGuard[User]:
    return user is not None and user.is_authenticated


def scope_to_city(stmt: SelectT, city_column, user: User | None) -> SelectT:
    """Restrict ``stmt`` to rows ``user`` may see: staff everything, a clerk their city's, an
    expert nothing (an expert's applications come through
    ``applications.rules.scope_applications``)."""
    if not signed_in(user) or user.role not in STAFF_ROLES | {Role.CITY}:
        return stmt.where(false())
    if user.role == Role.CITY:
        if user.city_id is None:
            return stmt.where(false())
        return stmt.where(city_column == user.city_id)
    return stmt


def scope_to_owner(stmt: SelectT, owner_column, user: User | None) -> SelectT:
    """Restrict ``stmt`` to rows that belong to ``user`` themselves (their notices): another
    person's, whatever the role, is not found (a 404)."""
    if not signed_in(user):
        return stmt.where(false())
    return stmt.where(owner_column == user.id)


def can_see_city(user: User | None, city_id: int | None) -> bool:
    if not signed_in(user):
        return False
    return user.role in STAFF_ROLES or (
        user.role == Role.CITY and user.city_id is not None and user.city_id == city_id)


def reads_audit_trail(user: User | None) -> bool:
    """Experts see no audit trail (not even an application's 修改记录)."""
    return signed_in(user) and user.role in STAFF_ROLES | {Role.CITY}


def manages_accounts(user: User | None, *, combined_duties: bool = False) -> bool:
    """The 系统管理员's duty: accounts (and the system's settings and health). A province
    account shares it only where the deployment combines the duties."""
    return signed_in(user) and (user.role == Role.ADMIN
                                or (combined_duties and user.role == Role.PROVINCE))


def reads_whole_trail(user: User | None, *, combined_duties: bool = False) -> bool:
    """The 安全审计员's duty: the whole audit trail, security events included (everyone else who
    reads it reads the business history of what they see: ``trail.queries``). A province account
    shares it only where the deployment combines the duties."""
    return signed_in(user) and (user.role == Role.AUDITOR
                                or (combined_duties and user.role == Role.PROVINCE))


def sees_system_health(user: User | None, *, combined_duties: bool = False) -> bool:
    """/healthz's details (database, revision, uploads' free space, queue) are the system
    administrator's, as the rest of the system's state is (:func:`manages_accounts`)."""
    return manages_accounts(user, combined_duties=combined_duties)


def reads_mail_outbox(user: User | None, *, combined_duties: bool = False) -> bool:
    """邮件发送 (the outbox: failed and waiting mails, 「重新发送」): the 系统管理员's, whose duty is
    the system's running (the SMTP server is a setting), and the province's, whose notices they
    mostly are. The page lists addresses, subjects and errors, never a mail's body."""
    return signed_in(user) and (user.role in (Role.ADMIN, Role.PROVINCE)
                                or manages_accounts(user, combined_duties=combined_duties))


def is_own_city_clerk(user: User | None, city_id: int | None) -> bool:
    """Only a city's own clerk writes its applications and files."""
    return (user is not None and user.is_authenticated and user.role == Role.CITY
            and user.city_id is not None and user.city_id == city_id)


def visible_city(user: User, city_id: int | None) -> City:
    """A city whose pages ``user`` may open; :class:`NotFound` otherwise."""
    city = db.session.get(City, city_id) if city_id else None
    if city is None or not can_see_city(user, city.id):
        raise NotFound
    return city


# 通知公告: the province writes to all cities or chosen ones; a city reads what is addressed to
# it, and any other announcement is not found (announcements/queries.py applies these).

def writes_announcements(user: User | None) -> bool:
    return signed_in(user) and user.role == Role.PROVINCE


def announcement_addressed_to(user: User | None, *, all_cities: bool, city_ids: set[int],
                              published: bool) -> bool:
    """May ``user`` open this announcement: the province any, a clerk a published one addressed
    to all cities or to theirs."""
    if writes_announcements(user):
        return True
    return (signed_in(user) and user.role == Role.CITY and user.city_id is not None and published
            and (all_cities or user.city_id in city_ids))


# ---- route helpers (current_user) --------------------------------------------------------------

def round_or_404(round_id: int | None = None) -> Round:
    """The round a page is about: ``round_id`` if given, else the current one (looked up once
    per request and shared with the layout)."""
    if round_id is not None:
        round_ = db.session.get(Round, round_id)
    else:
        if "current_round" not in g:
            g.current_round = current_round()
        round_ = g.current_round
    if round_ is None:
        raise NotFound
    return round_


def city_or_404(city_id: int | None) -> City:
    """A city the logged-in user may see (a clerk: only their own)."""
    return visible_city(current_user, city_id)


def roles_required(*roles: Role) -> Callable:
    """View decorator: other roles get a 404 (the page does not exist for them)."""
    allowed = {Role(r) for r in roles}

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or Role(current_user.role) not in allowed:
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return decorator


province_required = roles_required(Role.PROVINCE)
city_required = roles_required(Role.CITY)
staff_required = roles_required(Role.PROVINCE, Role.VIEWER)
expert_required = roles_required(Role.EXPERT)
announcements_required = roles_required(Role.PROVINCE, Role.CITY)


def combined_duties() -> bool:
    """Whether this deployment lets a province account also manage accounts and read the whole
    trail (``XKXL_COMBINED_DUTIES=1``; off by default, and not acceptable at 等保三级)."""
    return bool(current_app.config.get("COMBINED_DUTIES"))


def _duty_required(holds: Callable[..., bool]) -> Callable:
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not holds(current_user, combined_duties=combined_duties()):
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return decorator


accounts_required = _duty_required(manages_accounts)  # the 系统管理员's pages
whole_trail_required = _duty_required(reads_whole_trail)  # the 安全审计员's export
mail_outbox_required = _duty_required(reads_mail_outbox)  # 邮件发送


# What every signed-in person may open: their own account and leaving.
ACCOUNT_ENDPOINTS = frozenset({
    "static", "core.healthz", "core.favicon", "auth.login", "auth.logout", "auth.change_password_view",
    "auth.keep_alive", "auth.account", "auth.account_email_view", "auth.end_session_view", "auth.end_other_sessions_view",
    "auth.login_verify", "second_factor.page", "second_factor.confirm", "second_factor.regenerate",
    "second_factor.turn_off",
    # Everyone's own notices (notifications/): a notice is only ever its reader's.
    "notifications.index", "notifications.open_notice", "notifications.mark_read",
    "notifications.mark_all_read", "notifications.badge",
})

# The pages an expert may open; every other one is a 404 for them. The application page and
# its files are further scoped to the expert's assignments (scope_applications).
EXPERT_ENDPOINTS = ACCOUNT_ENDPOINTS | {
    "applications.detail", "files.application_page", "files.download",
    "review.mine", "review.save_sheet", "review.sheet_totals", "review.recuse", "review.sheet_pdf",
}
# The 系统管理员: accounts, and the settings and health of the system; nothing of the business.
ADMIN_ENDPOINTS = ACCOUNT_ENDPOINTS | {
    "auth.users", "auth.user_new", "auth.user_edit", "auth.user_reset_password", "auth.user_unlock",
    "second_factor.admin_reset", "core.system", "mail.outbox_page", "mail.resend",
    "onboarding.new", "onboarding.slip", "onboarding.download",  # 批量开通市州账号 and its slips
}
# The 安全审计员: the trail and its export, nothing else.
AUDITOR_ENDPOINTS = ACCOUNT_ENDPOINTS | {"audit.index", "audit.export"}

# One row per confined role: the pages it may open, and its home (where 工作台 takes it).
CONFINED_ENDPOINTS: dict[str, frozenset[str]] = {
    Role.EXPERT: EXPERT_ENDPOINTS, Role.ADMIN: ADMIN_ENDPOINTS, Role.AUDITOR: AUDITOR_ENDPOINTS,
}
CONFINED_HOMES: dict[str, str] = {
    Role.EXPERT: "review.mine", Role.ADMIN: "auth.users", Role.AUDITOR: "audit.index",
}


def opens(user: User | None, endpoint: str) -> bool:
    """Whether a confined ``user`` may open ``endpoint`` at all (others: the page's own gate
    decides), so that a page never links one that would answer 404."""
    allowed = CONFINED_ENDPOINTS.get(user.role) if signed_in(user) else None
    return allowed is None or endpoint in allowed


def keep_confined_roles_to_their_pages():
    """``before_request``: a confined role's home is its own page (an expert's review list, the
    administrator's accounts, the auditor's trail); any page not in its row of
    :data:`CONFINED_ENDPOINTS` does not exist for it."""
    if not current_user.is_authenticated or current_user.role not in CONFINED_ENDPOINTS:
        return None
    if request.endpoint == "core.index":
        return redirect(url_for(CONFINED_HOMES[current_user.role]))
    if request.endpoint not in CONFINED_ENDPOINTS[current_user.role]:
        abort(404)
    return None
