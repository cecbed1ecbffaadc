"""Sessions on the server. A log-in starts one (a row holding the SHA-256 of a random token that
only the signed cookie carries); log-out ends it; a password change or reset and disabling an
account end all of the account's sessions (a lock after failed log-ins does not: it refuses new
log-ins only); its owner ends one, or all the others,
on 我的账号. A session ends :data:`MAX_AGE` after its log-in however busy it is, and after the
idle limit without a request of its own: the cookie's ``seen_at`` says so to the second, and the
row's ``last_seen_at`` (kept to :data:`ACTIVITY_RESOLUTION`, so that a page view does not write)
ends it on the server too, whatever cookie comes back.

An account holds at most :attr:`SessionPolicy.max_per_account` live sessions: a log-in past it
ends the session idle the longest (``auth.session_evicted``), so that a browser closed without
退出, or a session someone else holds, never keeps the account's owner out.

Services: they take plain values and only flush."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update

from ..audit.services import record
from ..clock import now, to_shanghai
from ..domain.errors import NotFound, Refused
from ..domain.user_agents import browser_label
from ..extensions import db
from .models import User, UserSession

# OWASP ASVS 3.3.2 (level 2): re-authentication at least every 12 hours of use.
MAX_AGE = timedelta(hours=12)
# How stale a session's recorded last activity may be: a request writes it only when it is older
# than this, so a page view costs no write but once a minute (benchmarks/bench_sessions.py).
ACTIVITY_RESOLUTION = timedelta(minutes=1)
# The idle limit unless the deployment sets another (``PERMANENT_SESSION_LIFETIME``: README).
DEFAULT_IDLE = timedelta(hours=2)
# The key of the token in Flask's (signed) session cookie.
TOKEN_KEY = "_sid"


@dataclass(frozen=True)
class SessionPolicy:
    """The deployment's settings: the idle limit (``PERMANENT_SESSION_LIFETIME``) and how many
    live sessions one account may hold (``MAX_SESSIONS_PER_ACCOUNT``; 0: no bound)."""

    idle: timedelta = DEFAULT_IDLE
    max_per_account: int = 0


@dataclass(frozen=True)
class Client:
    """Where a log-in comes from, kept with its session for its owner to recognise it."""

    address: str = ""
    user_agent: str = ""


UNKNOWN_CLIENT = Client()  # a command-line or test session


@dataclass(frozen=True)
class SessionView:
    """One live session as its owner sees it on 我的账号."""

    id: int
    started_at: datetime
    last_seen_at: datetime
    address: str
    browser: str
    is_current: bool = False

    def describe(self) -> str:
        """「开始于 03-10 09:00，最后活动 03-10 09:30，10.51.1.10，Chrome 120 / Windows」, for
        messages and the trail."""
        return (f"开始于 {to_shanghai(self.started_at):%m-%d %H:%M}，"
                f"最后活动 {to_shanghai(self.last_seen_at):%m-%d %H:%M}，"
                f"{self.address or '地址不详'}，{self.browser}")


@dataclass
class Started:
    token: str  # for the cookie (kept nowhere else)
    evicted: list[SessionView] = field(default_factory=list)  # ended for the account's limit


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _live(moment: datetime, idle: timedelta) -> ColumnElement[bool]:
    """Younger than :data:`MAX_AGE` and active within the idle limit (the recorded activity lags
    the real one by less than :data:`ACTIVITY_RESOLUTION`, which it is granted)."""
    return and_(UserSession.created_at > moment - MAX_AGE,
                UserSession.last_seen_at > moment - idle - ACTIVITY_RESOLUTION)


def _view(row: UserSession, current: str | None = None) -> SessionView:
    return SessionView(id=row.id, started_at=row.created_at, last_seen_at=row.last_seen_at,
                       address=row.address, browser=browser_label(row.user_agent),
                       is_current=current is not None and row.token_sha256 == _digest(current))


def start_session(user: User, client: Client = UNKNOWN_CLIENT, policy: SessionPolicy | None = None) -> Started:
    """A new session of ``user``. With a ``policy`` (a log-in), sessions past their limits are
    removed, and the account's live sessions beyond ``max_per_account - 1`` end, the one idle
    the longest first, each recorded as ``auth.session_evicted``."""
    moment = now()
    stale = UserSession.created_at < moment - MAX_AGE
    if policy is not None:
        stale = or_(stale, UserSession.last_seen_at < moment - policy.idle - ACTIVITY_RESOLUTION)
    db.session.execute(delete(UserSession).where(stale))
    evicted = []
    if policy is not None and policy.max_per_account > 0:
        live = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                                  .order_by(UserSession.last_seen_at, UserSession.id)).all()
        for row in live[:max(0, len(live) - (policy.max_per_account - 1))]:
            view = _view(row)
            evicted.append(view)
            db.session.delete(row)
            record("auth.session_evicted", user=user, object_type="user", object_id=user.id,
                   city_id=user.city_id,
                   summary=f"同时登录超过{policy.max_per_account}个会话，结束最早的一个（{view.describe()}）")
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_sha256=_digest(token), created_at=moment,
                               last_seen_at=moment, address=client.address[:45],
                               user_agent=client.user_agent[:255]))
    db.session.flush()
    return Started(token, evicted)


def end_session(token: str | None) -> None:
    """Log-out: the session of ``token`` ends for every copy of its cookie."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_sha256 == _digest(token)))
        db.session.flush()


