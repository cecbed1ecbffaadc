"""附件1 declared once (domain/review_criteria.py) and the rules of one score sheet
(domain/review_scoring.py): labels as the notice prints them, the scale, reading points and
weights, running totals, what a submission lacks, the review deadline."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from xkxl_intranet.domain.checks import FORM_2022
from xkxl_intranet.domain.deadlines import SHANGHAI
from xkxl_intranet.domain.findings import ParseError
from xkxl_intranet.domain.review_criteria import (
    CRITERIA_2022,
    DEFAULT_WEIGHTS,
    DIMENSIONS,
    INDICATORS,
    MAX_SCORE,
    Opinion,
)
from xkxl_intranet.domain.review_scoring import (
    format_points,
    missing_for_submission,
    parse_score,
    parse_weights,
    read_scores,
    review_window,
    sheet_totals,
)

NOTICE = Path(__file__).with_name("annex1_labels.txt")


def _as_declared(text: str) -> str:
    """The declaration's two documented normalisations of the notice's text: no spaces around
    Latin letters (工业 APP → 工业APP), and the misprint 杀手铜 written 杀手锏."""
    text = re.sub(r"\s*([A-Za-z]+)\s*", r"\1", text.strip())
    return text.replace("杀手铜", "杀手锏")


def _notice() -> list[dict]:
    """The notice's dimensions with their 能力要求 and indicators (label, 评价要点)."""
    dimensions: list[dict] = []
    for line in NOTICE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if heading := re.match(r"^([一二三四五])、(.+)$", line):
            dimensions.append({"number": heading[1], "label": heading[2], "requirement": "", "indicators": []})
        elif line.startswith("能力要求："):
            dimensions[-1]["requirement"] = line.removeprefix("能力要求：")
        elif indicator := re.match(r"^\d\.\s*(.+)$", line):
            dimensions[-1]["indicators"].append([indicator[1], ""])
        else:  # 评价要点, possibly broken over two lines by the page
            dimensions[-1]["indicators"][-1][1] += line.strip()
    return dimensions


def test_five_dimensions_and_twenty_one_indicators_as_the_notice_prints_them():
    notice = _notice()
    assert [len(d["indicators"]) for d in notice] == [5, 3, 5, 5, 3]
    assert len(DIMENSIONS) == 5 and len(INDICATORS) == 21
    for dimension, printed in zip(DIMENSIONS, notice, strict=True):
        assert (dimension.number, dimension.label) == (printed["number"], printed["label"])
        assert dimension.requirement == _as_declared(printed["requirement"])
        for indicator, (label, guidance) in zip(dimension.indicators, printed["indicators"], strict=True):
            assert indicator.label == _as_declared(label)
            assert indicator.guidance == _as_declared(guidance)


def test_codes_scale_sections_and_default_weights():
    codes = [i.code for d in DIMENSIONS for i in d.indicators]
    assert codes[:5] == ["1.1", "1.2", "1.3", "1.4", "1.5"] and codes[-1] == "5.3"
    assert {i.max_score for i in INDICATORS.values()} == {MAX_SCORE}
    assert sum(DEFAULT_WEIGHTS.values()) == 100 and set(DEFAULT_WEIGHTS) == {d.key for d in DIMENSIONS}
    # An indicator points at the 申报书 section with its figures where the form has one.
    assert INDICATORS["devices"].form_section(FORM_2022) == "1.1" and "1.1" in FORM_2022.sections_by_code
    assert INDICATORS["standards"].form_section(FORM_2022) == "4.5"
    assert INDICATORS["international"].form_section(FORM_2022) is None  # 3.5 is text only
    assert [o.label for o in Opinion] == ["推荐", "可培育", "不推荐"]


@pytest.mark.parametrize("typed, points", [("8", Decimal(8)), ("７．５", Decimal("7.5")), (" 9分 ", Decimal(9)),
                                           ("10", Decimal(10)), ("0", Decimal(0)), ("6.0", Decimal(6)),
                                           ("", None), ("  ", None)])
def test_points_are_read_as_experts_type_them(typed, points):
    assert parse_score(typed, INDICATORS["devices"]) == points


@pytest.mark.parametrize("typed, says", [("11", "0至10分之间"), ("-1", "0至10分之间"), ("7.25", "最多保留1位小数"),
                                         ("八", "不是有效的数字"), ("1e1", "不是有效的数字"), ("7,5", "不是有效的数字")])
def test_unreadable_points_are_refused_naming_the_indicator(typed, says):
    with pytest.raises(ParseError) as refused:
        parse_score(typed, INDICATORS["reliability"])
    assert "2.2 平台产品可靠性和安全防护能力" in refused.value.message and says in refused.value.message


