"""Realistic demo applications (fictitious enterprises) so that a newcomer sees every state."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from ..auth.models import User
from ..domain.credit_code import make_credit_code
from ..domain.parsing import parse_input
from ..extensions import db
from ..files.form_reading import read_form_file
from ..files.form_template import form_docx
from ..files.reading_state import ReadingState
from ..files.storage import path_for
from ..rounds.models import City, Round
from ..rounds.reference import landline
from .document import blocks_for, document_changed
from .evaluation import evaluate
from .materials import store_bytes
from .models import Application, ReviewState
from .operations import acknowledge_warning, save_application, set_review


def figures(scale: int, *, seed: int = 0) -> dict[str, Any]:
    """A complete, consistent set of indicator figures that passes every rule."""
    s, k = scale, seed
    devices_total = 1200 * s + 37 * k
    devices = [devices_total // 2, devices_total // 4, devices_total // 8]
    devices.append(devices_total - sum(devices))
    public = devices_total * 3 // 5
    models_total = 240 * s + 11 * k
    models = [models_total // 4] * 3
    models.append(models_total - sum(models))
    apps_total = 180 * s + 9 * k
    apps_self = apps_total * 2 // 3
    kinds = [apps_total // 9] * 8
    kinds.append(apps_total - sum(kinds))
    users = 800 * s + 13 * k
    sales = Decimal(52000 * s + 1000 * k)
    rnd_2021 = (sales * Decimal("0.06")).quantize(Decimal("0.01"))
    revenue_2021 = (sales * Decimal("0.35")).quantize(Decimal("0.01"))
    values: dict[str, object] = {
        "founded_on": f"{2008 + k % 8}-0{1 + k % 8}-15", "contact_title": "数字化事业部总经理",
        "total_assets": str(sales * 2), "debt_ratio": f"{40 + k}.5", "credit_rating": "AAA",
        "sales_last_year": str(sales), "tax_last_year": str((sales * Decimal("0.04")).quantize(Decimal("0.01"))),
        "profit_last_year": str((sales * Decimal("0.08")).quantize(Decimal("0.01"))),
        "built_on": f"{2016 + k % 4}-06", "investment": str(Decimal(8000 * s)), "build_mode": "自建",
        "iaas_mode": "租用", "iaas_provider": "中国电信天翼云",
        "devices_total": devices_total, "devices_operating": devices[0], "devices_processing": devices[1],
        "devices_mobile": devices[2], "devices_other": devices[3], "devices_public_cloud": public,
        "devices_private_cloud": devices_total - public, "devices_daily_active_public": public * 4 // 5,
        "protocols": 60 + k, "models_total": models_total, "models_rd_sim": models[0],
        "models_process": models[1], "models_mechanism": models[2], "models_algorithm": models[3],
        "apps_total": apps_total, "apps_self": apps_self, "apps_partner": apps_total - apps_self,
        "apps_platform_built": apps_total * 3 // 4, "apps_cloudified": apps_total - apps_total * 3 // 4,
        "apps_safety": kinds[0], "apps_energy": kinds[1], "apps_quality": kinds[2], "apps_supply": kinds[3],
        "apps_rnd": kinds[4], "apps_production": kinds[5], "apps_operation": kinds[6],
        "apps_logistics": kinds[7], "apps_maintenance": kinds[8], "apps_monthly_active": apps_total * 2 // 3,
        "users_registered": users, "users_industrial": users * 3 // 4, "users_paying": users // 5,
        "developers_registered": 3000 * s, "developers_active": 900 * s, "patents": 40 + 3 * k,
        "software_copyrights": 120 + 5 * k, "sec_device_access": "是", "sec_data": "是", "sec_code": "是",
        "sec_application": "是", "sec_access": "是", "killer_cross_platform": "是",
        "killer_daily_calls": 25000 * s, "killer_monthly_revenue": str(Decimal(85 * s) + Decimal("0.50")),
        "killer_awards": 2 + k % 3, "industries_covered": min(22, 8 + k), "domains_covered": min(9, 5 + k % 4),
        "solutions": 30 + k, "technologies": ["5G", "大数据", "人工智能", "数字孪生"][: 2 + k % 3],
        "parks_served": 12 + k, "parks_national": 2, "parks_provincial": 4, "cases_ministry": 1 + k % 2,
        "cases_provincial": 3 + k % 3, "sme_served": 1500 * s, "sme_contract_amount": str(Decimal(3200 * s)),
        "honors_stability": 1, "region_honors": 1, "dual_solutions": 6, "dual_industries": 5, "dual_domains": 3,
        "std_national": 3, "std_national_led": 1, "std_industry": 5, "std_industry_led": 2,
        "std_international": 0, "std_international_led": 0, "revenue_3y": str(revenue_2021 * Decimal("2.6")),
        "revenue_2021": str(revenue_2021), "cost_3y": str((revenue_2021 * Decimal("1.9")).quantize(Decimal("0.01"))),
        "cost_2021": str((revenue_2021 * Decimal("0.7")).quantize(Decimal("0.01"))), "roi": f"{12 + k}.3",
        "listed_or_vc": "是" if k % 2 else "否",
        "rnd_2020": str((rnd_2021 * Decimal("0.85")).quantize(Decimal("0.01"))), "rnd_2021": str(rnd_2021),
        "rnd_ratio_2020": "5.8", "rnd_ratio_2021": "6.00", "employees": 2600 * s + 50 * k,
    }
    return values


def _enterprise(name, code_city, body, platform, contact, mobile, address, **extra) -> dict[str, Any]:
    return {"enterprise_name": name, "credit_code": make_credit_code(code_city, body), "address": address,
            "contact_name": contact, "contact_mobile": mobile,
            "contact_email": f"{mobile[-6:]}@example.com.cn", "platform_name": platform, "builder": name, **extra}


# (city code, enterprise, figures scale, what to show)
DEMO_APPLICATIONS = (
    ("510100", _enterprise("四川蜀数智造科技有限公司", "510100", "MA61Q2X7", "蜀数工业互联网平台", "刘晓东",
                           "13808012345", "成都市高新区天府大道中段1366号"), 3, "passed"),
    ("510100", _enterprise("成都天府云联信息技术有限公司", "510100", "MA62B8K3", "天府云联工业互联网平台", "陈雪",
                           "13980023456", "成都市天府新区兴隆街道湖畔路西段99号"), 2, "warnings"),
    ("510100", _enterprise("成都锦城智能装备有限公司", "510100", "MA6C9H2N", "锦城智造云", "王建",
                           "13668112233", "成都市龙泉驿区车城东七路168号"), 1, "incomplete"),
    ("510700", _enterprise("绵州智联科技股份有限公司", "510700", "MA63D1R5", "智联家电工业互联网平台", "张敏",
                           "13908161234", "绵阳市高新区绵兴东路35号"), 3, "passed"),
    ("510700", _enterprise("绵阳科创数据服务有限公司", "510700", "MA6E2P8W", "科城工业大脑", "李强",
                           "18281612345", "绵阳市涪城区科创园区创业路8号"), 1, "not_recommended"),
    ("510600", _enterprise("德阳重装智能科技有限公司", "510600", "MA64F5T2", "重装云工业互联网平台", "周涛",
                           "13550612345", "德阳市旌阳区珠江西路501号"), 2, "passed"),
    ("511500", _enterprise("宜宾酒链数字科技有限公司", "511500", "MA65G7U9", "酒链云白酒产业互联网平台", "杨帆",
                           "13890912345", "宜宾市叙州区长江大道西段12号"), 2, "draft"),
    # Registered in 成都 and also put forward by 泸州: a cross-city warning and a duplicate.
    ("510500", _enterprise("四川蜀数智造科技有限公司", "510100", "MA61Q2X7", "蜀数工业互联网平台（泸州节点）", "赵琳",
                           "13882712345", "泸州市江阳区酒城大道三段18号"), 1, "duplicate"),
    ("510400", _enterprise("攀西钒钛数字科技有限公司", "510400", "MA66H3W4", "钒钛云工业互联网平台", "吴刚",
                           "13982312345", "攀枝花市东区炳草岗大街88号"), 2, "passed"),
    # Just created: only the enterprise typed, its 申报书 uploaded; the figures are in the document.
    ("510100", _enterprise("成都蓉创工业软件有限公司", "510100", "MA6F7K1D", "蓉创工业互联网平台", "孙悦",
                           "13708012345", "成都市武侯区武科西一路66号"), 2, "from_document"),
    # Reported, then returned by the province (see demo.seed_demo_batches).
    ("511100", _enterprise("乐山晶硅智联科技有限公司", "511100", "MA67J2K8", "晶硅云光伏产业互联网平台", "郑伟",
                           "13795612345", "乐山市五通桥区竹根镇新华路66号"), 2, "passed"),
)


# The enterprise's 申报书 says something else than the clerk typed (text as written in it):
DIFFERENT_DOCUMENTS = {
    # 宜宾, a draft: two figures and the sales differ; the clerk sees the warnings and the panel.
    "宜宾酒链数字科技有限公司": {"devices_total": "2,473", "models_total": "４９６", "sales_last_year": "106,000.00"},
    # 德阳, reported and accepted: the difference was acknowledged before 初审, the province sees it.
    "德阳重装智能科技有限公司": {"employees": "5,250"},
}
DIFFERENCE_NOTES = {"德阳重装智能科技有限公司": "申报书中从业人员含劳务派遣人员，申报表按劳动合同人数填写，已与企业核实"}


def demo_form_docx(application: Application, round_: Round, changes: dict[str, Any] | None = None) -> bytes:
    """The enterprise's 申报书: the template filled in (with ``changes`` where it differs)."""
    return form_docx(blocks_for(round_, application, changes))