def end_all_sessions(user: User) -> None:
    """Every session of ``user`` ends (a new password, a disabled account)."""
    user.session_version += 1
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.flush()


def session_user(user_id: int, version: int, token: str | None) -> tuple[User, UserSession] | None:
    """The user of a session, with the session: the token's row exists, is younger than
    :data:`MAX_AGE`, and belongs to an enabled user whose session version is still ``version``.
    Whether it has been idle too long is :func:`idle_on_server`'s (the caller then ends it, and
    says why)."""
    if not token:
        return None
    found = db.session.execute(
        select(User, UserSession).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_sha256 == _digest(token), User.id == user_id,
               UserSession.created_at > now() - MAX_AGE)).first()
    if found is None:
        return None
    user, live = found
    if user.session_version != version or not user.is_enabled:
        return None
    return user, live


def idle_on_server(live: UserSession, moment: datetime, idle: timedelta) -> bool:
    """The session's row says no request of its own came within ``idle`` (whatever the cookie
    says: a copy of an old cookie, a cookie kept alive by background polling)."""
    return moment - live.last_seen_at > idle + ACTIVITY_RESOLUTION


def note_activity(live: UserSession, moment: datetime) -> bool:
    """A request of the session's own at ``moment``: its row's ``last_seen_at`` moves when it is
    :data:`ACTIVITY_RESOLUTION` old or older. Returns whether it did (the caller commits)."""
    if moment - live.last_seen_at < ACTIVITY_RESOLUTION:
        return False
    db.session.execute(update(UserSession).where(UserSession.id == live.id).values(last_seen_at=moment))
    return True


def own_sessions(user: User, current: str | None, idle: timedelta) -> list[SessionView]:
    """``user``'s live sessions: the current one (``current`` is its token) first, then the most
    recently active."""
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id, _live(now(), idle))
                              .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).all()
    views = [_view(row, current) for row in rows]
    return sorted(views, key=lambda view: not view.is_current)  # stable: the order above stays


def end_own_session(user: User, session_id: int, current: str | None, idle: timedelta) -> SessionView:
    """结束此会话: another live session of ``user`` ends (:class:`NotFound` when it is not one of
    theirs or has already ended; this session ends by 退出)."""
    row = db.session.scalar(select(UserSession).where(
        UserSession.id == session_id, UserSession.user_id == user.id, _live(now(), idle)))
    if row is None:
        raise NotFound
    view = _view(row, current)
    if view.is_current:
        raise Refused("本会话请用页面右上角的「退出」结束。")
    db.session.delete(row)
    record("auth.session_ended", user=user, object_type="user", object_id=user.id, city_id=user.city_id,
           summary=f"结束本人的一个登录会话（{view.describe()}）")
    db.session.flush()
    return view


def end_other_sessions(user: User, current: str | None, idle: timedelta) -> list[SessionView]:
    """结束其他全部会话: every live session of ``user`` but this one ends, each recorded."""
    ended = [view for view in own_sessions(user, current, idle) if not view.is_current]
    for view in ended:
        db.session.execute(delete(UserSession).where(UserSession.id == view.id))
        record("auth.session_ended", user=user, object_type="user", object_id=user.id, city_id=user.city_id,
               summary=f"结束本人的其他全部登录会话之一（{view.describe()}）")
    db.session.flush()
    return ended
