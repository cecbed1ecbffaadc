"""Review forms. The score sheet's and the weights' fields derive from 附件1 as the review's round
declares it (``round.declaration.criteria``); the points are read by the domain (not by WTForms
validators), so the same messages reach the form, the live totals and the service."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..applications.models import ProvinceMark
from ..domain.recommendation_quota import RecommendationQuota
from ..domain.review_criteria import Criteria, Opinion
from ..forms import Form
from ..rounds.forms import DeadlineField
from .marking import BYPASS_LABEL, BYPASS_REASON_LABEL
from .scoring import SheetInput

SCORE_PREFIX, COMMENT_PREFIX, WEIGHT_PREFIX = "score_", "comment_", "weight_"


# One class per criteria (a round's 附件1), made the first time a page of that round needs it.
@lru_cache(maxsize=16)
def sheet_form_class(criteria: Criteria) -> type[Form]:
    """The score sheet of a round whose 附件1 is ``criteria``: a box per indicator, a comment per
    dimension, the overall opinion and comment."""
    attributes: dict[str, Any] = {
        f"{SCORE_PREFIX}{key}": StringField(i.heading) for key, i in criteria.indicators.items()}
    attributes.update({f"{COMMENT_PREFIX}{d.key}": TextAreaField(f"{d.label}评价意见") for d in criteria.dimensions})
    attributes["opinion"] = RadioField("综合意见", choices=[(o.value, o.label) for o in Opinion],
                                       validate_choice=False)
    attributes["overall_comment"] = TextAreaField("综合评价")
    attributes["version"] = HiddenField()
    attributes["action"] = HiddenField()  # "submit" from the 提交 button, else a draft
    return type("SheetForm", (Form,), attributes)


def typed_sheet(form: Form, criteria: Criteria) -> SheetInput:
    """What the expert typed, keyed by the round's criteria."""
    return SheetInput(
        {key: form[f"{SCORE_PREFIX}{key}"].data or "" for key in criteria.indicators},
        {d.key: form[f"{COMMENT_PREFIX}{d.key}"].data or "" for d in criteria.dimensions},
        form.opinion.data or "", form.overall_comment.data or "")


def expected_version(form: Form) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=16)
def settings_form_class(criteria: Criteria) -> type[Form]:
    """The review's settings for a round whose 附件1 is ``criteria``: a weight per dimension, the
    deadline and the number of experts per application."""
    attributes: dict[str, Any] = {
        f"{WEIGHT_PREFIX}{d.key}": StringField(f"{d.label}（%）") for d in criteria.dimensions}
    attributes["deadline"] = DeadlineField("评审截止时间（北京时间）", validators=[DataRequired("请填写评审截止时间")])
    # InputRequired, not DataRequired: a typed 0 is filled in, and gets the service's range
    # message, which knows how many experts are enabled.
    attributes["experts_per_application"] = IntegerField(
        "每份申报的评审专家人数", validators=[InputRequired("请填写每份申报的评审专家人数")])
    attributes["confirm_past"] = BooleanField("确认：该时间如已过，保存后专家立即不能再评分")
    return type("SettingsForm", (Form,), attributes)


def typed_weights(form: Form, criteria: Criteria) -> dict[str, str]:
    return {d.key: form[f"{WEIGHT_PREFIX}{d.key}"].data or "" for d in criteria.dimensions}


class BalancedForm(Form):
    n = IntegerField("每份申报分配专家人数", validators=[InputRequired("请填写人数"),
                                                      NumberRange(1, 9, "人数应在1至9之间")])
    experts = SelectMultipleField("参加本轮评审的专家", coerce=int, widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput(), validate_choice=False)


class AssignForm(Form):
    expert_id = SelectField("评审专家", coerce=int, validate_choice=False)


class RecuseForm(Form):
    reason = TextAreaField("回避理由", validators=[DataRequired("请填写回避理由")])


class ReopenForm(Form):
    reason = TextAreaField("退回原因", validators=[DataRequired("请填写退回原因")])
    extension = DeadlineField("该评分表延期至（评审已截止时必填）", validators=[Optional()])


class ExtensionForm(Form):
    deadline = DeadlineField("延期至（北京时间）", validators=[DataRequired("请填写延期截止时间")])
    reason = StringField("延期原因", validators=[DataRequired("请填写延期原因")])


class ConfirmForm(Form):
    pass


class MarkForm(Form):
    """The province's mark, the one form of the city desk and the ranking (``review/marking.py``).
    The flag and the confirmation name the quota of the round's notice (``quota``)."""

    mark = RadioField("推荐结果", choices=[(m.value, m.label) for m in ProvinceMark] + [("", "暂不标记")],
                      validate_choice=False)
    note = StringField("说明")
    seen = HiddenField()  # the fingerprint of the scores the page showed
    bypass = BooleanField(BYPASS_LABEL)
    bypass_reason = StringField(BYPASS_REASON_LABEL)
    quota_exempt = BooleanField()
    confirm_quota = BooleanField()

    def __init__(self, *args, quota: RecommendationQuota, **kwargs):
        super().__init__(*args, **kwargs)
        self.quota_exempt.label.text = quota.exempt_label
        self.confirm_quota.label.text = quota.confirm_label


def typed_mark(form: MarkForm) -> dict[str, Any]:
    """What the mark form asks of ``review.marking.mark_application``."""
    return {"mark": form.mark.data or "", "note": form.note.data or "", "seen": form.seen.data or None,
            "bypass": form.bypass.data, "bypass_reason": form.bypass_reason.data or "",
            "quota_exempt": form.quota_exempt.data, "confirm_quota": form.confirm_quota.data}
