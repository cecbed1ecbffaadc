"""The province's form for a new announcement. What is required and how long a field may be
is checked by ``publishing.check_draft`` (one message per field, in Chinese), so the form only
carries the values and the CSRF token."""
from __future__ import annotations

from wtforms import MultipleFileField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form
from .models import BODY_MAX, TITLE_MAX
from .publishing import Draft

ALL, CHOSEN = "all", "chosen"


class AnnouncementForm(Form):
    title = StringField("标题", render_kw={"maxlength": TITLE_MAX, "required": True})
    body = TextAreaField("正文", render_kw={"maxlength": BODY_MAX, "rows": 12})
    scope = RadioField("接收市（州）", choices=[(ALL, "全部市州"), (CHOSEN, "指定市（州）")], default=ALL,
                       validate_choice=False)
    cities = SelectMultipleField("指定市（州）", coerce=int, widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput(), validate_choice=False)
    attachments = MultipleFileField("附件")

    def draft(self) -> Draft:
        return Draft(self.title.data or "", self.body.data or "", self.scope.data != CHOSEN,
                     frozenset(self.cities.data or ()))


class ConfirmForm(Form):
    """A button that only needs its CSRF token (「已阅」)."""
