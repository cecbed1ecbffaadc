"""The application form's outline (issue 25, 4): each section's state from one evaluation."""
from xkxl_intranet.domain.checks import FORM_2022, check_values
from xkxl_intranet.domain.evaluation import Evaluation
from xkxl_intranet.domain.findings import Finding, Severity
from xkxl_intranet.domain.form_outline import section_states

from helpers import application_values


def _states(values, acknowledged=None, extra=()):
    result = check_values(values, clerk_city_code="510100", form=FORM_2022)
    return {s.code: s for s in section_states(Evaluation.of(result, [], acknowledged, list(extra)))}


def test_a_complete_application_is_complete_in_every_section():
    states = _states(application_values())
    assert list(states) == [s.code for s in FORM_2022.sections]
    assert {s.text for s in states.values()} == {"完成"} and {s.level for s in states.values()} == {"ok"}


def test_errors_warnings_and_blanks_are_counted_apart_in_their_sections():
    values = application_values(contact_name="", platform_name="")
    values["devices_operating"] = str(int(values["devices_operating"]) + 5)
    warning = Finding("patents", Severity.WARNING, "申报书中为 43 件", "document:patents")
    states = _states(values, extra=[warning])
    assert (states["一"].text, states["一"].level) == ("1 项未填", "blank")
    assert states["二(1)"].text == "1 项未填"
    assert states["1.1"].level == "error" and states["1.1"].text.endswith("处错误")
    assert (states["2.1"].text, states["2.1"].level) == ("1 条提示", "warning")
    # An acknowledged warning is dealt with.
    acknowledged = {"document:patents": {"note": "已核实", "message": "申报书中为 43 件"}}
    assert _states(values, acknowledged, [warning])["2.1"].text == "完成"


def test_a_new_blank_form_has_only_blanks_and_nothing_is_complete():
    states = _states({})
    assert sum(s.blanks for s in states.values()) == len(FORM_2022.required_keys)
    optional = [s for s in states.values() if not s.blanks and not s.errors]
    assert optional, "the 2022 form has sections of optional fields only"
    # Nothing typed there: not 完成, which the walkthrough read as "done" beside sections never opened.
    assert {(s.text, s.level) for s in optional} == {("选填未填", "empty")}
    assert all(s.level == "blank" for s in states.values() if s.blanks)


def test_a_section_of_optional_fields_is_complete_once_something_is_typed_there():
    blank = _states({})
    code, typed = next((s.code, f) for s in FORM_2022.sections for f in s.fields
                       if blank[s.code].level == "empty" and f.is_numeric)
    values = {typed.key: "12"}
    assert (_states(values)[code].text, _states(values)[code].level) == ("完成", "ok")
