"""Reading a 申报书's text into the declared fields (domain/form_reader.py), pure: every declared
figure comes back, with the form's own number rules, from the places 附件2 prints it."""
from decimal import Decimal

import pytest

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.form_layout import BLANK, form_blocks, outline, texts_for
from xkxl_intranet.domain.form_marks import EMPHASIS
from xkxl_intranet.domain.form_reader import DocumentText, FormReading, ReadStatus, numbering_class, read_form
from xkxl_intranet.domain.indicators import FIELDS, SECTIONS, Kind

from helpers import form_lines, typed_values


def _read(lines) -> FormReading:
    return read_form(DocumentText(tuple(lines)), form=FORM_2022)


def _replace(lines, old: str, new: str) -> list[str]:
    hits = [i for i, line in enumerate(lines) if old in line]
    assert hits, old
    out = list(lines)
    out[hits[0]] = out[hits[0]].replace(old, new, 1)
    return out


def test_every_declared_field_reads_back_what_was_written():
    values = typed_values()
    reading = _read(form_lines(texts_for(values, form=FORM_2022)))
    for key in FIELDS:
        read = reading.fields[key]
        if values.get(key) is None:
            assert read.status is ReadStatus.BLANK, key
        else:
            assert read.status is ReadStatus.VALUE, (key, read)
            assert read.value == values[key], key
    assert reading.structure.pledge and reading.structure.recommender


def test_the_blank_template_finds_every_label_and_no_value():
    reading = _read(form_lines({}))
    assert {r.status for r in reading.fields.values()} == {ReadStatus.BLANK}
    assert len(reading.fields) == len(FIELDS)


def test_figures_as_clerks_write_them():
    """Full-width digits, 无, thousands separators (comma, full-width comma, spaces), units and
    signs: the same rules as the form."""
    texts = texts_for(typed_values(), form=FORM_2022)
    texts.update({"devices_total": "１２，３４５", "devices_operating": "6 000", "devices_processing": "无",
                  "models_total": " 468 ", "sme_contract_amount": "3,200.5万元", "roi": "－3.5",
                  "rnd_ratio_2021": "６.００％", "total_assets": "２１０，０００.００", "debt_ratio": "41.5",
                  "profit_last_year": "-1,234.56", "employees": "5,250人"})
    reading = _read(form_lines(texts))
    expected = {"devices_total": 12345, "devices_operating": 6000, "devices_processing": 0, "models_total": 468,
                "sme_contract_amount": Decimal("3200.50"), "roi": Decimal("-3.50"),
                "rnd_ratio_2021": Decimal("6.00"), "total_assets": Decimal("210000.00"),
                "debt_ratio": Decimal("41.50"), "profit_last_year": Decimal("-1234.56"), "employees": 5250}
    assert {k: reading.fields[k].value for k in expected} == expected


@pytest.mark.parametrize(("boxes", "status", "value"), [
    ("☑是 ☐否", ReadStatus.VALUE, True), ("☐是 ☒否", ReadStatus.VALUE, False),
    ("■是 □否", ReadStatus.VALUE, True), ("是√ 否", ReadStatus.VALUE, True), ("√否", ReadStatus.VALUE, False),
    ("否", ReadStatus.VALUE, False), ("☐是 ☐否", ReadStatus.BLANK, None), ("是 否", ReadStatus.BLANK, None),
    ("☑是 ☑否", ReadStatus.UNREADABLE, None),
    # a tick put in the place of the box: it is the option's it stands before, never also the one before it
    ("□是 √否", ReadStatus.VALUE, False), ("√是 □否", ReadStatus.VALUE, True), ("□是 ✓否", ReadStatus.VALUE, False),
    ("□是　✔否", ReadStatus.VALUE, False), ("□ 是 √ 否", ReadStatus.VALUE, False), ("是 否√", ReadStatus.VALUE, False),
    ("☒是 □否", ReadStatus.VALUE, True), ("□√是 □否", ReadStatus.VALUE, True),
    # both only where both carry a tick
    ("√是 √否", ReadStatus.UNREADABLE, None), ("是√ 否√", ReadStatus.UNREADABLE, None),
], ids=lambda v: v if isinstance(v, str) else None)
def test_the_yes_no_boxes(boxes, status, value):
    lines = _replace(form_lines({}), "具有代码安全防护：☐是 ☐否", f"具有代码安全防护：{boxes}")
    read = _read(lines).fields["sec_code"]
    assert (read.status, read.value) == (status, value)


