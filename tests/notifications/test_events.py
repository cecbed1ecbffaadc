"""Every event someone must act on makes a notice for the people concerned, and for nobody
else: the services are called as the people would, without a request."""
from __future__ import annotations

from datetime import datetime, timedelta

from xkxl_intranet import clock
from xkxl_intranet.applications.models import Application
from xkxl_intranet.audit.services import record
from xkxl_intranet.auth.models import User
from xkxl_intranet.auth.throttle import lock_if_attacked
from xkxl_intranet.batches import desk
from xkxl_intranet.batches.settings import change_deadline, publish_results
from xkxl_intranet.domain.login_throttle import ThrottleLimits
from xkxl_intranet.domain.notices import NoticeKind
from xkxl_intranet.extensions import db
from xkxl_intranet.notifications import operations
from xkxl_intranet.notifications.models import Notification
from xkxl_intranet.notifications.operations import Link, notify
from xkxl_intranet.review.assignment import assign, assign_balanced, declare_conflict
from xkxl_intranet.review.models import Assignment
from xkxl_intranet.review.queries import review_for
from xkxl_intranet.review.scoring import reopen
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import batch_for_write, current_round

from helpers import create_application, logged_in_client
from reports.helpers import set_batch_state, user
from review.helpers import fill, open_review, passed, report


def _notices(username: str | None = None, kind: NoticeKind | None = None) -> list[Notification]:
    stmt = db.select(Notification).order_by(Notification.id)
    if username is not None:
        stmt = stmt.where(Notification.user_id == user(username).id)
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind.value)
    return list(db.session.scalars(stmt))


def _batch(code: str = "510100"):
    city = db.session.scalar(db.select(City).where(City.code == code))
    return batch_for_write(current_round().id, city.id)


def _second_clerk(code: str = "510100", *, enabled: bool = True) -> User:
    """Another account of the same city (a city-wide notice reaches every enabled one)."""
    clerk = User(username=f"clerk{code}{int(enabled)}", display_name="第二位经办人", role="city",
                 city=db.session.scalar(db.select(City).where(City.code == code)), password_hash="x",
                 must_change_password=False, is_enabled=enabled, session_version=1)
    db.session.add(clerk)
    db.session.flush()
    return clerk


def test_a_returned_batch_tells_every_enabled_clerk_of_the_city_its_reason(app):
    set_batch_state(app, "510100", "reported")
    set_batch_state(app, "510700", "reported")
    with app.app_context():
        second, disabled = _second_clerk(), _second_clerk(enabled=False)
        desk.return_batch(user("province"), _batch(), "附件3 汇总表未盖章，请补盖后重新上传。")
        db.session.commit()
        made = _notices(kind=NoticeKind.BATCH_RETURNED)
        assert {n.user_id for n in made} == {user("chengdu").id, second.id}
        assert disabled.id not in {n.user_id for n in made}
        assert "附件3 汇总表未盖章" in made[0].body and "成都市" in made[0].title
        assert made[0].link_endpoint == "core.index" and made[0].read_at is None
        assert _notices("mianyang") == [] and _notices("province") == []


def test_accepting_extending_and_paper_copies_reach_only_that_city(app):
    clock.set_now(datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI))  # before the round's deadline
    set_batch_state(app, "510100", "reported")
    with app.app_context():
        province = user("province")
        desk.accept(province, _batch())
        desk.grant_extension(province, _batch("510700"), current_round().deadline + timedelta(days=3), "系统故障")
        desk.grant_extension(province, _batch("510700"), current_round().deadline + timedelta(days=5), "再延两天")
        desk.record_paper(province, _batch(), {"paper_forms_received_on": clock.now().date()}, "")
        desk.record_paper(province, _batch(), {"paper_forms_received_on": clock.now().date()}, "只改备注")
        db.session.commit()
        chengdu = [(n.kind, n.title) for n in _notices("chengdu")]
        # the province's note is news too (「光盘未收到」: the city learns what is still owed)
        assert [k for k, _ in chengdu] == [NoticeKind.BATCH_ACCEPTED] + [NoticeKind.PAPER_RECORDED] * 2
        paper = [n for n in _notices("chengdu") if n.kind == NoticeKind.PAPER_RECORDED]
        assert "尚未收到：电子版光盘、汇总表纸质版" in paper[0].body and "省厅备注" not in paper[0].body
        assert "省厅备注：只改备注" in paper[1].body
        mianyang = _notices("mianyang")
        assert [n.kind for n in mianyang] == [NoticeKind.BATCH_EXTENDED] * 2
        assert "准予延期" in mianyang[0].title and "变更延期" in mianyang[1].title
        assert "再延两天" in mianyang[1].body


