"""Demo review for ``make run``: the 2022 round's review set up, every reported application given
to the two demo experts, one sheet submitted by each and a draft, so that the ranking, the
sheets and the prints can be tried at once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..auth.models import User
from ..clock import now
from ..domain.review_criteria import Criteria, Opinion
from ..extensions import db
from ..rounds.models import Round
from .assignment import assign_balanced
from .queries import expert_accounts, expert_sheets, review_for, reviewable_applications
from .scoring import SheetInput, save_sheet
from .setup import save_settings

DEMO_COMMENTS = {
    "resources": "接入设备和工业APP规模较大，开发者生态初具规模。",
    "technology": "核心技术自主可控，安全防护体系较完整。",
    "empowerment": "行业解决方案与平台关联紧密，园区赋能有标杆案例。",
    "contribution": "在服务属地工业稳增长方面作用明显，参与标准制定较少。",
    "sustainability": "平台业务收入增长较快，研发投入比例合理。",
}


def _demo_sheet(criteria: Criteria, shift: int, *, complete: bool = True) -> SheetInput:
    """Plausible points: a little different per indicator and per expert (out of 10, the demo
    round's scale)."""
    keys = list(criteria.indicators)
    if not complete:
        keys = keys[:9]
    scores = {key: str(min(10, 6 + (n * 7 + shift) % 5) - (0.5 if (n + shift) % 3 == 0 else 0))
              for n, key in enumerate(keys)}
    comments = {d.key: DEMO_COMMENTS.get(d.key, "评价意见。") for d in criteria.dimensions} if complete else {}
    opinion = (Opinion.RECOMMEND if shift % 2 else Opinion.CULTIVATE).value if complete else ""
    overall = "平台跨行业跨领域能力较强，建议推荐。" if complete else ""
    return SheetInput(scores, comments, opinion, overall)


def seed_demo_review(round_: Round) -> int:
    """Set up the review once (skipped when the round already has one); returns the sheets made."""
    if review_for(round_) is not None:
        return 0
    experts = [e for e in expert_accounts() if e.username in ("expert1", "expert2")]
    province = db.session.scalar(select(User).where(User.username == "province"))
    if len(experts) < 2 or province is None or not reviewable_applications(round_):
        return 0
    deadline = (now() + timedelta(days=14)).replace(hour=18, minute=0, second=0, microsecond=0)
    criteria = round_.declaration.criteria
    review = save_settings(province, round_, deadline=deadline, weights=criteria.default_weights,
                           experts_per_application=2)
    result = assign_balanced(province, review, 2)
    for shift, expert in enumerate(experts, start=1):
        sheets = expert_sheets(expert, review)
        if sheets:
            save_sheet(expert, sheets[0], _demo_sheet(criteria, shift), submit=True)
        if len(sheets) > 1 and shift == 1:
            save_sheet(expert, sheets[1], _demo_sheet(criteria, shift, complete=False))
    db.session.flush()
    return len(result.created)
