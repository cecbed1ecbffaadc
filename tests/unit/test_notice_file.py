"""The notice file (docs/notice-file.md): notices/2022.toml declares exactly what the app's Python
declarations say today, a file with a mistake is refused with a Chinese message naming the
place, a next year's file loads, and the digest names the notice, not its layout."""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from xkxl_intranet.domain.checks import RULES
from xkxl_intranet.domain.deadlines import SHANGHAI
from xkxl_intranet.domain.indicators import FIELDS, REQUIRED_KEYS, SECTIONS, STARRED_SECTIONS
from xkxl_intranet.domain.recommendation_quota import QUOTA
from xkxl_intranet.domain.review_criteria import DEFAULT_WEIGHTS, DIMENSIONS, INDICATORS, MAX_SCORE, TITLE
from xkxl_intranet.files.categories import CATEGORIES
from xkxl_intranet.notice.__main__ import main as check_command
from xkxl_intranet.notice.dump import canonical_json, to_toml
from xkxl_intranet.notice.form_checks import FIELD_KEYS
from xkxl_intranet.notice.loader import NoticeError, check_notice_file, load_notice, parse_notice
from xkxl_intranet.notice.report import check_report
from xkxl_intranet.reports.summary_layout import Summary
from xkxl_intranet.rounds.paper import paper_copies
from xkxl_intranet.rounds.reference import ROUND_2022

ROOT = Path(__file__).resolve().parents[2]
NAMED_COLUMNS = ("platform_name", "enterprise_name", "contact_name", "contact_mobile")
FILE_2022 = ROOT / "notices" / "2022.toml"
TEXT_2022 = FILE_2022.read_text(encoding="utf-8")
NOTICE = load_notice(FILE_2022)


# ---------------------------------------------------------------- 2022: today's declarations

def test_the_sections_and_fields_are_todays_every_attribute():
    assert [s.code for s in NOTICE.sections] == [s.code for s in SECTIONS]
    for loaded, declared in zip(NOTICE.sections, SECTIONS, strict=True):
        for attribute in ("code", "title", "starred", "note", "table", "form_lines"):
            assert getattr(loaded, attribute) == getattr(declared, attribute), (declared.code, attribute)
        assert [f.key for f in loaded.fields] == [f.key for f in declared.fields]
        for got, want in zip(loaded.fields, declared.fields, strict=True):
            assert dataclasses.asdict(got) == dataclasses.asdict(want), want.key
            assert type(got.kind) is type(want.kind)
    assert NOTICE.sections == SECTIONS
    assert NOTICE.fields == FIELDS
    assert NOTICE.required_keys == REQUIRED_KEYS
    assert NOTICE.starred_sections == STARRED_SECTIONS


def test_the_rules_are_todays_with_ids_severities_sources_and_parameters():
    assert [r.id for r in NOTICE.rules] == [r.id for r in RULES]
    for got, want in zip(NOTICE.rules, RULES, strict=True):
        assert type(got) is type(want), want.id
        assert dataclasses.asdict(got) == dataclasses.asdict(want), want.id
        assert (got.severity, got.source, got.description) == (want.severity, want.source, want.description)
    assert NOTICE.rules == RULES
    assert [r.id for r in NOTICE.notice_rules] == ["required_if:build_partner", "required_if:iaas_provider"]


def test_the_criteria_and_weights_are_todays():
    assert NOTICE.criteria.title == TITLE
    assert NOTICE.criteria.max_score == MAX_SCORE
    assert NOTICE.criteria.dimensions == DIMENSIONS
    assert NOTICE.criteria.indicators == INDICATORS
    assert NOTICE.criteria.default_weights == DEFAULT_WEIGHTS


def test_the_summary_sheet_prints_the_2022_columns_and_lines():
    """附件3 is the notice's now (reports.summary_layout): the 2022 file's prints the lines and
    columns the sheet printed before it was declared."""
    summary = Summary(NOTICE, round_title="2022年跨行业跨领域工业互联网平台", city_name="绵阳市",
                      department_name="绵阳市经济和信息化局", contact_name="张伟", contact_phone="0816-6210000",
                      disclosure="", rows=())
    assert summary.title == "2022年跨行业跨领域工业互联网平台推荐信息汇总表"
    assert [line.text for line in summary.header_lines] == [
        "市（州）经济和信息化主管部门（盖章）：绵阳市经济和信息化局", "联系人：张伟", "联系方式：0816-6210000"]
    assert [line.text for line in summary.footer_lines] == ["信息公开选项：主动公开"]  # none chosen: the default
    assert summary.headers == ("序号", "工业互联网平台名称", "依托企业", "联系人", "联系方式（手机）")
    assert [(c.value, c.field and c.field.key) for c in summary.columns] == [
        ("number", None), *((key, key) for key in NAMED_COLUMNS)]


