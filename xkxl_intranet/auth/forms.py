from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from ..domain.parsing import parse_email
from ..forms import Form
from ..rounds.forms import parsed_by
from .models import ROLE_LABELS, Role


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=40, message="用户名不能超过40个字符")])
    password = PasswordField("密码", validators=[DataRequired("请填写密码")])


class ChangePasswordForm(Form):
    current_password = PasswordField("当前密码", validators=[DataRequired("请填写当前密码")])
    new_password = PasswordField("新密码", validators=[DataRequired("请填写新密码")])
    confirm_password = PasswordField(
        "再次输入新密码",
        validators=[DataRequired("请再次输入新密码"), EqualTo("new_password", "两次输入的新密码不一致")])
    # The policy itself (domain/password_policy.py) is checked by the service, after the current
    # password: it needs every city's pinyin and the account's last passwords.


ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in (Role.CITY, Role.PROVINCE, Role.VIEWER, Role.EXPERT,
                                                     Role.ADMIN, Role.AUDITOR)]


class UserEditForm(Form):
    display_name = StringField("姓名/名称", validators=[DataRequired("请填写姓名或名称"), Length(max=60, message="姓名/名称不能超过60个字")])
    role = SelectField("角色", choices=ROLE_CHOICES)
    city_id = SelectField("所属市（州）", coerce=lambda v: int(v) if v not in (None, "", "None") else None,
                          validators=[Optional()])
    phone = StringField("联系电话", validators=[Length(max=40, message="联系电话不能超过40个字符")])
    email = StringField("电子邮箱", validators=[parsed_by(parse_email)])
    is_enabled = BooleanField("启用", default=True)

    def set_city_choices(self, cities):
        self.city_id.choices = [("", "（不属于市州）")] + [(c.id, c.name) for c in cities]


class OwnEmailForm(Form):
    """我的账号: one's own address, for the system's notices (empty: none are mailed)."""

    email = StringField("电子邮箱", validators=[parsed_by(parse_email)])


class UserCreateForm(UserEditForm):
    username = StringField("用户名", validators=[
        DataRequired("请填写用户名"), Length(min=3, max=40, message="用户名长度为3至40个字符"),
        Regexp(r"^[A-Za-z0-9_.-]+$", message="用户名只能包含字母、数字、下划线、点和短横线")])