def test_published_results_reach_the_cities_that_see_the_marks(app):
    set_batch_state(app, "510100", "reported")
    with app.app_context():
        publish_results(user("province"), current_round(), True, confirm_early=True)
        db.session.commit()
        assert [n.kind for n in _notices("chengdu")] == [NoticeKind.RESULTS_PUBLISHED]
        assert _notices("mianyang") == []  # not reported: it sees no marks yet
        publish_results(user("province"), current_round(), False)
        db.session.commit()
        assert len(_notices()) == 1  # withdrawing tells nobody


def test_an_expert_hears_of_new_sheets_and_of_a_returned_one(app):
    open_review(app, n=1)
    first, second = passed(app, platform_name="甲平台"), passed(app, platform_name="乙平台")
    report(app, "chengdu")
    with app.app_context():
        assign(user("province"), review_for(current_round()), db.session.get(Application, first), user("expert1"))
        db.session.commit()
        assigned = _notices("expert1", NoticeKind.EXPERT_ASSIGNED)
        assert len(assigned) == 1 and "甲平台" in assigned[0].body and assigned[0].link_endpoint == "review.mine"
        balanced = assign_balanced(user("province"), review_for(current_round()), 1)
        db.session.commit()
        # 乙 goes to the expert with fewer sheets, who is told once
        assert [(a.application_id, a.expert.username) for a in balanced.created] == [(second, "expert2")]
        assert len(_notices("expert2", NoticeKind.EXPERT_ASSIGNED)) == 1
        assert len(_notices("expert1", NoticeKind.EXPERT_ASSIGNED)) == 1
        assert _notices("chengdu") == [] and _notices("province") == []  # a city never learns who reviews it
        sheet_id = balanced.created[0].id
    fill(app, sheet_id, 8)
    with app.app_context():
        reopen(user("province"), db.session.get(Assignment, sheet_id), "第3项评分理由不足")
        db.session.commit()
        returned = _notices("expert2", NoticeKind.SHEET_RETURNED)
        assert len(returned) == 1 and "第3项评分理由不足" in returned[0].body
        assert returned[0].link_endpoint == "applications.detail"
        assert returned[0].link_args == {"application_id": second}
        assert _notices("expert1", NoticeKind.SHEET_RETURNED) == []
    # 我的评审, the expert's home, heads with the latest notices, as the 工作台 does for the others.
    home = logged_in_client(app, "expert2").get("/review/").get_data(as_text=True)
    latest = home.split('id="home-notices"', 1)[1].split("</section>", 1)[0]
    assert "最新通知" in latest and "2 条未读" in latest
    assert latest.count("<li") == 2  # the expert's own two, unread, newest first
    assert latest.index("评分表被退回：乙平台") < latest.index("新分配给您 1 份申报评审")


def test_a_locked_account_tells_the_administrators_and_the_account(app):
    with app.app_context():
        limits = ThrottleLimits(lock_failures=1, lock_addresses=1)
        at = clock.now()
        target = user("chengdu")
        record("auth.login_failed", object_type="user", object_id=target.id, user=target,
               username="chengdu", city_id=target.city_id, summary="登录失败：密码错误")
        assert lock_if_attacked(target, limits, at)
        db.session.commit()
        assert [n.kind for n in _notices("admin")] == [NoticeKind.ACCOUNT_LOCKED]
        assert "chengdu" in _notices("admin")[0].title
        assert [n.kind for n in _notices("chengdu")] == [NoticeKind.ACCOUNT_LOCKED]
        assert _notices("province") == [] and _notices("mianyang") == []


