"""The indicator template and its import: generated from the declaration, round trips exactly,
every problem named by sheet and cell, all or nothing, bad files refused, the upload kept
under a random token between preview and confirm."""
import io
import os
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from xkxl_intranet.applications.models import Application
from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.errors import NotFound, Refused
from xkxl_intranet.domain.indicators import FIELDS, Kind
from xkxl_intranet.domain.parsing import parse_field
from xkxl_intranet.extensions import db
from xkxl_intranet.reports import import_store, imports, template_reader
from xkxl_intranet.reports.layouts import template_rows
from xkxl_intranet.rounds.models import City
from xkxl_intranet.rounds.state import current_round

from .helpers import (
    TECH_PREFIX,
    as_bytes,
    confirm,
    count_applications,
    events,
    fill,
    imports_dir,
    make_passed,
    problems,
    row_of,
    set_batch_state,
    template,
    upload,
    user,
)
from helpers import application_values, create_application, get_application

# ---- the template --------------------------------------------------------------------------------

def test_template_is_generated_from_the_one_declaration(app, city_client):
    wb = template(city_client)
    assert wb.sheetnames == ["指标", "模板信息"]
    meta = wb["模板信息"]
    assert meta.sheet_state == "veryHidden"
    assert meta["A1"].value == "template_id" and meta["B1"].value == "xkxl-indicator-template"
    ws = wb["指标"]
    assert ws.column_dimensions["A"].hidden
    keys = [c.value for (c,) in ws.iter_rows(min_row=4, min_col=1, max_col=1) if c.value]
    assert keys == [r.key for r in template_rows(FORM_2022) if r.key]
    assert set(keys) >= set(FIELDS) - {"technologies"}
    technologies = [TECH_PREFIX + t for t in FIELDS["technologies"].choices]
    assert [k for k in keys if k.startswith(TECH_PREFIX)] == technologies
    for key, f in FIELDS.items():
        if f.kind is Kind.MULTI:
            continue
        r = row_of(ws, key)
        assert ws[f"C{r}"].value == ("*" if f.required else "") + f.label
        assert (ws[f"D{r}"].value or "") == f.unit
        assert ws[f"C{r}"].comment is not None and f.label in ws[f"C{r}"].comment.text
    apps_total = ws[f"C{row_of(ws, 'apps_total')}"].comment.text
    assert ("规则（大于为错误、小于为提示，系统校核）：自研 + 生态伙伴 之和不能大于「工业APP数量」" in apps_total
            and "工业APP月活跃数量" in apps_total)
    assert "如果没有可填“无”" in ws[f"C{row_of(ws, 'devices_total')}"].comment.text
    assert "必填" in ws[f"E{row_of(ws, 'platform_name')}"].value
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}

    def validation_for(key):
        r = row_of(ws, key)
        return next(dv for ref, dv in validations.items() if f"F{r}:" in ref)

    assert validation_for("sec_data").formula1 == '"是,否"'
    assert validation_for(TECH_PREFIX + "5G").formula1 == '"是,否"'
    assert validation_for("build_mode").formula1 == '"自建,合作共建"'
    assert validation_for("iaas_mode").formula1 == '"自建,租用"'
    assert validation_for("apps_total").type == "whole"
    assert ws[f"F{row_of(ws, 'credit_code')}"].number_format == "@"
    assert ws[f"F{row_of(ws, 'contact_mobile')}"].number_format == "@"
    assert ws.freeze_panes == "F4"
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$3:$3"
    assert ws["F3"].value == "申报1"


def test_template_is_for_city_clerks_only(app, province_client, viewer_client):
    for client in (province_client, viewer_client):
        assert client.get("/reports/template.xlsx").status_code == 404
        assert client.get("/reports/import").status_code == 404
        assert client.post("/reports/import", data={}).status_code == 404


# ---- round trips ---------------------------------------------------------------------------------