def test_read_scores_keeps_what_it_can_and_names_what_it_cannot():
    scores, errors = read_scores({"devices": "9", "models": "x", "apps": "12"}, criteria=CRITERIA_2022)
    assert scores["devices"] == 9 and "models" not in scores and scores["ecosystem"] is None
    assert set(errors) == {"models", "apps"} and "1.3 工业APP数量" in errors["apps"]
    assert format_points(Decimal("23.50")) == "23.5" and format_points(Decimal(100)) == "100"


def test_weights_must_be_whole_percentages_summing_to_100():
    assert parse_weights({"resources": "30%", "technology": "20", "empowerment": "20", "contribution": "15",
                          "sustainability": "１５"}, criteria=CRITERIA_2022) == {"resources": 30, "technology": 20, "empowerment": 20,
                                                         "contribution": 15, "sustainability": 15}
    assert parse_weights({"resources": 100, "technology": 0, "empowerment": "0", "contribution": "０",
                          "sustainability": "0%"}, criteria=CRITERIA_2022)["technology"] == 0
    with pytest.raises(ParseError, match="合计应为100，现为95"):
        parse_weights({**{k: str(v) for k, v in DEFAULT_WEIGHTS.items()}, "resources": "20"}, criteria=CRITERIA_2022)
    with pytest.raises(ParseError, match="二、平台核心技术水平权重」应为0至100的整数"):
        parse_weights({**{k: str(v) for k, v in DEFAULT_WEIGHTS.items()}, "technology": "20.5"}, criteria=CRITERIA_2022)
    with pytest.raises(ParseError, match="请填写「五、平台可持续发展能力权重」"):
        parse_weights({**{k: str(v) for k, v in DEFAULT_WEIGHTS.items()}, "sustainability": ""}, criteria=CRITERIA_2022)


def test_totals_weight_each_dimension_and_add_up_as_printed():
    assert sheet_totals(dict.fromkeys(INDICATORS, Decimal(10)), DEFAULT_WEIGHTS, criteria=CRITERIA_2022).total == Decimal("100.00")
    scores = dict.fromkeys(INDICATORS, Decimal(8))
    scores.update({"innovation": Decimal("7.5"), "reliability": Decimal(9), "killer_apps": Decimal(7)})  # 23.5 / 30
    totals = sheet_totals(scores, DEFAULT_WEIGHTS, criteria=CRITERIA_2022)
    technology = totals.of("technology")
    assert technology.points == Decimal("23.5") and technology.weighted == Decimal("15.67")  # 20 × 23.5 / 30
    assert totals.of("resources").weighted == Decimal("20.00")  # 25 × 40 / 50
    assert totals.total == Decimal("20.00") + Decimal("15.67") + Decimal("20.00") + Decimal("12.00") \
        + Decimal("12.00")
    assert totals.complete and totals.scored == 21


def test_running_totals_of_an_unfinished_sheet_count_blanks_as_zero():
    totals = sheet_totals({"devices": Decimal(10), "models": Decimal(5)}, DEFAULT_WEIGHTS, criteria=CRITERIA_2022)
    resources = totals.of("resources")
    assert (resources.scored, resources.points, resources.weighted) == (2, Decimal(15), Decimal("7.50"))
    assert not resources.complete and not totals.complete and totals.total == Decimal("7.50")


def test_what_a_submission_still_lacks():
    scores = dict.fromkeys(INDICATORS, Decimal(8))
    scores["parks"] = scores["sme"] = None
    comments = {d.key: "意见" for d in DIMENSIONS}
    comments["contribution"] = " "
    missing = missing_for_submission(scores, comments, None, "", criteria=CRITERIA_2022)
    assert missing == ["平台赋能成效：3.2、3.4 尚未评分", "平台社会贡献度：尚未填写评价意见",
                       "尚未选择综合意见（推荐 / 可培育 / 不推荐）", "尚未填写综合评价"]
    full = dict.fromkeys(INDICATORS, Decimal(8))
    assert missing_for_submission(full, {d.key: "意见" for d in DIMENSIONS}, Opinion.RECOMMEND, "好", criteria=CRITERIA_2022) == []


def test_the_review_window_closes_after_the_deadline_unless_the_sheet_has_more_time():
    deadline = datetime(2022, 4, 8, 18, 0, tzinfo=SHANGHAI)
    assert review_window(datetime(2022, 4, 8, 18, 0, 59, tzinfo=SHANGHAI), deadline, None).open
    closed = review_window(datetime(2022, 4, 8, 18, 1, tzinfo=SHANGHAI), deadline, None)
    assert not closed.open and "已超过评审截止时间（2022年04月08日 18:00）" in closed.message
    extended = review_window(datetime(2022, 4, 9, 9, 0, tzinfo=SHANGHAI), deadline,
                             datetime(2022, 4, 10, 18, 0, tzinfo=SHANGHAI))
    assert extended.open and extended.extended and extended.deadline.day == 10
