"""The application form, derived from the round's declared 申报书 (``round.form``, a
:class:`~..domain.declaration.Form`): one form class per declaration.

Validation is not done by WTForms validators: every value goes through the domain
checks (the same code as Excel import and reporting). WTForms gives CSRF, rendering
and re-display of what the clerk typed.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from ..domain.declaration import Form as DeclaredForm
from ..domain.indicators import Field, Kind
from ..domain.parsing import ParsedInput, format_field, parse_input
from ..forms import Form
from .models import Application

YES_NO = [("是", "是"), ("否", "否")]


def _form_field(f: Field):
    match f.kind:
        case Kind.BOOL:
            return RadioField(f.label, choices=YES_NO, validate_choice=False)
        case Kind.CHOICE:
            return RadioField(f.label, choices=[(c, c) for c in f.choices], validate_choice=False)
        case Kind.MULTI:
            return SelectMultipleField(f.label, choices=[(c, c) for c in f.choices],
                                       widget=ListWidget(prefix_label=False),
                                       option_widget=CheckboxInput(), validate_choice=False)
        case _:
            return StringField(f.label)


@cache  # one class per declared form (a round's form is one object for the process's life)
def application_form(declared: DeclaredForm) -> type[Form]:
    """The WTForms class for ``declared``: a field per declared field, the version and the id."""
    attributes: dict[str, Any] = {key: _form_field(f) for key, f in declared.fields.items()}
    attributes["version"] = HiddenField()
    attributes["application_id"] = HiddenField()
    attributes["declared"] = declared
    return type("ApplicationForm", (Form,), attributes)


def form_data(application: Application) -> dict[str, Any]:
    """Stored values as the form shows them (exact decimals, 是/否, lists for checkboxes)."""
    data: dict[str, Any] = {"version": application.version, "application_id": application.id}
    stored = application.values()
    for key, f in application.round.form.fields.items():
        value = stored.get(key)
        if value is None:
            data[key] = [] if f.kind is Kind.MULTI else None
        elif f.kind is Kind.MULTI:
            data[key] = list(value)
        else:
            data[key] = format_field(f, value)
    return data


def typed_values(form: Form) -> ParsedInput:
    """What the clerk typed, read once for everything the request does with it (checks, the
    save, a conflict's differences)."""
    fields = form.declared.fields
    return parse_input({key: form[key].data for key in fields}, fields)


def expected_version(form: Form) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


class ReviewForm(Form):
    decision = RadioField("初审结论", choices=[("passed", "通过（列入本市州推荐汇总表）"),
                                              ("not_recommended", "不推荐"),
                                              ("draft", "撤回结论，退回草稿")],
                          validate_choice=False)
    comment = TextAreaField("初审意见")


class AcknowledgeForm(Form):
    rule = HiddenField()
    note = StringField("确认说明")


class DeleteForm(Form):
    pass


class ConfirmForm(Form):
    """A write without fields (e.g. read the 申报书 again): only its CSRF token."""
