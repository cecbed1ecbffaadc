"""Who scores what: assignment by hand and "each to N experts, balanced", conflicts of interest
declared by an expert, and taking an application back. Services are called as the people
would, without a request."""
from __future__ import annotations

import pytest

from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.credit_code import make_credit_code
from xkxl_intranet.domain.errors import Refused
from xkxl_intranet.extensions import db
from xkxl_intranet.review.assignment import assign, assign_balanced, declare_conflict, unassign
from xkxl_intranet.review.models import Assignment, SheetState
from xkxl_intranet.review.queries import expert_loads, review_for
from xkxl_intranet.rounds.state import current_round

from .helpers import fill, give, make_expert, make_passed, open_review, passed, report, reported, sheet, user
from helpers import audit_events, create_application


def _review():
    return review_for(current_round())


def _sheets(application_id: int) -> list[Assignment]:
    return list(db.session.scalars(db.select(Assignment).where(Assignment.application_id == application_id)))


def test_only_reported_applications_that_passed_are_assigned_by_hand(app):
    open_review(app)
    draft = create_application(app, "chengdu")
    passed_not_reported = make_passed(app, "mianyang")
    ok = reported(app, "chengdu")
    with app.app_context():
        for application_id in (draft, passed_not_reported):
            with pytest.raises(Refused, match="已报送且市州初审通过"):
                assign(user("province"), _review(), db.session.get(Application, application_id), user("expert1"))
        for not_an_expert in ("viewer", "chengdu"):
            with pytest.raises(Refused, match="评审专家账号"):
                assign(user("province"), _review(), db.session.get(Application, ok), user(not_an_expert))
        sheet_ = assign(user("province"), _review(), db.session.get(Application, ok), user("expert1"))
        assert sheet_.state == SheetState.ASSIGNED
        with pytest.raises(Refused, match="已分配给专家 张明远"):
            assign(user("province"), _review(), db.session.get(Application, ok), user("expert1"))
        db.session.commit()
    event = audit_events(app, "review.assigned")[-1]
    assert event.city_id is None and "张明远" in event.summary  # a city never learns who reviews it


def test_a_disabled_expert_gets_nothing(app):
    open_review(app)
    application_id = reported(app)
    with app.app_context():
        expert = user("expert2")
        expert.is_enabled = False
        with pytest.raises(Refused, match="启用中的评审专家"):
            assign(user("province"), _review(), db.session.get(Application, application_id), expert)
        result = assign_balanced(user("province"), _review(), 2)
        assert {s.expert_id for s in result.created} == {user("expert1").id}
        assert [a.id for a, n in result.short] == [application_id]


def test_balanced_assignment_gives_each_application_n_experts_with_loads_within_one(app):
    open_review(app)
    for name in ("expert3", "expert4"):
        make_expert(app, name)
    applications = [passed(app, "chengdu") for _ in range(4)] + [passed(app, "mianyang") for _ in range(3)]
    report(app, "chengdu", "mianyang")
    with app.app_context():
        result = assign_balanced(user("province"), _review(), 2)
        db.session.commit()
        assert len(result.created) == 14 and not result.short
        for application_id in applications:
            experts = [s.expert_id for s in _sheets(application_id)]
            assert len(experts) == 2 and len(set(experts)) == 2
        loads = expert_loads(_review())
        assert len(loads) == 4 and max(loads.values()) - min(loads.values()) <= 1
        assert "已新分配 14 份" in result.message
        # Running it again changes nothing; a larger N only tops up.
        assert assign_balanced(user("province"), _review(), 2).created == []
        more = assign_balanced(user("province"), _review(), 3)
        assert len(more.created) == 7
        loads = expert_loads(_review())
        assert sum(loads.values()) == 21 and max(loads.values()) - min(loads.values()) <= 1


def test_balanced_assignment_can_be_limited_to_chosen_experts(app):
    open_review(app)
    make_expert(app, "expert3")
    application_id = reported(app)
    with app.app_context():
        chosen = [user("expert2").id, user("expert3").id]
        assign_balanced(user("province"), _review(), 2, chosen)
        assert {s.expert_id for s in _sheets(application_id)} == set(chosen)


