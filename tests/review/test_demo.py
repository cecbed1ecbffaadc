"""`make run`'s demo gives two experts with assignments, ready to try."""
from __future__ import annotations

from xkxl_intranet.auth.models import User
from xkxl_intranet.extensions import db
from xkxl_intranet.review.models import Assignment, ReviewRound

from helpers import login


def test_the_demo_has_two_experts_with_sheets_to_score(app, monkeypatch, client):
    monkeypatch.setenv("XKXL_DEMO_PASSWORD", "Demo-pass-2022")
    with app.app_context():
        db.session.execute(db.delete(User))  # the demo creates its own accounts
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0, result.output
    assert "expert1" in result.output and "expert2" in result.output
    with app.app_context():
        experts = {u.username: u for u in db.session.scalars(db.select(User).where(User.role == "expert"))}
        assert set(experts) == {"expert1", "expert2"}
        sheets = db.session.scalars(db.select(Assignment)).all()
        assert {s.expert_id for s in sheets} == {experts["expert1"].id, experts["expert2"].id}
        assert {s.state for s in sheets} >= {"submitted", "draft", "assigned"}
        assert len({s.application_id for s in sheets if s.state == "submitted"}) >= 1
    again = app.test_cli_runner().invoke(args=["init-db", "--demo"])
    assert again.exit_code == 0
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ReviewRound)) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(Assignment)) == len(sheets)
    assert login(client, "expert1", "Demo-pass-2022").status_code == 303
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "我的评审" in home and "开始评分" in home