def test_new_application_round_trips_with_exact_values(app, city_client):
    values = application_values(sales_last_year="52000.07", revenue_2021="18200.01", roi="-3.5",
                                founded_on="2015-03-01", contact_fax="028-86264037",
                                technologies=["5G", "数字孪生", "工业AR/VR"], build_mode="合作共建",
                                build_partner="中国电信四川公司", rnd_ratio_2021="6.00")
    wb = template(city_client)
    fill(wb["指标"], "F", values)
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    assert "将新建" in page and "确认导入" in page and "disabled" not in page.split("确认导入")[0][-60:]
    assert count_applications(app) == 0  # nothing before confirmation
    page = confirm(city_client).get_data(as_text=True)
    assert "导入完成：新建 1 份" in page
    with app.app_context():
        stored = db.session.scalar(db.select(Application))
        for key, f in FIELDS.items():
            expected = parse_field(f, values.get(key))
            actual = stored.values()[key]
            if f.kind is Kind.MULTI:
                actual = tuple(actual) if actual else None
            if key == "credit_code":
                expected = expected.upper()
            assert actual == expected, key
        assert stored.values()["sales_last_year"] == Decimal("52000.07") and str(stored.values()["sales_last_year"]) == "52000.07"
        assert stored.values()["roi"] == Decimal("-3.50")
        assert stored.review_state == "draft" and stored.city.code == "510100"
    assert len(events(app, "application.created")) == 1
    imported = events(app, "reports.imported")
    assert imported[-1].after["created"] and imported[-1].city_id is not None
    assert list(imports_dir(app).iterdir()) == []  # deleted after confirm


def test_filled_template_updates_matched_application_and_leaves_others(app, city_client):
    passed = make_passed(app, platform_name="蜀数工业互联网平台")
    other = create_application(app, platform_name="天府工业互联网平台")
    wb = template(city_client, filled=True)
    ws = wb["指标"]
    assert ws[f"F{row_of(ws, 'platform_name')}"].value == "蜀数工业互联网平台"
    assert ws[f"G{row_of(ws, 'platform_name')}"].value == "天府工业互联网平台"
    ws[f"G{row_of(ws, 'employees')}"] = 4321
    ws[f"G{row_of(ws, 'revenue_2021')}"] = Decimal("20000.50")
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    assert "无变化" in page and "将更新" in page
    assert "从业人员数量" in page and "2021年平台相关的业务收入（万元）" in page
    version = get_application(app, passed).version
    confirm(city_client)
    updated = get_application(app, other)
    assert updated.values()["employees"] == 4321 and updated.values()["revenue_2021"] == Decimal("20000.50")
    untouched = get_application(app, passed)
    assert untouched.version == version and untouched.review_state == "passed"
    assert count_applications(app) == 2
    changes = events(app, "application.updated")
    assert len(changes) == 1 and set(changes[0].after) == {"employees", "revenue_2021"}


def test_percent_typed_with_excel_percent_format_is_read_as_percent(app, city_client, tmp_path):
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    cell = ws[f"F{row_of(ws, 'debt_ratio')}"]
    cell.value, cell.number_format = 0.425, "0.0%"
    path = tmp_path / "x.xlsx"
    path.write_bytes(as_bytes(wb))
    result = template_reader.read_workbook(path, form=FORM_2022)
    assert not result.blocked
    assert result.columns[0].parsed["debt_ratio"] == Decimal("42.50")


# ---- problems, by sheet and cell -----------------------------------------------------------------

