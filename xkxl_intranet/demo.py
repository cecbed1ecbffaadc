"""Demo data for ``make run``: accounts for every role and a round whose deadline lies ahead."""
from __future__ import annotations

import os

from sqlalchemy import select

from .auth.models import Role, User
from .auth.passwords import generate_password
from .auth.services import create_user
from .extensions import db
from .rounds.models import City
from .rounds.services import all_cities, current_round, mark_round_as_demo

DEMO_CONTACTS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周丽", "吴军",
                 "徐艳", "孙涛", "胡婷", "朱鹏", "高霞", "林峰", "何燕", "郭斌", "马丽", "罗刚", "梁雪"]


def seed_demo() -> dict:
    """Create demo accounts (once) and mark the current round as demo. Idempotent."""
    report = {"created": [], "password": None, "existing": 0}
    existing = {u.username for u in db.session.scalars(select(User))}
    password = os.environ.get("XKXL_DEMO_PASSWORD") or generate_password()
    accounts: list[tuple[str, str, Role, City | None]] = [
        ("province", "省厅大数据与信息化处", Role.PROVINCE, None),
        ("viewer", "厅领导（只读）", Role.VIEWER, None),
    ]
    for index, city in enumerate(all_cities()):
        accounts.append((city.pinyin, f"{city.department_name}", Role.CITY, city))
        if not city.contact_name:
            city.contact_name = DEMO_CONTACTS[index % len(DEMO_CONTACTS)]
            city.contact_phone = f"028-8{index:02d}{(index * 7919) % 100000:05d}"[:13]
    for username, display_name, role, city in accounts:
        if username in existing:
            report["existing"] += 1
            continue
        create_user(username=username, display_name=display_name, role=role, city=city,
                    password=password, must_change_password=False)
        report["created"].append(username)
    if report["created"]:
        report["password"] = password
    round_ = current_round()
    if round_ is not None and not round_.is_demo:
        mark_round_as_demo(round_)
    db.session.flush()
    if round_ is not None:
        from .applications.demo import seed_demo_applications

        report["applications"] = seed_demo_applications(round_)
    return report