@pytest.mark.parametrize(("boxes", "value"), [
    # Wingdings as Word and WPS PDFs map it (U+F000 + code), with no font name to go by
    ("\uf06f是 \uf0fe否", False), ("\uf0fe是 \uf06f否", True), ("\uf0fd是 \uf0a1否", True), ("\uf071是 \uf0fc否", False),
    ("\uf070是 \uf078否", False), ("\uf072是 \uf0fb否", False),
    # Wingdings 2 and Symbol
    ("\uf052是 \uf0a3否", True), ("\uf02a是 \uf054否", False), ("\uf0a3是 \uf050否", False), ("\uf0d6是 \uf02a否", True),
    # empty boxes only: not ticked
    ("\uf06f是 \uf0a3否", None), ("\uf071是 \uf02a否", None),
])
def test_the_symbol_fonts_private_use_ticks_and_boxes(boxes, value):
    lines = _replace(form_lines({}), "具有代码安全防护：☐是 ☐否", f"具有代码安全防护：{boxes}")
    read = _read(lines).fields["sec_code"]
    assert (read.status, read.value) == (ReadStatus.BLANK if value is None else ReadStatus.VALUE, value)


def test_an_answer_marked_only_by_bold_or_underline_is_unreadable_never_both():
    """The files side puts EMPHASIS before an option that alone is bold or underlined."""
    lines = _replace(form_lines({}), "具有代码安全防护：☐是 ☐否", f"具有代码安全防护：□{EMPHASIS}是 □否")
    lines = _replace(lines, "具有数据安全防护：☐是 ☐否", f"具有数据安全防护：{EMPHASIS}是 {EMPHASIS}否")
    lines = _replace(lines, "具有应用安全防护：☐是 ☐否", f"具有应用安全防护：☐{EMPHASIS}是 ☑否")
    lines = _replace(lines, "运用以下技术：☐5G ☐大数据", f"运用以下技术：☐5G ☐{EMPHASIS}大数据")
    fields = _read(lines).fields
    code = fields["sec_code"]
    assert (code.status, code.raw) == (ReadStatus.UNREADABLE, "是")
    assert "未打勾" in code.message and "“是”加粗或加下划线" in code.message and "同时勾选" not in code.message
    assert fields["sec_data"].status is ReadStatus.BLANK  # both emphasized: nothing singled out
    assert fields["sec_application"].value is False  # a tick decides, whatever is bold
    assert fields["technologies"].status is ReadStatus.UNREADABLE


def test_choices_multiple_choices_and_the_partner_after_them():
    texts = {"build_mode": "合作共建", "build_partner": "四川某某科技有限公司", "iaas_mode": "自建",
             "technologies": ("5G", "数字孪生", "工业AR/VR")}
    fields = _read(form_lines(texts)).fields
    assert fields["build_mode"].value == "合作共建"
    assert fields["build_partner"].value == "四川某某科技有限公司"
    assert fields["iaas_mode"].value == "自建" and fields["iaas_provider"].status is ReadStatus.BLANK
    assert fields["technologies"].value == ("5G", "数字孪生", "工业AR/VR")
    # 附件2 prints the technologies on the line after the label; a clerk may just list them
    lines = _replace(form_lines({}), "运用以下技术：☐5G ☐大数据 ☐人工智能 ☐数字孪生 ☐区块链 ☐工业AR/VR",
                     "运用以下技术:\n5G、大数据、人工智能")
    assert _read("\n".join(lines).split("\n")).fields["technologies"].value == ("5G", "大数据", "人工智能")


