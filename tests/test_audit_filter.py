"""The audit trail's date filter: it says which dates it takes (a day or a whole month) and
reads a month in 至 as the whole month."""
import re
from datetime import datetime

from xkxl_intranet import clock

from helpers import create_application, logged_in_client

EXAMPLES = "2022-03-21、2022/3/21、2022年3月21日，或只填月份（整月）如 2022-03、2022年3月"


def _count(page: str) -> int:
    return int(re.search(r"共 (\d+) 条", page)[1])


def test_the_filter_says_which_dates_it_takes(app):
    province = logged_in_client(app, "province")
    page = province.get("/audit/").get_data(as_text=True)
    assert f"日期如 {EXAMPLES}" in page and 'placeholder="年-月-日 或 年-月"' in page
    assert "2015" not in page
    page = province.get("/audit/?date_from=2026-13-01&date_to=昨天").get_data(as_text=True)
    assert f"「起始日期」不是有效的日期：“2026-13-01”这一天不存在，请按 {EXAMPLES} 的格式填写（该日期未用于筛选）" in page
    assert f"「截止日期」不是有效的日期：“昨天”，请按 {EXAMPLES} 的格式填写" in page
    assert "2015" not in page
    assert 'value="2026-13-01"' in page and 'value="昨天"' in page  # what was typed stays in its box


def test_a_month_is_the_whole_month(app):
    clock.set_now(datetime(2022, 3, 31, 22, 30, tzinfo=clock.SHANGHAI))  # late on the month's last day
    create_application(app)
    clock.set_now(datetime(2022, 4, 1, 9, 0, tzinfo=clock.SHANGHAI))
    province = logged_in_client(app, "province")
    march = province.get("/audit/?action=application.created&date_from=2022年3月&date_to=2022-03")
    page = march.get_data(as_text=True)
    assert _count(page) == 1 and "新建申报" in page
    assert "日期：2022-03-01 至 2022-03-31（北京时间，含首尾两天）" in page
    assert 'value="2022年3月"' in page and 'value="2022-03"' in page
    day_before = province.get("/audit/?action=application.created&date_to=2022-03-30").get_data(as_text=True)
    assert _count(day_before) == 0 and "日期：2022-03-30 及以前（北京时间）" in day_before
    april = province.get("/audit/?action=application.created&date_from=2022-04").get_data(as_text=True)
    assert _count(april) == 0


def test_a_start_after_the_end_is_said(app):
    page = logged_in_client(app, "province").get("/audit/?date_from=2022-04-02&date_to=2022-04-01")
    assert "「起始日期」2022-04-02 晚于「截止日期」2022-04-01，没有符合条件的记录。" in page.get_data(as_text=True)


def test_the_user_filter_takes_a_persons_name_as_the_pages_show_it(app):
    """「成都」 finds what the 成都市 clerk (log-in name chengdu) did; the log-in name still works."""
    create_application(app)
    province = logged_in_client(app, "province")
    by_name = province.get("/audit/?action=application.created&username=成都").get_data(as_text=True)
    by_login = province.get("/audit/?action=application.created&username=chengdu").get_data(as_text=True)
    assert _count(by_name) == _count(by_login) == 1
    assert _count(province.get("/audit/?action=application.created&username=绵阳").get_data(as_text=True)) == 0


def test_an_import_links_to_the_citys_applications(app):
    """对象 of an Excel import: the city's applications, for the province filtered to that city."""
    from xkxl_intranet.audit.services import record
    from xkxl_intranet.extensions import db

    from helpers import user_by_name
    with app.app_context():
        clerk = db.session.merge(user_by_name(app, "chengdu"))
        record("reports.imported", user=clerk, object_type="city", object_id=clerk.city_id,
               city_id=clerk.city_id, summary="Excel导入：新建 1 份")
        db.session.commit()
        city_id = clerk.city_id
    page = logged_in_client(app, "province").get("/audit/?action=reports.imported").get_data(as_text=True)
    assert f'href="/applications/?city_id={city_id}">成都市 申报（Excel导入）</a>' in page
    page = logged_in_client(app, "chengdu").get("/audit/?action=reports.imported").get_data(as_text=True)
    assert 'href="/applications/">成都市 申报（Excel导入）</a>' in page