def test_the_files_asked_for_are_todays_categories():
    assert [f.key for f in NOTICE.files] == list(CATEGORIES)
    for got in NOTICE.files:
        want = CATEGORIES[got.key]
        assert (got.label, got.kinds, got.versioned, got.per_city, got.required) == (
            want.label, want.kinds, want.versioned, want.per_city, want.required)


def test_the_round_quota_and_paper_copies_are_todays():
    assert {name: getattr(NOTICE, name) for name in ROUND_2022} == ROUND_2022
    assert NOTICE.deadline.tzinfo is SHANGHAI
    assert NOTICE.quota == QUOTA
    # A round without a kept notice reads as this one (the home page and the desk say it:
    # tests/rounds/test_paper_copies.py).
    assert paper_copies(None) == NOTICE.paper


def test_the_file_reads_back_as_it_is_written():
    assert parse_notice(to_toml(NOTICE)) == NOTICE
    assert check_notice_file(FILE_2022) == []


# ---------------------------------------------------------------- the digest

def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_digest_is_the_sha256_of_the_canonical_form():
    assert NOTICE.digest == hashlib.sha256(canonical_json(NOTICE).encode("utf-8")).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", NOTICE.digest)


def test_the_digest_names_the_notice_not_its_layout():
    bare = "\n".join(line for line in TEXT_2022.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    assert parse_notice(bare).digest == NOTICE.digest
    reordered = _replace(TEXT_2022, "year = 2022\ntitle = ", "title = ")
    reordered = _replace(reordered, 'notice_number = "', 'year = 2022\nnotice_number = "')
    assert parse_notice(reordered).digest == NOTICE.digest
    spelled_out = _replace(TEXT_2022, '  key = "founded_on"\n', '  key = "founded_on"\n  required = false\n')
    assert parse_notice(spelled_out).digest == NOTICE.digest
    changed = _replace(TEXT_2022, 'hint = "11位手机号码"', 'hint = "11位手机号"')
    assert parse_notice(changed).digest != NOTICE.digest


# ---------------------------------------------------------------- a mistake, and its message

def _problems(text: str) -> list[str]:
    """The problems without the 「第N行 」 the loader puts first (tests/unit/test_notice_lines.py)."""
    with pytest.raises(NoticeError) as raised:
        parse_notice(text)
    return [re.sub(r"^第\d+行 ", "", problem) for problem in raised.value.problems]


BAD = {
    "unknown key": (
        '  unit = "台/套"', '  units = "台/套"',
        ["[[section.field]] 1.1 第1个（devices_total）：未知的项 “units”（此处可用："
         + "、".join(FIELD_KEYS) + "）"]),
    "unknown top-level table": (
        "\n[paper]\n", "\n[extra]\nx = 1\n[paper]\n",
        ["文件顶层：未知的项 “extra”（此处可用：format、notice、paper、quota、section、rule、criteria、summary、file）"]),
    "missing key": (
        'contact_email = "879603923@qq.com"\n', "",
        ["[notice]：缺少 “contact_email”（应为文字（加英文双引号，如 \"工业APP数量\"））"]),
    "wrong type": ("form_copies = 3", 'form_copies = "三"', ["[paper]：“form_copies” 应为整数（如 3），现为 \"三\""]),
    "empty label": ('label = "单位地址"', 'label = " "', ["[[section.field]] 一 第4个（address）：“label” 不能为空"]),
    "format version": ("format = 1", "format = 2", ["文件顶层：format = 2 不是本系统能读的格式（应为 format = 1）"]),
    "unknown field referenced by a rule": (
        'big = "users_industrial"', 'big = "users_industrials"',
        ["[[rule]] 第11条（le:users_paying）：引用的字段 “users_industrials” 不在申报书中"]),
    "duplicate field key": (
        'key = "contact_fax"', 'key = "contact_phone"',
        ["[[section.field]] 一 第9个（contact_phone）：字段 “contact_phone” 重复（已在 一 中声明）"]),
    "kind without choices": (
        '  choices = ["自建", "合作共建"]\n', "",
        ["[[section.field]] 二(1) 第5个（build_mode）：类型为 choice 的字段须列出可选项 choices"]),
    "choices on a kind without them": (
        'label = "建设主体"\n  kind = "text"\n', 'label = "建设主体"\n  kind = "text"\n  choices = ["企业"]\n',
        ["[[section.field]] 二(1) 第2个（builder）：只有 choice 或 multi 类型的字段可以有 choices（此字段为 text）"]),
    "unknown kind": (
        'label = "总资产（万元）"\n  kind = "money"', 'label = "总资产（万元）"\n  kind = "moneys"',
        ["[[section.field]] 一 第11个（total_assets）：类型 kind = “moneys” 不存在（可用：text、date、int、money、"
         "percent、bool、choice、multi、email、mobile、phone、credit_code）"]),
    "starred figure not required": (
        'unit = "种"\n  required = true\n', 'unit = "种"\n',
        ["[[section.field]] 1.1 第9个（protocols）：「工业协议兼容适配数量」在带*的部分 1.1 中，须写 required = true"
         "（申报书说明3：带*标记项目中的客观指标须填写，如果没有可填“无”）"]),
    "field left out of the printed lines": (
        '  "□{protocols}",\n]', "]",
        ["[[section]] 第3个（1.1）：lines 中没有 {protocols}，申报书模板将不印此字段"]),
    "printed line naming another field": (
        '  "□{protocols}",\n]', '  "□{protocol}",\n]',
        ["[[section]] 第3个（1.1）：lines 中的 {protocol} 不是本部分的字段",
         "[[section]] 第3个（1.1）：lines 中没有 {protocols}，申报书模板将不印此字段"]),
    "duplicate section": ('code = "1.2"', 'code = "1.1"', ["[[section]] 第4个（1.1）：部分编号 “1.1” 重复"]),
    "weights not summing to 100": (
        "weight = 25", "weight = 20",
        ["[criteria]：各维度的默认权重之和须为100，现为 95（resources 20 + technology 20 + empowerment 25 + "
         "contribution 15 + sustainability 15）"]),
    "duplicate indicator": (
        'key = "models"', 'key = "devices"',
        ["[[criteria.dimension.indicator]] resources 第2项（devices）：指标 “devices” 重复"
         "（与 [[criteria.dimension.indicator]] resources 第1项（devices） 同名）"]),
    "deadline without a timezone": (
        "deadline = 2022-03-21T23:59:59+08:00", "deadline = 2022-03-21T23:59:59",
        ["[notice]：截止时间 deadline 2022-03-21T23:59:59 未写时区，北京时间须在末尾加 +08:00"]),
    "deadline without a time": (
        "deadline = 2022-03-21T23:59:59+08:00", "deadline = 2022-03-21",
        ["[notice]：截止时间 deadline 只写了日期 2022-03-21，须写明时刻和时区，如 2022-03-21T17:00:00+08:00"
         "（全天有效写 23:59:59）"]),
    "deadline not in Beijing time": (
        "deadline = 2022-03-21T23:59:59+08:00", "deadline = 2022-03-21T23:59:59Z",
        ["[notice]：截止时间 deadline 2022-03-21T23:59:59+00:00 不是北京时间，通知的时间须写 +08:00"]),
    "deadline in another year": ("year = 2022", "year = 2023", ["[notice]：截止时间在2022年，与年度 year = 2023 不一致"]),
    "paper copies out of range": ("form_copies = 3", "form_copies = 0", ["[paper]：“form_copies” = 0 份数应在1到10之间"]),
    "no quota": ("limit = 2", "limit = 0", ["[quota]：推荐名额 limit = 0 应至少为1"]),
    "unknown rule kind": (
        'id = "le:users_paying"\nkind = "le"', 'id = "le:users_paying"\nkind = "lt"',
        ["[[rule]] 第11条（le:users_paying）：规则类型 kind = “lt” 不存在（可用：sum、le、max、range、required_if、near）"]),
    "rule id of another kind": (
        'id = "le:users_paying"', 'id = "sum:users_paying"',
        ["[[rule]] 第11条（sum:users_paying）：规则编号 “sum:users_paying” 应以 “le:” 开头（与规则类型一致）"]),
    "duplicate rule id": (
        'id = "le:users_industrial"', 'id = "le:users_paying"',
        ["[[rule]] 第12条（le:users_paying）：规则编号 “le:users_paying” 重复"]),
    "unknown severity": (
        'small = "users_paying"\nbig = "users_industrial"\nseverity = "错误"',
        'small = "users_paying"\nbig = "users_industrial"\nseverity = "严重"',
        ["[[rule]] 第11条（le:users_paying）：“severity” = “严重” 应为 “错误” 或 “警告”"]),
    "unknown source": (
        'big = "users_industrial"\nseverity = "错误"\nsource = "系统校核"',
        'big = "users_industrial"\nseverity = "错误"\nsource = "省厅"',
        ["[[rule]] 第11条（le:users_paying）：来源 source = “省厅” 应为 “通知” 或 “系统校核”"]),
    "rule without its source": (
        'big = "users_industrial"\nseverity = "错误"\nsource = "系统校核"\n',
        'big = "users_industrial"\nseverity = "错误"\n',
        ["[[rule]] 第11条（le:users_paying）：缺少 “source”（应为“通知” 或 “系统校核”）"]),
    "rule of figures on a text field": (
        'small = "users_paying"', 'small = "contact_name"',
        ["[[rule]] 第11条（le:users_paying）：字段 “contact_name”（联系人）不是数字，不能用于 le 规则"]),
    "condition on a value the field cannot take": (
        'when_value = "合作共建"', 'when_value = "合作"',
        ["[[rule]] 第1条（required_if:build_partner）：条件值 when_value = “合作” 不是「建设方式」的可选项（自建、合作共建）"]),
    "range upside down": (
        'key = "rnd_ratio_2020"\nminimum = 0', 'key = "rnd_ratio_2020"\nminimum = 200',
        ["[[rule]] 第26条（range:rnd_ratio_2020）：下限 minimum = 200 大于上限 maximum = 100"]),
    "summary line naming nothing": (
        '"联系人：{contact_name}"', '"联系人：{contact}"',
        ["[summary]：“联系人：{contact}” 中的 {contact} 无法填入（可用：{city_name}、{contact_name}、{contact_phone}、"
         "{department_name}、{disclosure}、{round_title}）"]),
    "summary column of no field": (
        'value = "contact_mobile"', 'value = "mobile"',
        ["[[summary.column]] 第5列：“联系方式（手机）” 的 value = “mobile” 既不是 “number”（序号）也不是申报书中的字段"]),
    "duplicate file": (
        'key = "evidence2"', 'key = "evidence1"',
        ["[[file]] 第3个（evidence1）：文件类别 “evidence1” 重复（与 [[file]] 第2个（evidence1） 同名）"]),
}


@pytest.mark.parametrize("mistake", sorted(BAD))
def test_a_mistake_is_refused_with_its_message(mistake):
    old, new, messages = BAD[mistake]
    assert _problems(_replace(TEXT_2022, old, new)) == messages


def test_form_after_must_be_a_printed_label_of_the_section():
    problems = _problems(_replace(TEXT_2022, 'form_after = "国家标准"', 'form_after = "国家标准数"'))
    assert len(problems) == 1
    assert problems[0].startswith("[[section]] 第17个（4.5）：字段 “std_national_led” 的 form_after = “国家标准数” "
                                  "不是本部分任何字段印出的标签（可用：")


def test_a_file_that_is_not_toml_says_where():
    text = _replace(TEXT_2022, 'title = "2022年跨行业跨领域工业互联网平台"', "title = “2022年跨行业跨领域工业互联网平台”")
    line = text.splitlines().index("title = “2022年跨行业跨领域工业互联网平台”") + 1
    assert _problems(text) == [
        f"文件不是有效的 TOML（第{line}行第9列附近）：Invalid value。常见原因：文字未加英文双引号，"
        "用了中文引号、冒号或逗号，同一项写了两次"]


def test_a_file_that_is_not_utf8_or_not_there(tmp_path):
    gbk = tmp_path / "2023.toml"
    gbk.write_bytes(TEXT_2022.encode("gb18030"))
    assert check_notice_file(gbk) == [f"{gbk}：不是 UTF-8 编码的文本文件，请以 UTF-8 保存"]
    missing = tmp_path / "2024.toml"
    assert check_notice_file(missing) == [f"无法读取通知文件 {missing}：No such file or directory"]


def test_every_problem_is_said_at_once():
    text = _replace(TEXT_2022, "form_copies = 3", "form_copies = 0")
    text = _replace(text, "limit = 2", "limit = 0")
    text = _replace(text, 'big = "users_industrial"', 'big = "users_industrials"')
    assert len(_problems(text)) == 3


# ---------------------------------------------------------------- next year's file

NEW_FIELD = """
  [[section.field]]
  key = "solutions_featured"
  label = "特色行业解决方案数量"
  kind = "int"
  unit = "个"
"""


def _notice_2023() -> str:
    text = TEXT_2022
    for old, new in (
        ("year = 2022", "year = 2023"),
        ('title = "2022年跨行业跨领域工业互联网平台"', 'title = "2023年跨行业跨领域工业互联网平台"'),
        ('notice_number = "川经信办函〔2022〕71号"', 'notice_number = "川经信办函〔2023〕88号"'),
        ('ministry_notice_number = "工信厅信发函〔2022〕38号"', 'ministry_notice_number = "工信厅信发函〔2023〕125号"'),
        ("deadline = 2022-03-21T23:59:59+08:00", "deadline = 2023-06-09T17:00:00+08:00"),
        ("form_copies = 3", "form_copies = 2"),
        ('title = "跨行业跨领域工业互联网平台申报能力要求"', 'title = "2023年跨行业跨领域工业互联网平台申报能力要求"'),
        ('  form_label = "运用以下技术"\n', '  form_label = "运用以下技术"\n' + NEW_FIELD),
    ):
        text = _replace(text, old, new)
    return text


def test_a_2023_like_notice_loads(tmp_path):
    path = tmp_path / "2023.toml"
    path.write_text(_notice_2023(), encoding="utf-8")
    assert check_notice_file(path) == []
    notice = load_notice(path)
    assert notice.year == 2023
    assert notice.deadline == datetime(2023, 6, 9, 17, 0, tzinfo=SHANGHAI)
    assert notice.deadline.utcoffset() == timedelta(hours=8)
    assert notice.paper.forms_label == "申报书纸质版（一式两份）"
    assert notice.paper.requirement.startswith("申报书纸质版一式两份及电子版（光盘）、推荐信息汇总表纸质版一份")
    assert notice.criteria.title == "2023年跨行业跨领域工业互联网平台申报能力要求"
    assert notice.quota.limit == 2
    added = notice.fields["solutions_featured"]
    assert (added.section, added.kind.value, added.unit, added.required) == ("3.1", "int", "个", False)
    assert list(notice.fields)[list(notice.fields).index("technologies") + 1] == "solutions_featured"
    assert len(notice.fields) == len(FIELDS) + 1
    assert notice.digest != NOTICE.digest


# ---------------------------------------------------------------- the command and the package

def test_the_check_command(tmp_path, capsys):
    assert check_command([str(FILE_2022)]) == 0
    assert "可以使用。2022年跨行业跨领域工业互联网平台（川经信办函〔2022〕71号），截止 2022-03-21 23:59:59（北京时间）" \
           in capsys.readouterr().out
    # an operator's copy of last year's file whose deadline was not changed (the walkthrough of issue 23):
    # `flask notice check` gives the app's clock
    usable, lines = check_report(FILE_2022, datetime(2023, 1, 5, tzinfo=NOTICE.deadline.tzinfo))
    assert usable and "注意：截止时间 2022-03-21 已过" in lines[-1] and "请先改好 deadline" in lines[-1]
    assert len(check_report(FILE_2022, datetime(2022, 3, 1, tzinfo=NOTICE.deadline.tzinfo))[1]) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text(_replace(TEXT_2022, "limit = 2", "limit = 0"), encoding="utf-8")
    line = bad.read_text(encoding="utf-8").splitlines().index("limit = 0") + 1
    assert check_command([str(bad)]) == 1
    assert capsys.readouterr().out == f"{bad}：有 1 处问题，不能使用\n  - 第{line}行 [quota]：推荐名额 limit = 0 应至少为1\n"


def test_the_notice_package_is_pure():
    """Standard library and domain/ only: the web process, the worker and a command alike may load it."""
    package = ROOT / "xkxl_intranet" / "notice"
    outside = []
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                outside += [a.name for a in node.names if a.name.split(".")[0] not in sys.stdlib_module_names]
            elif isinstance(node, ast.ImportFrom):
                name = node.module or ""
                if node.level == 0 and name.split(".")[0] not in sys.stdlib_module_names and name != "__future__":
                    outside.append(name)
                elif node.level == 2 and not name.startswith("domain"):
                    outside.append(f"..{name}")
                elif node.level > 2:
                    outside.append(name)
    assert outside == []
