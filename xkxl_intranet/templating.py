"""Template globals and filters shared by every page."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Flask, g
from flask_login import current_user
from jinja2 import FileSystemBytecodeCache

from .applications.rules import marks_visible_to
from .auth.models import User
from .batches.reporting import reminder
from .clock import now, to_shanghai
from .domain.deadlines import format_deadline
from .domain.declaration import Form
from .domain.durations import format_duration
from .domain.parsing import format_field
from .filenames import human_size
from .files.categories import CATEGORIES
from .review.panels import expert_banner
from .review.queries import review_for
from .rounds.models import Round
from .rounds.paper import paper_copies
from .rounds.state import current_round, deadline_of, find_batch
from .trail.changes import change_rows, round_key_names


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return to_shanghai(value).strftime(fmt)


def format_remaining(seconds: int) -> str:
    """Server-side text of the countdown; static/js/app.js keeps it ticking."""
    if seconds <= 0:
        return "已截止"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"剩余 {days} 天 {hours} 小时 {minutes} 分"
    return f"剩余 {hours} 小时 {minutes} 分 {secs} 秒"


# (roles, endpoint, label, endpoint prefix marking the entry current). Entries whose
# endpoint is not registered are skipped, so the menu grows with the blueprints.
NAVIGATION = (
    ({"city"}, "applications.index", "申报管理", "applications."),
    ({"city"}, "rounds.batch", "报送", "rounds.batch"),
    ({"province", "viewer"}, "rounds.dashboard", "各市（州）进度", "rounds.dashboard"),
    ({"province", "viewer"}, "applications.index", "全部申报", "applications."),
    ({"city", "province", "viewer"}, "files.city_files", "材料与汇总表", "files."),
    ({"city", "province", "viewer"}, "reports.index", "报表", "reports."),
    ({"province", "viewer"}, "rounds.index", "申报批次", "rounds.index"),
    ({"province", "viewer"}, "review.ranking", "专家评审", "review."),
    # The business roles read the business history of what they see (操作记录); the 安全审计员 the
    # whole trail, security events included (审计日志): one page, two readings (trail/queries.py).
    ({"city", "province"}, "announcements.index", "通知公告", "announcements."),
    ({"city", "province", "viewer"}, "audit.index", "操作记录", "audit."),
    ({"auditor"}, "audit.index", "审计日志", "audit."),
    ({"expert"}, "review.mine", "我的评审", "review."),
    ({"admin"}, "auth.users", "账号管理", "auth.user"),
    ({"admin"}, "core.system", "系统设置与状态", "core.system"),
    ({"admin", "province"}, "mail.outbox_page", "邮件发送", "mail."),
)
# Where the deployment combines the duties (COMBINED_DUTIES), a province account also sees the
# administrator's and the auditor's entries (auth/scoping.py).
COMBINED_ROLES = {"province": {"admin", "auditor"}}


def inject_expert_review() -> dict:
    """An expert's pages count down to the review's deadline, with the same reminder."""
    if not (current_user and current_user.is_authenticated and current_user.is_expert):
        return {}
    if "current_round" not in g:
        g.current_round = current_round()
    return expert_banner(current_user, review_for(g.current_round))


def blank_none(value):
    """Jinja's ``finalize``: an empty value prints as nothing, never as Python's ``None``."""
    return "" if value is None else value


TEMPLATE_CACHE = "template-cache"


def _current_round() -> Round | None:
    """The current round, looked up once per request."""
    if "current_round" not in g:
        g.current_round = current_round()
    return g.current_round


def _form_or_current(form: Form | None) -> Form | None:
    """``form`` (the application's round's); without one, the current round's (the headers of a
    list of the current round's applications)."""
    if form is None:
        round_ = _current_round()
        form = round_.form if round_ is not None else None
    return form


def field_label(key: str, form: Form | None = None) -> str:
    """``key``'s label in ``form`` or the current round's; the key itself where none declares it."""
    form = _form_or_current(form)
    f = form.fields.get(key) if form is not None else None
    return f.label if f is not None else key


def field_anchor(key: str, form: Form | None = None) -> str:
    """The id a link to ``key`` on the edit form points at (``Form.anchor_of``)."""
    form = _form_or_current(form)
    return form.anchor_of(key) if form is not None else f"f-{key}"


def register_templating(app: Flask) -> None:
    # Compiled templates are kept in the instance folder (checked against each template's source):
    # a restarted server answers its first pages without compiling them again.
    folder = Path(app.instance_path) / TEMPLATE_CACHE
    folder.mkdir(exist_ok=True)
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    app.jinja_env.finalize = blank_none
    app.jinja_env.filters["dt"] = format_datetime
    app.jinja_env.filters["deadline"] = format_deadline
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.globals["format_remaining"] = format_remaining
    app.jinja_env.globals["change_rows"] = change_rows
    app.jinja_env.globals["round_key_names"] = round_key_names
    app.jinja_env.globals["paper_copies"] = paper_copies  # 报送要求: what the round's notice asks for
    app.jinja_env.tests["startswith"] = lambda value, prefix: str(value).startswith(prefix)

    def nav_entries(user: User) -> list[tuple[str, str, str]]:
        duties = {user.role} | (COMBINED_ROLES.get(user.role, set()) if app.config.get("COMBINED_DUTIES") else set())
        entries: dict[str, tuple[str, str, str]] = {}
        for roles, endpoint, label, prefix in NAVIGATION:
            if roles & duties and endpoint in app.view_functions:
                entries.setdefault(endpoint, (endpoint, label, prefix))
        return list(entries.values())

    app.jinja_env.globals["nav_entries"] = nav_entries

    def field_text(value, f) -> str:
        return format_field(f, value)

    app.jinja_env.filters["field_label"] = field_label
    app.jinja_env.filters["field_anchor"] = field_anchor
    app.jinja_env.filters["field_text"] = field_text

    def category_label(key: str) -> str:
        return CATEGORIES[key].label if key in CATEGORIES else key

    app.jinja_env.filters["category_label"] = category_label
    app.jinja_env.filters["filesize"] = human_size

    @app.context_processor
    def inject_city_batch():
        """Every city page shows the city's batch state and, near the deadline, what is missing."""
        if not (current_user and current_user.is_authenticated and current_user.is_city):
            return {}
        round_ = _current_round()
        if round_ is None or current_user.city is None:
            return {}
        if "city_batch_info" not in g:
            batch = find_batch(round_.id, current_user.city_id)
            g.city_batch_info = {
                "city_batch": batch,
                # Reported or accepted: nothing of the city's may be created or changed.
                "city_locked": batch is not None and batch.state_enum.locked,
                "city_deadline": deadline_of(round_, batch),
                "city_reminder": reminder(round_, current_user.city),
            }
        return g.city_batch_info

    app.context_processor(inject_expert_review)

    @app.context_processor
    def inject_round():
        round_ = _current_round()
        moment = now()
        return {
            "current_round": round_,
            # The province's marks reach a city only once the round's results are published.
            "marks_visible": marks_visible_to(current_user, round_),
            "server_now": moment,
            "seconds_left": int((round_.deadline - moment).total_seconds()) if round_ else None,
        }