@pytest.mark.parametrize(("printed", "chosen"), [
    # a PDF's line broken between two options, inside one, right after a box
    ("运用以下技术：☑5G ☐大数据 ☐人工智能 ☐数字孪生 ☐区块链\n☑工业AR/VR", ("5G", "工业AR/VR")),
    ("运用以下技术：☐5G ☐大数据 ☐人工智能 ☑数字\n孪生 ☐区块链 ☐工业AR/VR", ("数字孪生",)),
    ("运用以下技术：☐5G ☑大数据 ☐人工智能 ☐数字孪生 ☐区块链 ☑\n工业AR/VR", ("大数据", "工业AR/VR")),
    ("运用以下技术：\n☐5G ☐大数据 ☑人工智能\n☐数字孪生 ☐区块链 ☑工业AR/VR", ("人工智能", "工业AR/VR")),
], ids=["between-options", "inside-an-option", "after-a-box", "after-the-label"])
def test_the_boxes_of_a_choice_go_on_to_the_lines_they_wrap_to(printed, chosen):
    lines = _replace(form_lines({}), "运用以下技术：☐5G ☐大数据 ☐人工智能 ☐数字孪生 ☐区块链 ☐工业AR/VR", printed)
    assert _read("\n".join(lines).split("\n")).fields["technologies"].value == chosen


def test_a_yes_no_on_the_line_after_its_label_and_never_the_next_fields_boxes():
    lines = _replace(form_lines({}), "企业已上市或已获得VC/PE投资：☐是 ☐否", "企业已上市或已获得VC/PE投资：\n☐是 ☑否")
    lines = _replace(lines, "具有数据安全防护：☐是 ☐否", "具有数据安全防护：☑是 ☐")
    lines = _replace(lines, "具有代码安全防护：☐是 ☐否", "具有代码安全防护：☐是 ☑否")
    fields = _read("\n".join(lines).split("\n")).fields
    assert fields["listed_or_vc"].value is False
    # 「□具有代码安全防护」 on the next line starts with a box but with no option: not sec_data's
    assert fields["sec_data"].value is True and fields["sec_code"].value is False
    assert fields["sec_device_access"].status is ReadStatus.BLANK


def test_a_figure_that_cannot_be_read_says_why_with_the_forms_message():
    lines = _replace(form_lines({}), f"工业模型数量：{BLANK}个", "工业模型数量：约500个")
    read = _read(lines).fields["models_total"]
    assert read.status is ReadStatus.UNREADABLE and read.raw == "约500"
    assert "工业模型数量" in read.message and "约" in read.message


def test_a_label_in_a_sentence_is_not_a_blank():
    """「运行设备包括：采矿设备…」 is 附件2's explanation, not the figure."""
    lines = [line for line in form_lines({"devices_operating": "6,000"}) if "运行设备：" not in line]
    assert _read(lines).fields["devices_operating"].status is ReadStatus.MISSING
    assert any("运行设备包括" in line for line in lines)


def test_the_same_label_in_two_sections_is_read_in_its_own():
    texts = {"industries_covered": "9", "domains_covered": "6", "solutions": "31",
             "dual_industries": "5", "dual_domains": "3", "dual_solutions": "4"}
    fields = _read(form_lines(texts)).fields
    assert {k: fields[k].value for k in texts} == {k: int(v) for k, v in texts.items()}


def test_a_shorter_label_inside_a_longer_one_is_not_read_there():
    lines = [("其中，付费工业企业数：120个" if line.startswith("其中，工业企业数") else line)
             for line in form_lines({})]
    fields = _read(lines).fields
    assert fields["users_paying"].value == 120
    assert fields["users_industrial"].status is ReadStatus.MISSING  # not the 付费 one


def test_several_blanks_after_one_label_and_the_led_standards():
    texts = {"rnd_2020": "3,120.00", "rnd_2021": "3,672.50", "rnd_ratio_2020": "5.8", "rnd_ratio_2021": "6",
             "std_national": "3", "std_national_led": "1", "std_industry": "5", "std_industry_led": "2",
             "std_international": "无", "std_international_led": "无"}
    fields = _read(form_lines(texts)).fields
    assert fields["rnd_2020"].value == Decimal("3120.00") and fields["rnd_2021"].value == Decimal("3672.50")
    assert fields["rnd_ratio_2020"].value == Decimal("5.80") and fields["rnd_ratio_2021"].value == Decimal("6.00")
    assert [fields[k].value for k in ("std_national_led", "std_industry_led", "std_international_led")] == [1, 2, 0]
    # on one line, each 其中牵头制定 still belongs to the standard before it
    one_line = "国家标准：3个，其中牵头制定1个；行业标准：5个，其中牵头制定2个；国际标准：无，其中牵头制定无"
    lines = [line for line in form_lines({}) if not line.startswith(("行业标准", "国际标准"))]
    fields = _read([one_line if line.startswith("国家标准") else line for line in lines]).fields
    assert [fields[k].value for k in ("std_national", "std_national_led", "std_industry", "std_industry_led",
                                      "std_international_led")] == [3, 1, 5, 2, 0]