def test_a_declared_conflict_recuses_the_expert_from_the_enterprise_everywhere(app):
    """The expert declares a conflict from their list: that sheet and the open sheet of the same
    enterprise put forward by another city are recused; neither the balanced assignment nor the
    province by hand gives them that enterprise again."""
    open_review(app)
    make_expert(app, "expert3")
    code = make_credit_code("510100", "MA6YY0Q1")
    chengdu = reported(app, "chengdu", credit_code=code, enterprise_name="四川冲突科技有限公司")
    mianyang = passed(app, "mianyang", credit_code=code, enterprise_name="四川冲突科技有限公司",
                      platform_name="冲突平台（绵阳）")
    other = passed(app, "mianyang")
    report(app, "mianyang")
    first = give(app, chengdu, "expert1")
    give(app, mianyang, "expert1")
    with app.app_context():
        with pytest.raises(Refused, match="回避理由"):
            declare_conflict(user("expert1"), db.session.get(Assignment, first), " ")
        with pytest.raises(Refused, match="分配给自己"):
            declare_conflict(user("expert2"), db.session.get(Assignment, first), "无关")
        declare_conflict(user("expert1"), db.session.get(Assignment, first), "曾在该企业任职")
        db.session.commit()
        assert {s.state for s in _sheets(chengdu) + _sheets(mianyang)} == {SheetState.RECUSED}
        with pytest.raises(Refused, match="已对这份申报申请回避"):
            assign(user("province"), _review(), db.session.get(Application, chengdu), user("expert1"))
        result = assign_balanced(user("province"), _review(), 2)
        db.session.commit()
        for application_id in (chengdu, mianyang):
            active = {s.expert.username for s in _sheets(application_id) if s.state != SheetState.RECUSED}
            assert active == {"expert2", "expert3"}
        assert "expert1" in {s.expert.username for s in _sheets(other)}
        assert not result.short
    event = audit_events(app, "review.conflict_declared")[-1]
    assert event.username == "expert1" and "曾在该企业任职" in event.summary and event.city_id is None


def test_a_conflict_by_name_alone_also_counts(app):
    """An enterprise without a readable code is recognised by its name (width and spaces aside)."""
    open_review(app)
    first = reported(app, "chengdu", enterprise_name="四川同名科技有限公司")
    second = reported(app, "mianyang", enterprise_name="四川同名科技 有限公司")
    with app.app_context():
        for application_id in (first, second):
            db.session.get(Application, application_id).org_code_key = None
        db.session.commit()
    sheet_id = give(app, first, "expert2")
    with app.app_context():
        declare_conflict(user("expert2"), db.session.get(Assignment, sheet_id), "亲属在该企业任高管")
        with pytest.raises(Refused, match="利益冲突"):
            assign(user("province"), _review(), db.session.get(Application, second), user("expert2"))


def test_too_few_experts_without_conflicts_is_reported(app):
    open_review(app)
    application_id = reported(app)
    sheet_id = give(app, application_id, "expert1")
    with app.app_context():
        declare_conflict(user("expert1"), db.session.get(Assignment, sheet_id), "近三年有合作项目")
        result = assign_balanced(user("province"), _review(), 2)
        assert [(a.id, n) for a, n in result.short] == [(application_id, 1)]
        assert "可分配的专家不足" in result.message and "现有1位" in result.message


def test_a_submitted_sheet_is_neither_recused_nor_taken_back(app):
    open_review(app)
    application_id = reported(app)
    submitted = give(app, application_id, "expert1")
    draft = give(app, application_id, "expert2")
    fill(app, submitted, 8)
    fill(app, draft, 6, submit=False)
    with app.app_context():
        with pytest.raises(Refused, match="已提交，不能再申请回避"):
            declare_conflict(user("expert1"), db.session.get(Assignment, submitted), "发现利益冲突")
        with pytest.raises(Refused, match="已提交的评分表不能撤销分配"):
            unassign(user("province"), db.session.get(Assignment, submitted))
        unassign(user("province"), db.session.get(Assignment, draft))
        db.session.commit()
    assert sheet(app, draft) is None
    removed = audit_events(app, "review.unassigned")[-1]
    assert removed.before["expert"] == "expert2" and removed.before["scores"]["devices"] == "6"