def test_unreadable_values_block_the_import_and_name_their_cells(app, city_client):
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    fill(ws, "G", application_values())
    ws[f"F{row_of(ws, 'apps_total')}"] = "12a"
    ws[f"G{row_of(ws, 'founded_on')}"] = "去年"
    ws[f"G{row_of(ws, 'sec_data')}"] = "也许"
    ws[f"F{row_of(ws, TECH_PREFIX + '区块链')}"] = "可能"
    ws[f"G{row_of(ws, 'contact_mobile')}"] = "1380000"
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    found = problems(page)
    assert f"指标!F{row_of(ws, 'apps_total')} 「工业APP数量」不是有效的数字：“12a”" in found
    assert any(p.startswith(f"指标!G{row_of(ws, 'founded_on')} 「成立时间」") for p in found)
    assert f"指标!G{row_of(ws, 'sec_data')} 「具有数据安全防护」请填写“是”或“否”：“也许”" in found
    assert f"指标!F{row_of(ws, TECH_PREFIX + '区块链')} 「运用技术：区块链」请填写“是”或“否”：“可能”" in found
    assert any(p.startswith(f"指标!G{row_of(ws, 'contact_mobile')} 「手机」应为11位手机号码") for p in found)
    assert found and all(re.match(r"指标![A-Z]+\d+ ", p) for p in found)  # every one names its cell
    assert "未导入任何数据" in page
    assert re.search(r'<button class="button primary" type="submit" disabled>确认导入', page)
    forced = confirm(city_client).get_data(as_text=True)
    assert "未导入任何数据" in forced and "指标!F" in forced
    assert count_applications(app) == 0


def test_rule_findings_are_listed_by_cell_and_the_clerk_may_still_import(app, city_client):
    values = application_values()
    apps_total = int(values["apps_total"])
    values["apps_self"] = str(int(values["apps_self"]) + 5)  # 自研 + 生态伙伴 > 总数: an error
    values["parks_national"] = str(int(values["parks_served"]) + 1)  # a warning
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", values)
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    found = problems(page)
    expected = (f"指标!F{row_of(ws, 'apps_total')} 工业APP数量：分项合计 {apps_total + 5} 大于总数 {apps_total}"
                "（自研 + 生态伙伴），其中各项之和不能大于总数（申报书未规定此项，系系统校核）")
    assert expected in found
    assert any(p.startswith(f"指标!F{row_of(ws, 'parks_national')} 「服务园区获评国家级") for p in found)
    assert "可以导入" in page and "未导入任何数据" not in page
    confirm(city_client)
    with app.app_context():
        stored = db.session.scalar(db.select(Application))
        assert stored.review_state == "draft" and stored.error_count >= 1 and stored.open_warning_count >= 1


def test_formulas_are_refused_by_cell(app, city_client):
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    r = row_of(ws, "apps_total")
    ws[f"F{r}"] = f"=F{r + 1}+F{r + 2}"
    found = problems(upload(city_client, as_bytes(wb)).get_data(as_text=True))
    assert f"指标!F{r} 「{FIELDS['apps_total'].label}」含公式，请复制后粘贴为数值" in found  # the field named


def test_what_blocks_comes_first_with_the_counts_and_the_hints_folded_after(app, city_client):
    """The walk: 80 yellow hints came first and the 6 blocking problems at the bottom."""
    wb = template(city_client)
    ws = wb["指标"]
    for column in ("F", "G", "H"):
        values = application_values()
        values["parks_national"] = str(int(values["parks_served"]) + 1)  # a hint in each column
        fill(ws, column, values)
    ws[f"H{row_of(ws, 'apps_total')}"] = "很多"  # blocks, in the last column: after the hints in sheet order
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    assert "有 1 处问题须修改后才能导入；另有 3 条提示" in page and "未导入任何数据" in page
    blocking = page.index('id="import-blocking"')
    assert blocking < page.index('<details class="import-hints">') < page.index('id="import-hints"')
    assert "<details class=\"import-hints\" open" not in page  # folded while something blocks
    block_rows = problems(page[blocking:page.index("</table>", blocking)])
    label = FIELDS["apps_total"].label
    assert block_rows == [f"指标!H{row_of(ws, 'apps_total')} 「{label}」请填写数字：“很多”"]
    assert "不要使用" not in page
    table = page[blocking:page.index("</table>", blocking)]
    assert re.search(r'<td class="mono nowrap">指标!H\d+</td>\s*<td>.*?</td>\s*<td>[^<]+</td>', table, re.S)  # 申报 named