def test_notify_hands_the_new_rows_to_its_listeners_and_honours_the_dedupe_key(app, monkeypatch):
    seen: list[list[Notification]] = []
    monkeypatch.setattr(operations, "after_notify", [seen.append])
    with app.app_context():
        people = [user("chengdu"), user("chengdu"), user("mianyang")]
        made = notify(people, NoticeKind.DEADLINE_NEAR, "标题", "正文", Link("core.index"), dedupe_key="k1")
        again = notify(people, NoticeKind.DEADLINE_NEAR, "标题", "正文", dedupe_key="k1")
        db.session.commit()
        assert len(made) == 2 and again == []  # one per distinct person, once per key
        assert seen == [made] and all(n.id for n in seen[0])


def test_a_city_reporting_tells_the_province_which_acts_next(app):
    clock.set_now(datetime(2022, 3, 19, 10, 0, tzinfo=clock.SHANGHAI))
    clerk = logged_in_client(app, "chengdu")
    application_id = create_application(app)
    assert clerk.post(f"/applications/{application_id}/review", data={"decision": "passed"}).status_code == 303
    assert clerk.post("/rounds/batch/report", data={"scan_missing_acknowledged": "y"}).status_code == 303
    with app.app_context():
        (reported,) = _notices("province")
        assert reported.kind == NoticeKind.BATCH_REPORTED and reported.title == "成都市已报送1份申报"
        assert reported.link_endpoint == "rounds.city_desk" and "回执号 HZ2022-510100-01" in reported.body
        assert _notices("viewer") == [] and _notices("chengdu") == [] and _notices("mianyang") == []


def test_an_experts_recusal_tells_the_province_to_assign_another(app):
    open_review(app, n=1)
    application_id = passed(app, platform_name="甲平台")
    report(app, "chengdu")
    with app.app_context():
        sheet = assign(user("province"), review_for(current_round()), db.session.get(Application, application_id),
                       user("expert1"))
        declare_conflict(user("expert1"), sheet, "曾在该企业任职")
        db.session.commit()
        (recused,) = _notices("province", NoticeKind.EXPERT_RECUSED)
        assert "张明远" in recused.title and "曾在该企业任职" in recused.body and "甲平台" in recused.body
        assert _notices("chengdu") == []  # a city never learns who reviews it, nor who stepped back


def test_moving_the_rounds_deadline_tells_every_city_it_applies_to(app):
    """The walkthrough moved the deadline 8 days earlier and no city heard of it until a reminder."""
    clock.set_now(datetime(2022, 3, 10, 10, 0, tzinfo=clock.SHANGHAI))
    set_batch_state(app, "510700", "reported")  # 绵阳 has reported: nothing to act on
    with app.app_context():
        round_ = current_round()
        change_deadline(user("province"), round_, datetime(2022, 3, 18, 18, 0, tzinfo=clock.SHANGHAI))
        db.session.commit()
        [notice] = _notices("chengdu", NoticeKind.DEADLINE_CHANGED)
        assert notice.title == "报送截止时间调整为 2022年03月18日 18:00"
        assert "由 2022年03月21日 23:59:59 调整为 2022年03月18日 18:00（北京时间）" in notice.body
        assert _notices("mianyang", NoticeKind.DEADLINE_CHANGED) == []
        # a city with a later extension of its own keeps it, and hears nothing of the round's
        desk.grant_extension(user("province"), _batch(), datetime(2022, 3, 25, 18, 0, tzinfo=clock.SHANGHAI), "系统故障")
        change_deadline(user("province"), round_, datetime(2022, 3, 19, 18, 0, tzinfo=clock.SHANGHAI))
        db.session.commit()
        assert len(_notices("chengdu", NoticeKind.DEADLINE_CHANGED)) == 1
