"""The audit trail page: filters by city, user, action and date, paged."""
from flask import Blueprint, request
from flask_login import current_user, login_required

from ..audit.services import record_unless_lately
from ..domain.dates import DAY_OR_MONTH_EXAMPLES, Span, read_day_or_month
from ..domain.findings import ParseError
from ..rounds.state import all_cities, current_round
from ..urls import page_number, record_id
from ..web import render_page_or_fragment, unit_of_work
from .objects import describe_events
from .queries import ACTION_LABELS, PAGE_SIZE, TrailFilter, known_actions, trail

bp = Blueprint("audit", __name__, url_prefix="/audit")


DATE_LABELS = {"date_from": "起始日期", "date_to": "截止日期"}


def _date_arg(name: str, problems: dict[str, str]) -> Span | None:
    """A filter date typed as a day (2022-03-21, 2022/3/21, 2022年3月21日) or a whole month
    (2022-03, 2022年3月: 从 its first day, 至 its last); an unreadable one is left out of the
    filter and said so beside its box."""
    try:
        return read_day_or_month(request.args.get(name, ""), DATE_LABELS[name])
    except ParseError as err:
        problems[name] = err.message
        return None


FILTER_WORDS = {"city_id": "市（州）编号", "username": "用户", "action": "操作", "date_from": "起始日期",
                "date_to": "截止日期", "page": "页码"}


def _filter_words(f: TrailFilter) -> str:
    """The filter as the trail records it: one row per distinct filter (and page) a minute."""
    return "，".join(f"{FILTER_WORDS[key]} {value}" for key, value in f.query().items())


@bp.route("/")
@login_required
def index():
    problems: dict[str, str] = {}
    since, until = _date_arg("date_from", problems), _date_arg("date_to", problems)
    f = TrailFilter(city_id=request.args.get("city_id", type=record_id),
                    username=request.args.get("username", "").strip(),
                    action=request.args.get("action", "").strip(),
                    date_from=since.first if since else None, date_to=until.last if until else None,
                    page=request.args.get("page", 1, type=page_number))
    # Reading the trail is itself recorded, once a minute per filter; before the events are read,
    # which the commit would expire.
    with unit_of_work(flash_refusal=False):
        record_unless_lately("audit.viewed", user=current_user, city_id=current_user.city_id,
                             summary="查看审计记录：" + _filter_words(f))
    round_ = current_round()
    events, total, f.page = trail(current_user, f, round_)  # f.page: the page shown
    objects, key_names = describe_events(current_user, events, round_)
    return render_page_or_fragment("audit/index.html", "audit/_events.html",
                                   events=events, total=total, f=f, page_size=PAGE_SIZE,
                                   labels=ACTION_LABELS, actions=known_actions(current_user, round_), cities=all_cities(),
                                   objects=objects, key_names=key_names,
                                   date_problems=problems, typed=request.args, date_examples=DAY_OR_MONTH_EXAMPLES)
