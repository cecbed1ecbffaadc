"""The comparison of one indicator across every application: ranks, sorting, htmx, the SVG chart."""
import re
from decimal import Decimal

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.indicators import FIELDS
from xkxl_intranet.reports.charts import bar_chart, competition_ranks
from xkxl_intranet.reports.compare import comparison, numeric_fields
from xkxl_intranet.rounds.state import current_round

from .helpers import make_passed, set_fields, user
from helpers import create_application


def test_competition_ranks_share_places_and_skip_blanks():
    assert competition_ranks([5, 9, None, 9, 1]) == [3, 1, None, 1, 4]
    assert competition_ranks([]) == []
    assert competition_ranks([Decimal("-1.5"), Decimal("2.00")]) == [2, 1]


def test_bar_chart_geometry_with_negative_values_and_a_limit():
    chart = bar_chart([("甲", 100, "100"), ("乙", None, ""), ("丙", -50, "-50"), ("丁", 50, "50")],
                      width=400, label_width=100, value_room=0, limit=2)
    assert [b.label for b in chart.bars] == ["甲", "丙"] and chart.truncated == 1
    first, second = chart.bars
    assert chart.zero_x == 200.0  # 300 px for the span -50 … 100: zero a third of the way in
    assert first.x == 200.0 and first.width == 200.0 and not first.negative
    assert second.negative and second.x == 100.0 and second.width == 100.0
    empty = bar_chart([])
    assert empty.bars == () and empty.height > 0


def _apps(app):
    a = make_passed(app, platform_name="甲平台")
    b = create_application(app, "mianyang", platform_name="乙平台", with_form=False)
    c = create_application(app, platform_name="丙平台", with_form=False)
    d = create_application(app, platform_name="丁平台", with_form=False)
    set_fields(app, a, apps_total=300, roi=Decimal("-3.50"))
    set_fields(app, b, apps_total=500, roi=Decimal("12.30"))
    set_fields(app, c, apps_total=300, roi=None)
    set_fields(app, d, apps_total=None, roi=None)
    return a, b, c, d


def _table_rows(html):
    body = html.split('<table class="data compare-table">', 1)[1]
    rows = re.findall(r"<tr>\s*<td class=\"num\">([^<]*)</td>\s*<td>([^<]*)</td>\s*"
                      r"<td><a [^>]*>([^<]*)</a>", body)
    return [(rank, city, name) for rank, city, name in rows]


def test_comparison_ranks_every_application_and_sorts(app, province_client):
    _apps(app)
    html = province_client.get("/reports/compare?indicator=apps_total").get_data(as_text=True)
    assert _table_rows(html) == [("1", "绵阳市", "乙平台"), ("2", "成都市", "甲平台"), ("2", "成都市", "丙平台"),
                                 ("—", "成都市", "丁平台")]
    assert "工业APP数量（个）" in html and "<svg" in html and "乙平台" in html.split("<svg", 1)[1].split("</svg>")[0]
    assert '<option value="apps_total" selected>' in html
    assert "3/4" not in html and "已填报" in html
    ascending = province_client.get("/reports/compare?indicator=apps_total&sort=rank&desc=1")
    ascending = ascending.get_data(as_text=True)
    assert [r[2] for r in _table_rows(ascending)][:3] == ["丙平台", "甲平台", "乙平台"]
    assert [r[2] for r in _table_rows(ascending)][-1] == "丁平台"  # blanks stay last
    by_city = province_client.get("/reports/compare?indicator=apps_total&sort=city").get_data(as_text=True)
    assert [r[1] for r in _table_rows(by_city)] == ["成都市", "成都市", "成都市", "绵阳市"]


def test_negative_indicator_and_scope(app, viewer_client):
    _apps(app)
    html = viewer_client.get("/reports/compare?indicator=roi").get_data(as_text=True)
    assert _table_rows(html)[:2] == [("1", "绵阳市", "乙平台"), ("2", "成都市", "甲平台")]
    assert "-3.50" in html and 'fill="#b42318"' in html  # the loss drawn in red, left of zero
    passed = viewer_client.get("/reports/compare?indicator=apps_total&scope=passed").get_data(as_text=True)
    assert [r[2] for r in _table_rows(passed)] == ["甲平台"]


def test_htmx_swaps_only_the_table_and_nothing_is_loaded_from_outside(app, province_client):
    _apps(app)
    fragment = province_client.get("/reports/compare?indicator=models_total",
                                    headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "工业模型数量（个）" in fragment and "<svg" in fragment
    page = province_client.get("/reports/compare").get_data(as_text=True)
    assert 'hx-get="/reports/compare"' in page and 'hx-target="#compare"' in page
    assert not re.search(r"""(src|href)=["']https?://""", page)
    assert "<script>" not in page and "onclick" not in page
    for f in numeric_fields(FORM_2022):
        assert f'<option value="{f.key}"' in page
    assert '<option value="enterprise_name"' not in page and '<option value="technologies"' not in page
    # an unknown indicator falls back to the default instead of failing
    assert province_client.get("/reports/compare?indicator=enterprise_name").status_code == 200


def test_comparison_service_is_scoped_to_the_acting_user(app):
    a, b, c, d = _apps(app)
    set_fields(app, a, revenue_2021=Decimal("12345.6"))
    with app.app_context():
        round_ = current_round()
        everyone = comparison(user("viewer"), round_, "apps_total")
        assert [r.application_id for r in everyone.rows] == [b, a, c, d]
        assert (everyone.total, everyone.average, everyone.highest) == (1100, Decimal("366.67"), 500)
        assert everyone.filled == 3 and everyone.text(everyone.total) == "1,100"
        own = comparison(user("chengdu"), round_, "apps_total", sort="city")
        assert {r.city_name for r in own.rows} == {"成都市"} and [r.rank for r in own.rows] == [1, 1, None]
        revenue = comparison(user("province"), round_, "revenue_2021", scope="passed")
        assert [(r.application_id, r.text) for r in revenue.rows] == [(a, "12,345.60")]
        fallback = comparison(user("province"), round_, "enterprise_name", scope="x", sort="y")
        assert (fallback.field.key, fallback.scope, fallback.sort) == ("apps_total", "all", "rank")


def test_every_indicator_on_the_compare_page_carries_its_declared_unit(app, province_client):
    """The walk: 从业人员数量 showed no 「（人）」 (its unit 人 is a letter of its label)."""
    make_passed(app, platform_name="甲平台")
    assert FIELDS["employees"].heading == "从业人员数量（人）"
    with_units = [f for f in numeric_fields(FORM_2022) if f.unit]
    assert with_units and all(f"（{f.unit}）" in f.heading for f in with_units)
    page = province_client.get("/reports/compare?indicator=employees").get_data(as_text=True)
    assert ">从业人员数量（人）</option>" in page
    assert "<figcaption>从业人员数量（人）" in page and re.search(r">从业人员数量（人）[ ▲▼]*</a></th>", page)
    for stat in ("合计", "平均", "最高"):
        assert f'<dt class="stat-l">{stat}（人）</dt>' in page
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]*)</option>', page)
    for key, text in options:
        if key in FIELDS and FIELDS[key].unit:
            assert text.endswith(f"（{FIELDS[key].unit}）"), (key, text)