def test_merged_cells_in_the_data_area_are_refused(app, city_client):
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    r = row_of(ws, "address")
    ws.merge_cells(f"F{r}:G{r}")
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    assert f"指标!F{r}:G{r} 为合并单元格：数据区不能合并单元格，请取消合并后重新上传" in problems(page)


def test_missing_and_duplicate_credit_codes(app, city_client):
    values = application_values()
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", values)
    fill(ws, "G", {**values, "platform_name": "另一平台"})
    fill(ws, "H", {**application_values(), "credit_code": ""})
    r = row_of(ws, "credit_code")
    found = problems(upload(city_client, as_bytes(wb)).get_data(as_text=True))
    assert f"指标!G{r} 「统一社会信用代码」与 指标!F{r} 相同：同一企业只能填写一列" in found
    assert f"指标!H{r} 「统一社会信用代码」导入时必须填写（用于匹配本市（州）已有的申报）" in found


def test_credit_code_stored_as_a_number_is_refused(app, city_client):
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    r = row_of(ws, "credit_code")
    ws[f"F{r}"] = 915101007000000000
    found = problems(upload(city_client, as_bytes(wb)).get_data(as_text=True))
    assert any(p.startswith(f"指标!F{r} 「统一社会信用代码」被 Excel 存成了数字") for p in found)


# ---- bad files -----------------------------------------------------------------------------------

def _page_after(client, data, name="指标模板.xlsx"):
    return upload(client, data, name).get_data(as_text=True)


def test_bad_files_are_refused_with_clear_messages(app, city_client):
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    assert "不是 Excel（.xlsx）文件（实际是PDF文件）" in _page_after(city_client, pdf)
    assert "是空文件" in _page_after(city_client, b"")
    assert "不是 Excel（.xlsx）文件" in _page_after(city_client, "序号,企业名称\n1,某公司\n".encode(), "指标.csv")
    plain = Workbook()
    plain.active["A1"] = "企业名称"
    assert "不是本系统的指标模板（缺少模板标识）" in _page_after(city_client, as_bytes(plain))
    wb = template(city_client)
    wb["模板信息"]["B3"] = "0000000000000000"
    assert "旧版本的指标模板" in _page_after(city_client, as_bytes(wb))
    wb = template(city_client)
    wb["模板信息"]["B4"] = 2021
    assert "2021年批次的模板" in _page_after(city_client, as_bytes(wb))
    wb = template(city_client)
    wb["指标"].title = "Sheet1"
    assert "缺少工作表“指标”" in _page_after(city_client, as_bytes(wb))
    wb = template(city_client)
    assert "没有找到任何申报数据" in _page_after(city_client, as_bytes(wb))
    truncated = as_bytes(template(city_client))[:3000]
    assert "已损坏" in _page_after(city_client, truncated)
    assert count_applications(app) == 0


def test_deleted_rows_and_unknown_keys_are_refused(app, city_client):
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    ws.delete_rows(row_of(ws, "contact_fax"))
    assert "模板中缺少以下指标行（请勿删除行）：传真" in _page_after(city_client, as_bytes(wb))
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    r = row_of(ws, "contact_fax")
    ws[f"A{r}"] = "fax_number"
    page = _page_after(city_client, as_bytes(wb))
    assert f"指标!A{r} 无法识别的指标行（代码“fax_number”），请勿修改模板的隐藏列 A" in problems(page)


