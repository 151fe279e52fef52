"""The grants panel, driven as a browser would drive it (values set, button clicked)."""

import pytest

from wasmlab.capabilities import Grants
from wasmlab.errors import WasmlabError


@pytest.fixture
def probe():
    import wasmlab

    from guests import PROBE_PY, PROBE_WIT

    wasmlab.define_wit(PROBE_WIT)
    component = wasmlab.build(world="test:probe/probe", python=PROBE_PY, progress=False)
    component.grants = Grants()
    return component


def test_a_denied_read_becomes_allowed_with_one_click(probe, tmp_path):
    (tmp_path / "note.txt").write_text("hello")
    assert probe.read_file("/data/note.txt").startswith("error:")
    panel = probe.grants_panel()
    panel.ro_dirs.value = f"{tmp_path}::/data"
    panel.env.value = "MODE=panel"
    panel.rerun.click()
    assert probe.grants.dirs[0].read_only and probe.grants.env == (("MODE", "panel"),)
    assert panel.last_result == "ok:hello"
    assert panel.last_report.status("filesystem") == "used"
    assert panel.last_report.usage.files == {"/data/note.txt": {"read"}}


def test_limits_from_the_panel_and_errors_shown_in_it(probe):
    from wasmlab.capabilities import Limits

    probe.limits = Limits(timeout=0.3)
    with pytest.raises(WasmlabError):
        probe.spin()
    panel = probe.grants_panel()
    assert panel.timeout.value == 0.3
    result = panel.run()
    assert isinstance(result, WasmlabError) and "time limit" in result.message
    panel.timeout.value = 0
    panel.max_memory.value = "bogus"
    assert isinstance(panel.run(), WasmlabError)


def test_grants_panel_labels_take_the_width_they_need(probe):
    """ipywidgets cuts a description at a fixed width ("environm…"); the panel's take their own width
    (the browser test measures them in JupyterLab)."""
    panel = probe.grants_panel()
    described = (panel.dirs, panel.ro_dirs, panel.env, panel.network, panel.name_lookup, panel.timeout,
                 panel.max_memory)
    assert all(widget.description for widget in described)
    assert {widget.style.description_width for widget in described} == {"initial"}


def test_a_denied_capability_the_guest_reached_for_is_reported_as_attempts(probe):
    probe.read_file("/nope")  # Python reads its environment on start-up; nothing is granted
    report = probe.report()
    rows = {row[0]: row for row in report.rows()}
    assert rows["environment"][2] == "denied"
    assert rows["environment"][3].endswith("attempts, nothing granted") or rows["environment"][3].endswith(
        "attempt, nothing granted")
    assert report.status("environment") == "refused"