def test_loose_printing_spaces_widths_quotes_and_the_notices_misprint():
    """As Word and PDFs print labels: 「工业 APP 数量」, full-width brackets, straight quotes,
    「杀手铜」 for 杀手锏, a PDF line broken inside a label."""
    lines = form_lines({"apps_total": "369", "killer_daily_calls": "50000", "honors_stability": "2",
                        "killer_awards": "3"})
    lines = _replace(lines, "□工业APP数量：369个", "□工业 APP 数量 : 369 个")
    lines = _replace(lines, "公有云杀手锏APP日活：50000次", "公有云杀手铜 APP 日活: 50,000次")
    lines = _replace(lines, "服务地方获“六稳”“六保”省部级荣誉数量", '服务地方获"六稳""六保"省部级\n荣誉数量')
    lines = _replace(lines, "获评省部级优秀APP数量（2020年以来）", "获评省部级优秀 APP 数量 (2020 年以来)")
    fields = _read("\n".join(lines).split("\n")).fields
    assert [fields[k].value for k in ("apps_total", "killer_daily_calls", "honors_stability", "killer_awards")] \
        == [369, 50000, 2, 3]


def test_a_pdf_that_puts_each_cell_on_its_own_line_or_spaces_between_them():
    values = typed_values()
    lines = []
    for line in form_lines(texts_for(values, form=FORM_2022)):
        cells = line.split("\t")
        if len(cells) > 1 and cells[0] in ("企业名称", "单位地址", "联系人"):
            lines += [cell for cell in cells if cell]  # one under another
        else:
            lines.append(" ".join(cells))  # on one line, spaces between
    fields = _read(lines).fields
    for key in ("enterprise_name", "credit_code", "founded_on", "address", "contact_name", "contact_phone",
                "contact_mobile", "contact_email", "total_assets", "debt_ratio", "sales_last_year",
                "profit_last_year", "platform_name", "built_on", "investment", "build_mode", "iaas_provider"):
        assert fields[key].value == values[key], key
    assert fields["contact_fax"].status is ReadStatus.BLANK


def test_fields_whose_lines_are_gone_are_not_found():
    lines = [line for line in form_lines(texts_for(typed_values(), form=FORM_2022)) if "私有云连接设备" not in line]
    fields = _read(lines).fields
    assert fields["devices_private_cloud"].status is ReadStatus.MISSING
    assert fields["devices_public_cloud"].status is ReadStatus.MISSING  # the same line
    assert fields["devices_total"].status is ReadStatus.VALUE


def test_the_table_of_contents_pledge_and_recommender_block():
    blocks = form_blocks({}, form=FORM_2022)
    headings = [b.text for b in blocks if b.kind == "heading"]
    toc = ["目 录", *(f"{h} ........ {n}" for n, h in enumerate(headings, start=3))]
    lines = list(form_lines({}, contents=False))
    reading = _read(lines[:7] + toc + lines[7:])
    assert (reading.structure.toc, reading.structure.toc_levels) == (True, 4)
    shallow = [entry for entry in toc if numbering_class(entry) in (None, "cn", "n()")]
    reading = _read(lines[:7] + shallow + lines[7:])
    assert (reading.structure.toc, reading.structure.toc_levels) == (True, 2)
    bare = [line for line in lines if "真实性承诺" not in line and "同意推荐" not in line]
    reading = _read(bare)
    s = reading.structure
    assert (s.toc, s.pledge, s.recommender) == (False, False, False)