def test_huge_sheets_and_files_are_refused(app, city_client):
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    ws["F5000"] = "x"
    assert "工作表“指标”过大：最多 400 行" in _page_after(city_client, as_bytes(wb))
    wb = template(city_client)
    ws = wb["指标"]
    fill(ws, "F", application_values())
    ws.cell(row=10, column=200, value="x")
    assert "当前用到第" in _page_after(city_client, as_bytes(wb))
    big = os.urandom(template_reader.MAX_FILE_BYTES + 1024)
    response = city_client.post("/reports/import", data={"file": (io.BytesIO(big), "大文件.xlsx")},
                                content_type="multipart/form-data", follow_redirects=True)
    assert "文件过大：指标模板不超过 5 MB" in response.get_data(as_text=True)
    assert not imports_dir(app).exists() or list(imports_dir(app).iterdir()) == []


CONTENT_TYPES = ('<?xml version="1.0"?>'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Override PartName="/xl/workbook.xml" ContentType="application/'
                 'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')


def test_zip_bombs_are_refused(app, tmp_path):
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (template_reader.MAX_UNCOMPRESSED_BYTES + 1))
    result = template_reader.read_workbook(path, form=FORM_2022, name="bomb.xlsx")
    assert result.blocked and "内容过多" in result.problems[0].message


# ---- between preview and confirm -----------------------------------------------------------------

def test_upload_is_kept_under_a_random_token_and_removed_on_cancel(app, city_client):
    wb = template(city_client)
    fill(wb["指标"], "F", application_values())
    upload(city_client, as_bytes(wb), "../../etc/passwd.xlsx")
    stored = list(imports_dir(app).iterdir())  # what was read, not the workbook
    assert len(stored) == 1 and re.fullmatch(r"[A-Za-z0-9_-]{32}\.json", stored[0].name)
    with city_client.session_transaction() as sess:
        entry = sess["reports_import"]
        assert entry["token"] == stored[0].stem and entry["name"] == "passwd.xlsx"
    # a second upload replaces the first
    upload(city_client, as_bytes(wb))
    assert len(list(imports_dir(app).iterdir())) == 1
    # a token that is not the session's is never used
    response = city_client.post("/reports/import/confirm", data={"token": "../../instance/xkxl"},
                                follow_redirects=True)
    assert "没有待确认的导入" in response.get_data(as_text=True) and count_applications(app) == 0
    city_client.post("/reports/import/cancel", data={})
    assert list(imports_dir(app).iterdir()) == []
    # a forged session entry never names a path
    with city_client.session_transaction() as sess:
        sess["reports_import"] = {"token": "../" + "a" * 29, "name": "x"}
    assert "3. 检查结果" not in city_client.get("/reports/import").get_data(as_text=True)
    with city_client.session_transaction() as sess:
        assert "reports_import" not in sess
    assert count_applications(app) == 0


def test_old_uploads_are_swept_after_a_day(app, city_client):
    folder = imports_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / ("o" * 32 + ".xlsx"), folder / ("f" * 32 + ".xlsx")
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    day_ago = time.time() - 24 * 3600 - 60
    os.utime(old, (day_ago, day_ago))
    wb = template(city_client)
    fill(wb["指标"], "F", application_values())
    upload(city_client, as_bytes(wb))
    assert not old.exists() and fresh.exists()


def test_confirm_rechecks_and_refuses_when_data_changed_since_the_preview(app, city_client):
    existing = create_application(app)
    wb = template(city_client, filled=True)
    ws = wb["指标"]
    ws[f"F{row_of(ws, 'employees')}"] = 999
    upload(city_client, as_bytes(wb))
    # someone edits the application after the preview was shown
    values = application_values(employees="1000")
    values["credit_code"] = get_application(app, existing).credit_code
    response = city_client.post(f"/applications/{existing}/edit",
                                data={**values, "version": get_application(app, existing).version})
    assert response.status_code == 303
    page = confirm(city_client).get_data(as_text=True)
    assert "自预览以来本市（州）的申报或上传的文件已有变化" in page
    assert get_application(app, existing).values()["employees"] == 1000
    page = confirm(city_client).get_data(as_text=True)  # the new preview may be confirmed
    assert "导入完成" in page and get_application(app, existing).values()["employees"] == 999


