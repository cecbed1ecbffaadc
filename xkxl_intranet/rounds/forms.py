from collections.abc import Callable

from wtforms import BooleanField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, ValidationError

from ..domain.dates import DAY_EXAMPLES, read_day
from ..domain.deadlines import parse_deadline
from ..domain.findings import ParseError
from ..domain.parsing import parse_email, parse_phone
from ..forms import Form
from .models import Disclosure

DATE_PLACEHOLDER = "年-月-日，如 2022-03-18"
DATE_HINT = f"日期如 {DAY_EXAMPLES}；未收到的留空。"


class ChineseDateField(StringField):
    """A day typed as 2022-03-18, 2022/3/18 or 2022年3月18日, in a text box that shows the pattern.
    (The browser's own date box follows the PC's language: mm/dd/yyyy on an English Windows.)
    A month alone is refused: a date of receipt is a day."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"placeholder": DATE_PLACEHOLDER, "autocomplete": "off", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist:
            try:
                self.data = read_day(valuelist[0], self.label.text)
            except ParseError as err:
                self.process_errors.append(err.message)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if self.data else ""


class DeadlineField(StringField):
    """A deadline typed as Asia/Shanghai local time (or ISO with an offset)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.moment = None
        if self.data:
            try:
                self.moment = parse_deadline(self.data)
            except ValueError as err:
                self.moment = None
                self.process_errors.append(f"「{self.label.text}」：{err}")

    def pre_validate(self, form):
        if self.data and self.moment is None and not self.process_errors:
            raise ValidationError(f"「{self.label.text}」：无法识别的时间")


class ConfirmForm(Form):
    pass


class ReportForm(Form):
    scan_missing_acknowledged = BooleanField("已知悉：加盖公章的汇总表扫描件尚未上传，纸质版另行报送")


class ExtensionForm(Form):
    deadline = DeadlineField("延期至（北京时间）", validators=[DataRequired("请填写延期截止时间")])
    reason = TextAreaField("延期原因", validators=[DataRequired("请填写延期原因")])
    confirm_past = BooleanField("确认立即截止：所填延期时间也已过去，保存后该市（州）立即不能报送")


class ReturnForm(Form):
    reason = TextAreaField("退回原因", validators=[DataRequired("请填写退回原因")])


class PaperForm(Form):
    paper_forms_received_on = ChineseDateField("申报书纸质版（一式三份）收到日期")
    paper_disc_received_on = ChineseDateField("电子版光盘收到日期")
    paper_summary_received_on = ChineseDateField("汇总表纸质版收到日期")
    paper_note = StringField("备注")


class DisclosureForm(Form):
    disclosure = RadioField("信息公开选项", choices=[(d.value, d.value) for d in Disclosure],
                            validate_choice=False)


class DeadlineForm(Form):
    deadline = DeadlineField("报送截止时间（北京时间）", validators=[DataRequired("请填写截止时间")])
    confirm_past = BooleanField("确认：该时间如已过，保存后全部市（州）立即截止")


class PublishForm(Form):
    publish = StringField()  # "1" publishes the results, "0" withdraws them
    # Publishing while cities have not reported or before the deadline: the officer confirms
    # it (any value but "" or "false", e.g. a checkbox or hidden input with value "y").
    confirm_early = BooleanField("确认提前公布")


class YearField(IntegerField):
    """A year; what is not one is refused naming the field (WTForms' own message does not)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata([v.strip() for v in valuelist])
        except ValueError:
            raise ValueError(f"「{self.label.text}」请填写四位数字的年份，如 2023") from None


def parsed_by(parse: Callable[[object, str], str | None]):
    """A validator that reads the field as the domain does (phone, e-mail): its Chinese message
    names the field, and what is kept is the normalised value."""

    def validate(form, field):
        try:
            field.data = parse(field.data, field.label.text) or ""
        except ParseError as err:
            raise ValidationError(str(err)) from None
    return validate


class NewRoundForm(Form):
    # InputRequired, not DataRequired: the latter would replace "not a year" by "please fill in".
    year = YearField("年度", validators=[InputRequired("请填写年度"),
                                         NumberRange(2022, 2100, "「年度」应在2022至2100之间")])
    title = StringField("名称", validators=[DataRequired("请填写名称")])
    notice_number = StringField("通知文号")
    deadline = DeadlineField("报送截止时间（北京时间）", validators=[DataRequired("请填写截止时间")])
    ministry_notice_number = StringField("依据的工业和信息化部通知文号")
    contact_name = StringField("联系人", validators=[DataRequired("请填写联系人（各市州页面和页脚显示）")])
    contact_phone = StringField("联系电话", validators=[DataRequired("请填写联系电话"), parsed_by(parse_phone)])
    contact_email = StringField("电子邮箱", validators=[parsed_by(parse_email)])
    confirm_replace = BooleanField("确认开启新批次：当前批次尚未结束时，开启后各页面只显示新批次")