def _docx_headings(lines) -> tuple[tuple[int, int], ...]:
    """(line, level) of the template's headings, as the .docx walker notes their styles."""
    levels = {spec.text: spec.level for spec in outline(FORM_2022)}
    return tuple((index, levels[line]) for index, line in enumerate(lines) if line in levels)


def test_a_docx_table_of_contents_is_read_from_its_field_or_entries():
    lines = form_lines({}, contents=False)
    field = read_form(DocumentText(lines, toc_field=True, toc_field_levels=3, headings=_docx_headings(lines)), form=FORM_2022)
    assert (field.structure.toc, field.structure.toc_levels) == (True, 3)
    # entries styled toc 1 and toc 2 before the body
    toc = ["目  录", "一、申报企业基本信息\t3", "（1）工业互联网平台基本信息\t4"]
    entries = read_form(DocumentText((*toc, *lines), toc_entries=((1, 1), (2, 2))), form=FORM_2022)
    assert entries.structure.toc_levels == 2


TWO_LEVELS = ["目  录", "一、申报企业基本信息\t3", "二、工业互联网平台申报材料\t4", "（1）工业互联网平台基本信息\t4",
              "（2）工业互联网平台能力介绍\t5", "（3）工业互联网平台技术架构\t12"]
ANNEXES = ["附件1 工业设备清单\t20", "附件2 工业模型清单\t21", "附件3 工业APP清单\t22"]


def _with_contents(contents, *, after=()) -> list[str]:
    """The template's body (no 目录 of its own) after ``contents``, then ``after``."""
    lines = list(form_lines({}, contents=False))
    return lines[:7] + list(contents) + lines[7:] + list(after)


def test_annexes_in_the_contents_are_no_level():
    """Two levels of headings and a third «level» made of 附件 lines: two levels."""
    reading = _read(_with_contents(TWO_LEVELS + ANNEXES, after=[a.split("\t")[0] for a in ANNEXES]))
    assert (reading.structure.toc, reading.structure.toc_levels) == (True, 2)
    # a 目录 of the form's three levels and its annexes: three
    third = ["1. 平台资源管理能力\t5", "2. 平台核心技术水平\t7"]
    assert _read(_with_contents(TWO_LEVELS + third + ANNEXES)).structure.toc_levels == 3


def test_only_levels_whose_headings_the_body_has_count():
    invented = ["1. 平台概述\t5", "2. 平台优势\t6"]  # in the 目录, nowhere in the body
    reading = _read(_with_contents(TWO_LEVELS + invented))
    assert reading.structure.toc_levels == 2
    # the body not read to its end (a PDF read up to the figures): what comes after the last
    # heading found counts as the 目录 shows it
    lines = _with_contents(TWO_LEVELS + ["（4）工业互联网平台下一步发展计划\t14", "1. 研发计划\t14"])
    assert read_form(DocumentText(tuple(lines)), form=FORM_2022).structure.toc_levels == 2
    assert read_form(DocumentText(tuple(lines), read_to_end=False), form=FORM_2022).structure.toc_levels == 3


def test_a_pdfs_contents_levels_are_its_indentation():
    """Entries without numbers, indented as office suites indent 目录 levels (points from the
    page's left edge); a flat list falls back to the kind of number each starts with."""
    contents = [("目录", 250.0), ("企业概况 ........ 1", 72.0), ("基本情况 ........ 1", 93.0),
                ("股权结构 ........ 2", 114.5), ("经营情况 ........ 3", 93.0), ("平台概况 ........ 4", 72.0)]
    body = ["企业概况", "基本情况", "某某科技有限公司成立于2015年。", "股权结构", "经营情况", "平台概况"]
    lines = [text for text, _ in contents] + body
    lefts = [left for _, left in contents] + [72.0] * len(body)
    structure = read_form(DocumentText(tuple(lines), lefts=tuple(lefts)), form=FORM_2022).structure
    assert (structure.toc, structure.toc_levels) == (True, 3)
    # a running header ending in the page number, centred: on every page, no entry and no level
    header = "2022年跨行业跨领域工业互联网平台申报书"
    two = [text for text, _ in contents if text[:2] != "股权"] + [f"{header} 2"]
    body_pages = [line for page, heading in enumerate(("企业概况", "基本情况", "经营情况", "平台概况"), start=3)
                  for line in (f"{header} {page}", heading, "正文。")]
    lefts = [250.0] + [72.0 if text[:2] in "企业平台" else 93.0 for text in two[1:-1]] + [200.0]
    headed = read_form(DocumentText((*two, *body_pages), lefts=(*lefts, *[72.0] * len(body_pages))), form=FORM_2022)
    assert headed.structure.toc_levels == 2
    flat = read_form(DocumentText(tuple(lines), lefts=(72.0,) * len(lines)), form=FORM_2022).structure
    assert (flat.toc, flat.toc_levels) == (True, 0)  # no numbers and no indentation: no level known


