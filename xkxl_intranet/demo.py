"""Demo data for ``make run``: accounts for every role and a round whose deadline lies ahead."""
from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from .applications.demo import seed_demo_applications
from .applications.models import Application, ProvinceMark
from .auth.models import Role, User
from .auth.passwords import generate_password
from .auth.services import create_user
from .batches.desk import accept, record_paper, return_batch
from .batches.reporting import report as report_batch
from .batches.settings import mark_round_as_demo
from .clock import now
from .extensions import db
from .review.demo import seed_demo_review
from .review.marking import mark_application
from .rounds.models import City
from .rounds.reference import landline
from .rounds.state import all_cities, batch_for_write, current_round

DEMO_CONTACTS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周丽", "吴军",
                 "徐艳", "孙涛", "胡婷", "朱鹏", "高霞", "林峰", "何燕", "郭斌", "马丽", "罗刚", "梁雪"]


def seed_demo() -> dict[str, Any]:
    """Create demo accounts (once) and mark the current round as demo. Idempotent."""
    report: dict[str, Any] = {"created": [], "password": None, "existing": 0}
    existing = {u.username for u in db.session.scalars(select(User))}
    password = os.environ.get("XKXL_DEMO_PASSWORD") or generate_password()
    accounts: list[tuple[str, str, Role, City | None]] = [
        ("province", "省厅大数据与信息化处", Role.PROVINCE, None),
        ("viewer", "厅领导（只读）", Role.VIEWER, None),
        ("admin", "系统管理员", Role.ADMIN, None),
        ("auditor", "安全审计员", Role.AUDITOR, None),
        ("expert1", "张明远", Role.EXPERT, None),
        ("expert2", "李佳音", Role.EXPERT, None),
    ]
    city: City | None
    for index, city in enumerate(all_cities()):
        accounts.append((city.pinyin, f"{city.department_name}", Role.CITY, city))
        if not city.contact_name:
            city.contact_name = DEMO_CONTACTS[index % len(DEMO_CONTACTS)]
            city.contact_phone = landline(city.code, 6_210_000 + index * 7919)
    for username, display_name, role, city in accounts:
        if username in existing:
            report["existing"] += 1
            continue
        # example.gov.cn: a reserved domain (RFC 2606's example.*), so a demo never mails anyone.
        create_user(None, username=username, display_name=display_name, role=role, city=city,
                    email=f"{username}@example.gov.cn", password=password, must_change_password=False)
        report["created"].append(username)
    if report["created"]:
        report["password"] = password
    round_ = current_round()
    if round_ is not None and not round_.is_demo:
        mark_round_as_demo(round_)
    db.session.flush()
    if round_ is not None:
        # The demo's audit events say where they came from.
        db.session.info["client_ip"] = "演示数据"
        report["applications"] = seed_demo_applications(round_)
        if report["applications"]:
            seed_demo_batches(round_)
        report["review_sheets"] = seed_demo_review(round_)
    return report


def seed_demo_batches(round_) -> None:
    """Some cities have reported, one batch is accepted with its paper copies, one is returned
    with the province's reason, and the province has marked a few platforms, so the dashboard
    shows every state."""
    province = db.session.scalar(select(User).where(User.username == "province"))
    assert province is not None  # seed_demo made the accounts first
    cities = {c.code: c for c in all_cities()}
    for code in ("510700", "510600", "510400", "511100"):  # 绵阳, 德阳, 攀枝花, 乐山 report
        city = cities[code]
        clerk = db.session.scalar(select(User).where(User.city_id == city.id, User.role == Role.CITY))
        assert clerk is not None  # seed_demo made one clerk per city
        report_batch(clerk, round_, city, scan_missing_acknowledged=True)
    deyang = batch_for_write(round_.id, cities["510600"].id)
    accept(province, deyang)
    return_batch(province, batch_for_write(round_.id, cities["511100"].id),
                 "附件1 工业设备清单未上传，请补充后重新报送；汇总表联系人的手机号请再核对。")
    today = now().date()
    record_paper(province, deyang, {"paper_forms_received_on": today - timedelta(days=1),
                                    "paper_disc_received_on": today - timedelta(days=1),
                                    "paper_summary_received_on": today}, "机要交换")
    for code, mark in (("510600", ProvinceMark.CULTIVATION), ("510400", ProvinceMark.RECOMMENDED)):
        application = db.session.scalar(select(Application).where(
            Application.city_id == cities[code].id, Application.review_state == "passed"))
        assert application is not None  # the city has just reported its passed applications
        mark_application(province, application, mark.value, "演示：综合评审意见")
    db.session.flush()
