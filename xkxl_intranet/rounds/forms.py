from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from ..applications.models import ProvinceMark
from ..domain.deadlines import parse_deadline
from .models import Disclosure


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
                self.process_errors.append(str(err))

    def pre_validate(self, form):
        if self.data and self.moment is None and not self.process_errors:
            raise ValidationError("无法识别的时间")


class ConfirmForm(FlaskForm):
    pass


class ReportForm(FlaskForm):
    scan_missing_acknowledged = BooleanField("已知悉：加盖公章的汇总表扫描件尚未上传，纸质版另行报送")


class ExtensionForm(FlaskForm):
    deadline = DeadlineField("延期至（北京时间）", validators=[DataRequired("请填写延期截止时间")])
    reason = TextAreaField("延期原因", validators=[DataRequired("请填写延期原因")])
    confirm_past = BooleanField("确认：该时间如已过，保存后该市（州）立即截止")


class ReturnForm(FlaskForm):
    reason = TextAreaField("退回原因", validators=[DataRequired("请填写退回原因")])


class PaperForm(FlaskForm):
    paper_forms_received_on = DateField("申报书纸质版（一式三份）收到日期", validators=[Optional()])
    paper_disc_received_on = DateField("电子版光盘收到日期", validators=[Optional()])
    paper_summary_received_on = DateField("汇总表纸质版收到日期", validators=[Optional()])
    paper_note = StringField("备注")


class MarkForm(FlaskForm):
    mark = RadioField("推荐结果", choices=[(m.value, m.label) for m in ProvinceMark] + [("", "暂不标记")],
                      validate_choice=False)
    note = StringField("说明")


class DisclosureForm(FlaskForm):
    disclosure = RadioField("信息公开选项", choices=[(d.value, d.value) for d in Disclosure],
                            validate_choice=False)


class DeadlineForm(FlaskForm):
    deadline = DeadlineField("报送截止时间（北京时间）", validators=[DataRequired("请填写截止时间")])
    confirm_past = BooleanField("确认：该时间如已过，保存后全部市（州）立即截止")


class PublishForm(FlaskForm):
    publish = StringField()  # "1" publishes the results, "0" withdraws them


class NewRoundForm(FlaskForm):
    year = IntegerField("年度", validators=[DataRequired("请填写年度"), NumberRange(2022, 2100, "年度不正确")])
    title = StringField("名称", validators=[DataRequired("请填写名称")])
    notice_number = StringField("通知文号")
    deadline = DeadlineField("报送截止时间（北京时间）", validators=[DataRequired("请填写截止时间")])
    contact_name = StringField("联系人")
    contact_phone = StringField("联系电话")
    contact_email = StringField("电子邮箱")
