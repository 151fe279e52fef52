"""The grants panel, driven as a browser would drive it (values set, button clicked)."""

import pytest

from wasmlab.capabilities import Grants
from wasmlab.errors import WasmlabError


@pytest.fixture
def probe():
    from test_capabilities import PROBE_PY, PROBE_WIT

    import wasmlab

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
