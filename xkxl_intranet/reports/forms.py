"""Forms of the reports pages. Validation of values is done by the services (Chinese messages
that name the field); WTForms gives CSRF and re-display."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange

from ..forms import Form
from ..urls import MAX_ID


class ContactForm(Form):
    contact_name = StringField("联系人")
    contact_phone = StringField("联系方式")
    contact_email = StringField("电子邮箱")


class MoveForm(Form):
    application_id = IntegerField("申报", validators=[InputRequired("请选择要移动的申报"),
                                                    NumberRange(1, MAX_ID, "请选择要移动的申报")])
    direction = HiddenField("方向")


class ImportUploadForm(Form):
    file = FileField("填写好的指标模板（.xlsx）")


class ImportConfirmForm(Form):
    token = HiddenField()


class CancelForm(Form):
    pass
