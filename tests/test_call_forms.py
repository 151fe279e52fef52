"""Call forms: an ipywidgets form per export, generated from the WIT signature, used without a
browser (set the widgets' values, click the button, read what the form shows)."""

from __future__ import annotations

import ipywidgets as w
import pytest

from kitchen_sink import kitchen_sink


@pytest.fixture(scope="module")
def kitchen():
    return kitchen_sink()


def test_number_fields_carry_the_types_range(kitchen):
    form = kitchen.form("add")
    a, b = form.fields["a"].widget, form.fields["b"].widget
    assert isinstance(a, w.BoundedIntText) and (a.min, a.max) == (0, 2**32 - 1)
    a.value, b.value = 40, 2
    form.call_button.click()
    assert form.last_result == 42 and form.result_text == "42"
    s8 = kitchen.form("kit#echo-s8").fields["x"].widget
    assert (s8.min, s8.max) == (-128, 127)
    s64 = kitchen.form("echo-s64").fields["x"].widget
    s64.value = -2**63
    assert s64.value == -2**63


def test_text_floats_and_checkboxes(kitchen):
    form = kitchen.form("kit#echo-string")
    form.fields["x"].widget.value = 'quote " and \U0001F600'
    form.call_button.click()
    assert form.result_text == '"quote \\" and \U0001F600"'
    form = kitchen.form("kit#echo-f64")
    assert isinstance(form.fields["x"].widget, w.FloatText)
    form.fields["x"].widget.value = -2.5
    form.call_button.click()
    assert form.result_text == "-2.5"
    form = kitchen.form("kit#echo-bool")
    form.fields["x"].widget.value = True
    form.call_button.click()
    assert form.result_text == "true"


def test_enum_dropdown_and_flag_checkboxes(kitchen):
    form = kitchen.form("kit#echo-color")
    dropdown = form.fields["x"].widget
    assert isinstance(dropdown, w.Dropdown) and list(dropdown.options) == ["red", "green", "blue-ish"]
    dropdown.value = "blue-ish"
    form.call_button.click()
    assert form.result_text == "blue-ish"
    form = kitchen.form("kit#echo-perms")
    boxes = form.fields["x"].boxes
    assert list(boxes) == ["read", "write", "exec"] and all(isinstance(b, w.Checkbox) for b in boxes.values())
    boxes["exec"].value = boxes["read"].value = True
    form.call_button.click()
    assert form.result_text == "{read, exec}"


def test_nested_record_with_option_enum_flags_and_list(kitchen):
    form = kitchen.form("kit#echo-person")
    person = form.fields["x"]
    person.fields["name"].widget.value = "Ada"
    person.fields["age"].widget.value = 36
    person.fields["tags"].widget.value = '["math", "engines"]'
    home = person.fields["home"]
    assert home.inner.fields["x"].widget.disabled  # unticked option: the inner fields are off
    home.some.value = True
    assert not home.inner.fields["x"].widget.disabled
    home.inner.fields["x"].widget.value = 3
    person.fields["color"].widget.value = "green"
    person.fields["perms"].boxes["write"].value = True
    form.call_button.click()
    assert form.last_error is None, form.result_text
    assert form.result_text == ('{name: "Ada", age: 36, tags: ["math", "engines"], home: some({x: 3, y: 0}), '
                                'color: green, perms: {write}}')


def test_variant_dropdown_shows_the_payload_of_the_chosen_case(kitchen):
    form = kitchen.form("kit#echo-shape")
    shape = form.fields["x"]
    assert list(shape.case.options) == ["circle", "rect", "dot"]
    assert shape.payload_box.children == (shape.payloads["circle"].widget,)
    shape.case.value = "dot"
    assert shape.payload_box.children == ()
    form.call_button.click()
    assert form.result_text == "dot"
    shape.case.value = "rect"
    shape.payloads["rect"].fields["y"].widget.value = -4
    form.call_button.click()
    assert form.result_text == "rect({x: 0, y: -4})"


def test_nested_options_and_results(kitchen):
    form = kitchen.form("kit#echo-nested")
    outer = form.fields["x"]
    outer.some.value = True
    form.call_button.click()
    assert form.result_text == "some(none)"
    outer.inner.some.value = True
    outer.inner.inner.widget.value = 5
    form.call_button.click()
    assert form.result_text == "some(some(5))"
    form = kitchen.form("kit#checked-div")
    form.fields["a"].widget.value = 1
    form.call_button.click()  # b is 0: the guest returns err, shown as a value, not a crash
    assert form.result_text == 'err("division by zero")'


def test_wave_text_fields_and_their_errors(kitchen):
    form = kitchen.form("kit#echo-tuple")
    text = form.fields["x"].widget
    assert "WAVE" in text.tooltip
    text.value = '(1, "a", 2.5)'
    form.call_button.click()
    assert form.result_text == '(1, "a", 2.5)'
    text.value = '(1, "a")'
    result = form.call()
    assert form.last_error is result and "has 3 elements" in form.result_text
    form = kitchen.form("kit#echo-bytes")
    form.fields["x"].widget.value = "[1, 2, 300]"
    form.call_button.click()
    assert form.last_error is not None and "out of range for u8" in form.result_text


def test_resources_are_left_to_python(kitchen):
    form = kitchen.form("kit#peek")
    assert "cannot be entered in a form" in form.fields["c"].widget.value
    form.call_button.click()
    assert form.last_error is not None and "call the function from Python" in form.result_text


def test_forms_cover_every_exported_function(kitchen):
    accordion = kitchen.forms()
    titles = [accordion.get_title(i) for i in range(len(accordion.children))]
    assert "add" in titles and "test:kitchen/kit@0.1.0#echo-person" in titles
    assert not any("[" in t for t in titles)  # resource methods are called on handles
    echo_u8 = accordion.children[titles.index("test:kitchen/kit@0.1.0#echo-u8")]
    echo_u8.fields["x"].widget.value = 255
    echo_u8.call_button.click()
    assert echo_u8.result_text == "255"


def test_the_grants_panel_still_works(kitchen):
    panel = kitchen.grants_panel()
    kitchen.add(1, 2)
    assert panel.run() == 3