def test_import_is_all_or_nothing(app, city_client, monkeypatch):
    wb = template(city_client)
    fill(wb["指标"], "F", application_values())
    fill(wb["指标"], "G", application_values())
    upload(city_client, as_bytes(wb))
    calls = {"n": 0}
    original = imports.save_application

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Refused("模拟的保存失败")
        return original(*args, **kwargs)

    monkeypatch.setattr(imports, "save_application", failing)
    page = confirm(city_client).get_data(as_text=True)
    assert "G列" in page and "模拟的保存失败" in page
    assert count_applications(app) == 0 and events(app, "application.created") == []


def test_reported_city_cannot_import(app, city_client):
    make_passed(app)
    wb = template(city_client, filled=True)
    set_batch_state(app, "510100", "reported")
    page = city_client.get("/reports/import").get_data(as_text=True)
    assert "已报送，申报为只读，不能导入" in page and "上传并检查" not in page
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    assert "申报已报送，申报内容为只读" in page  # a direct POST gets the same refusal
    assert not list((Path(app.instance_path) / "imports").glob("*"))  # and nothing was stored


def test_another_citys_applications_are_never_matched(app, city_client):
    other = make_passed(app, "mianyang")
    code = get_application(app, other).credit_code
    wb = template(city_client)
    fill(wb["指标"], "F", application_values(credit_code=code))
    page = upload(city_client, as_bytes(wb)).get_data(as_text=True)
    assert "将新建" in page and f'/applications/{other}"' not in page
    confirm(city_client)
    assert count_applications(app) == 2 and get_application(app, other).city.code == "510700"


def test_import_services_are_the_city_clerks_own(app, city_client, tmp_path):
    wb = template(city_client)
    fill(wb["指标"], "F", application_values())
    path = tmp_path / "指标模板.xlsx"
    path.write_bytes(as_bytes(wb))
    with app.app_context():
        round_ = current_round()
        chengdu = db.session.scalar(db.select(City).where(City.code == "510100"))
        parsed = import_store.read_upload(path, name=path.name, expected_year=round_.year, form=round_.form)
        preview = imports.preview_import(user("chengdu"), parsed, round_=round_, city=chengdu)
        assert [i.action for i in preview.items] == ["新建"] and not preview.blocked
        for other in ("province", "viewer", "mianyang"):
            with pytest.raises(NotFound):
                imports.preview_import(user(other), parsed, round_=round_, city=chengdu)
            with pytest.raises(NotFound):
                imports.template_workbook(user(other), round_, chengdu, filled=True)
            with pytest.raises(NotFound):
                imports.receive_import(user(other), io.BytesIO(path.read_bytes()), name=path.name,
                                       round_=round_, city=chengdu)
        with pytest.raises(Refused, match="自预览以来"):
            imports.apply_import(user("chengdu"), parsed, round_=round_, city=chengdu, expected_digest="stale")
        imports.apply_import(user("chengdu"), parsed, round_=round_, city=chengdu, expected_digest=preview.digest)
        db.session.commit()
        with pytest.raises(Refused, match="文件过大"):
            imports.receive_import(user("chengdu"), io.BytesIO(b"x" * (template_reader.MAX_FILE_BYTES + 1)),
                                   name="big.xlsx", round_=round_, city=chengdu)
        # what the upload held survives the round trip through the JSON kept between requests
        token = imports.receive_import(user("chengdu"), io.BytesIO(path.read_bytes()), name=path.name,
                                       round_=round_, city=chengdu)
        kept = imports.pending_import(token)
        assert kept.result.columns[0].errors == parsed.result.columns[0].errors
        assert kept.result.columns[0].parsed == parsed.result.columns[0].parsed
        assert kept.sha256 == parsed.sha256 and kept.result.meta == parsed.result.meta
    assert count_applications(app) == 1 and events(app, "reports.imported")[0].username == "chengdu"
    assert [p.suffix for p in imports_dir(app).iterdir()] == [".json"]
