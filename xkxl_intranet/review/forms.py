"""Review forms. The score sheet's fields derive from the one declaration of 附件1
(domain/review_criteria.py); the points are read by the domain (not by WTForms validators), so
the same messages reach the form, the live totals and the service."""
from __future__ import annotations

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
from ..domain.recommendation_quota import QUOTA
from ..domain.review_criteria import DIMENSIONS, INDICATORS, Opinion
from ..forms import Form
from ..rounds.forms import DeadlineField
from .marking import BYPASS_LABEL, BYPASS_REASON_LABEL
from .scoring import SheetInput

SCORE_PREFIX, COMMENT_PREFIX, WEIGHT_PREFIX = "score_", "comment_", "weight_"


def _sheet_form_class() -> type[Form]:
    attributes: dict[str, Any] = {f"{SCORE_PREFIX}{key}": StringField(i.heading) for key, i in INDICATORS.items()}
    attributes.update({f"{COMMENT_PREFIX}{d.key}": TextAreaField(f"{d.label}评价意见") for d in DIMENSIONS})
    attributes["opinion"] = RadioField("综合意见", choices=[(o.value, o.label) for o in Opinion],
                                       validate_choice=False)
    attributes["overall_comment"] = TextAreaField("综合评价")
    attributes["version"] = HiddenField()
    attributes["action"] = HiddenField()  # "submit" from the 提交 button, else a draft
    return type("SheetForm", (Form,), attributes)


SheetForm = _sheet_form_class()


def typed_sheet(form: Form) -> SheetInput:
    """What the expert typed, keyed by the declaration."""
    return SheetInput(
        {key: form[f"{SCORE_PREFIX}{key}"].data or "" for key in INDICATORS},
        {d.key: form[f"{COMMENT_PREFIX}{d.key}"].data or "" for d in DIMENSIONS},
        form.opinion.data or "", form.overall_comment.data or "")


def expected_version(form: Form) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


def _settings_form_class() -> type[Form]:
    attributes: dict[str, Any] = {
        f"{WEIGHT_PREFIX}{d.key}": StringField(f"{d.label}（%）") for d in DIMENSIONS}
    attributes["deadline"] = DeadlineField("评审截止时间（北京时间）", validators=[DataRequired("请填写评审截止时间")])
    # InputRequired, not DataRequired: a typed 0 is filled in, and gets the service's range
    # message, which knows how many experts are enabled.
    attributes["experts_per_application"] = IntegerField(
        "每份申报的评审专家人数", validators=[InputRequired("请填写每份申报的评审专家人数")])
    attributes["confirm_past"] = BooleanField("确认：该时间如已过，保存后专家立即不能再评分")
    return type("SettingsForm", (Form,), attributes)


SettingsForm = _settings_form_class()


def typed_weights(form: Form) -> dict[str, str]:
    return {d.key: form[f"{WEIGHT_PREFIX}{d.key}"].data or "" for d in DIMENSIONS}


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
    """The province's mark, the one form of the city desk and the ranking (``review/marking.py``)."""

    mark = RadioField("推荐结果", choices=[(m.value, m.label) for m in ProvinceMark] + [("", "暂不标记")],
                      validate_choice=False)
    note = StringField("说明")
    seen = HiddenField()  # the fingerprint of the scores the page showed
    bypass = BooleanField(BYPASS_LABEL)
    bypass_reason = StringField(BYPASS_REASON_LABEL)
    quota_exempt = BooleanField(QUOTA.exempt_label)
    confirm_quota = BooleanField(QUOTA.confirm_label)


def typed_mark(form: MarkForm) -> dict[str, Any]:
    """What the mark form asks of ``review.marking.mark_application``."""
    return {"mark": form.mark.data or "", "note": form.note.data or "", "seen": form.seen.data or None,
            "bypass": form.bypass.data, "bypass_reason": form.bypass_reason.data or "",
            "quota_exempt": form.quota_exempt.data, "confirm_quota": form.confirm_quota.data}