def seed_demo_applications(round_: Round) -> int:
    """Create the demo applications once (skipped when the round already has applications)."""
    if db.session.scalar(select(func.count()).select_from(Application)
                         .where(Application.round_id == round_.id)):
        return 0
    created = 0
    cities = {c.code: c for c in db.session.scalars(select(City))}
    for seed, (city_code, enterprise, scale, show) in enumerate(DEMO_APPLICATIONS):
        city = cities[city_code]
        clerk = db.session.scalar(select(User).where(User.city_id == city.id, User.role == "city"))
        assert clerk is not None  # the demo's accounts come first: one clerk per city
        # The enterprise's office line is in the submitting city's own area code.
        values = {**figures(scale, seed=seed), **enterprise,
                  "contact_phone": landline(city_code, int(enterprise["contact_mobile"][-7:]))}
        in_document = {}
        if show == "from_document":
            in_document = {k: v for k, v in values.items() if k not in enterprise}
            values = dict(enterprise)
        if show == "warnings":
            values["apps_safety"] = int(values["apps_safety"]) + 5  # 9 kinds no longer add up: W
            values["rnd_ratio_2021"] = "9.5"  # far from rnd_2021 / sales: W
        if show == "incomplete":
            for key in ("models_total", "models_rd_sim", "apps_total", "users_registered", "revenue_3y",
                        "revenue_2021", "employees", "contact_mobile"):
                values.pop(key, None)
            values["devices_operating"] = int(values["devices_operating"]) + 10  # sub-total wrong: E
        application, evaluation = save_application(clerk, None, parse_input(values, round_.form.fields), city=city, round_=round_,
                                                   expected_version=None)
        if application is not None and show != "incomplete":
            _upload_form(clerk, application, round_, in_document)
        if show == "passed" and application is not None:
            set_review(clerk, application, ReviewState.PASSED, "材料齐全，指标核实无误，同意推荐。")
        if show == "not_recommended" and application is not None:
            set_review(clerk, application, ReviewState.NOT_RECOMMENDED,
                       "平台规模尚小，跨行业能力不足，本年度暂不推荐。")
        if show == "duplicate" and application is not None:
            acknowledge_warning(clerk, application, "credit_code:other_city",
                                "企业在泸州设有生产基地，由泸州市推荐")
        created += application is not None
    db.session.flush()
    return created


def _upload_form(clerk: User, application: Application, round_: Round, in_document: dict[str, Any]) -> None:
    """Upload the demo 申报书: the saved values, what ``in_document`` adds (figures the clerk has
    not typed yet) and where the enterprise's document differs."""
    name = application.enterprise_name
    assert name is not None  # every demo enterprise has its name
    changes = {k: v if isinstance(v, list) else str(v) for k, v in in_document.items()}
    changes |= DIFFERENT_DOCUMENTS.get(name, {})
    stored = store_bytes(clerk, demo_form_docx(application, round_, changes), f"{name}_申报书.docx",
                         category="form", application=application)
    # Read here and now, as the worker would: the demo goes on to acknowledge the differences
    # and report batches, which waits for readings. (The demo is made by `init-db --demo`, a
    # command, never by the web process.)
    stored.reading = read_form_file(path_for(stored.storage_name), stored.kind, round_.form)
    stored.reading_state = ReadingState.DONE.value
    document_changed(clerk, application)
    if name in DIFFERENCE_NOTES:
        for rule in [w.rule for w in evaluate(application).open_warnings if w.rule.startswith("document:")]:
            acknowledge_warning(clerk, application, rule, DIFFERENCE_NOTES[name])
