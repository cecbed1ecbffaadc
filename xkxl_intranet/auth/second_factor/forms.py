from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ...forms import Form

CODE_HINT = "手机验证器中当前显示的6位数字"


def _code_field(label: str = "验证码") -> StringField:
    return StringField(label, validators=[DataRequired(f"请填写{label}"),
                                          Length(max=32, message=f"{label}不能超过32个字符")])


class ConfirmEnrolmentForm(Form):
    code = _code_field()


class LoginCodeForm(Form):
    """The log-in's second step: a current code, or a recovery code."""

    code = _code_field("验证码或恢复码")


class PasswordAndCodeForm(Form):
    """Re-generating the recovery codes and turning the second factor off ask for both."""

    password = PasswordField("当前密码", validators=[DataRequired("请填写当前密码")])
    code = _code_field()