def test_a_docx_contents_counts_its_entries_whose_headings_the_body_has():
    contents = TWO_LEVELS + ["1. 平台概述\t5", "附件1 工业设备清单\t20"]
    lines = _with_contents(contents)
    start = lines.index(contents[1])
    entries = tuple((start + i, 1 if "、" in line else 3 if line[0] in "1附" else 2)
                    for i, line in enumerate(contents[1:]))
    assert {level for _, level in entries} == {1, 2, 3}
    # styled toc 3, but 「1. 平台概述」 leads nowhere and 附件1 is an annex: two levels
    assert read_form(DocumentText(tuple(lines), toc_entries=entries), form=FORM_2022).structure.toc_levels == 2
    # headings numbered by a Word multilevel list: the number is in the entry, not in the heading's text
    numbered = ["目  录", "一、企业概况\t3", "（一）基本情况\t3", "1. 股权结构\t4", "二、平台概况\t5"]
    body = ["企业概况", "基本情况", "正文。", "股权结构", "平台概况"]
    listed = read_form(DocumentText((*numbered, *body), toc_entries=((1, 1), (2, 2), (3, 3), (4, 1))), form=FORM_2022)
    assert listed.structure.toc_levels == 3
    # a 目录 field never updated: the body's headings, 附件 headings left out
    body = [*form_lines({}, contents=False), "附件1 工业设备清单"]
    headings = ((body.index("一、申报企业基本信息"), 1), (body.index("（1）工业互联网平台基本信息"), 2),
                (len(body) - 1, 3))
    field = read_form(DocumentText(tuple(body), toc_field=True, toc_field_levels=3, headings=headings), form=FORM_2022)
    assert (field.structure.toc, field.structure.toc_levels) == (True, 2)


@pytest.mark.parametrize(("text", "kind"), [("一、申报企业基本信息", "cn"), ("（一）申报单位", "cn()"),
                                            ("（1）工业互联网平台", "n()"), ("1. 平台资源", "n."),
                                            ("1.1 工业设备数量", "n.n"), ("1.1.1 设备", "n.n.n"),
                                            ("附件1 工业设备清单", "att"), ("平台简介", None)])
def test_numbering_classes(text, kind):
    assert numbering_class(text) == kind


def test_what_was_read_survives_its_json():
    values = typed_values()
    lines = _replace(form_lines(texts_for(values, form=FORM_2022)), f"工业模型数量：{values['models_total']:,}个", "工业模型数量：约5个")
    reading = _read(lines)
    again = FormReading.from_json(reading.to_json(), form=FORM_2022)
    assert again.values() == reading.values()
    assert again.fields["models_total"].status is ReadStatus.UNREADABLE
    assert again.fields["models_total"].message == reading.fields["models_total"].message
    assert again.structure == reading.structure


def test_each_printed_label_names_one_field_of_its_section():
    """A label shared by two fields of a section is declared as shared: several blanks after it
    (``form_blank``) or the same words after different labels (``form_after``)."""
    for section in SECTIONS:
        owners: dict[tuple[str, str, int], str] = {}
        for f in section.fields:
            slot = (f.printed_label, f.form_after, f.form_blank)
            assert slot not in owners, (f.key, owners.get(slot))
            owners[slot] = f.key
            if f.kind is Kind.MULTI or f.kind is Kind.CHOICE:
                assert f.choices
