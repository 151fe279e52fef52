"""The magics on a real IPython shell, as a notebook runs them."""

import pytest

from wasmlab.errors import BuildError, WitError

from helpers import ipython_shell

GREETER_WIT = """package demo:greeter;

world greeter {
  export greet: func(name: string) -> string;
}
"""


@pytest.fixture(scope="module")
def ip():
    return ipython_shell()


def run(ip, cell):
    result = ip.run_cell(cell)
    return result


def test_wit_cell_registers_and_displays(ip):
    result = run(ip, "%%wit\n" + GREETER_WIT)
    assert result.success
    assert result.result.packages[0].name == "demo:greeter"


def test_wit_error_is_located_in_the_cell_as_the_user_sees_it(ip):
    bad = GREETER_WIT.replace("string;", "strin;")
    result = run(ip, "%%wit\n" + bad)
    err = result.error_in_exec
    assert isinstance(err, WitError)
    # line 1 of the cell is the %%wit line: the typo is on cell line 5
    assert err.location.line == 5
    lines = err._render_traceback_()
    assert any(line.startswith("5 |") and "strin" in line for line in lines)
    assert not any("Traceback" in line for line in lines)


def test_component_cell_builds_binds_and_calls(ip):
    assert run(ip, "%%wit\n" + GREETER_WIT).success
    result = run(ip, "%%component hello --world greeter\nclass WitWorld:\n    def greet(self, name):\n"
                     "        return f'Hello, {name}!'\n")
    assert result.success, result.error_in_exec
    assert ip.user_ns["hello"].greet("Wasm") == "Hello, Wasm!"


def test_component_cell_error_line_counts_the_magic_line(ip):
    run(ip, "%%wit\n" + GREETER_WIT)
    result = run(ip, "%%component broken --world greeter\nclass WitWorld:\n    def greet(self, name)\n"
                     "        return name\n")
    err = result.error_in_exec
    assert isinstance(err, BuildError)
    assert err.location.line == 3
    assert "broken" not in ip.user_ns


def test_stub_line_magic(ip):
    run(ip, "%%wit\n" + GREETER_WIT)
    assert run(ip, "%component placeholder --world greeter --stub").success
    assert "greet" in ip.user_ns["placeholder"].exports


def test_config_traitlets(ip):
    run(ip, "%config Wasmlab.progress = False")
    magics = next(c for c in ip.configurables if type(c).__name__ == "Wasmlab")
    assert magics.progress is False
    run(ip, "%config Wasmlab.progress = True")
    assert magics.progress is True


def test_kernel_survives_bad_input(ip):
    for cell in ["%%wit\n", "%%wit\npackage", "%%component 1bad --world greeter --stub",
                 "%%component x --world nowhere\nclass WitWorld: pass\n"]:
        result = run(ip, cell)
        assert not result.success
    assert run(ip, "1 + 1").result == 2


def test_wat_cell_gives_a_core_module_with_located_errors(ip):
    result = run(ip, "%%wat adder\n(module\n  (func (export \"add\") (param i32 i32) (result i32)\n"
                     "    (i32.add (local.get 0) (local.get 1))))")
    assert result.success, result.error_in_exec
    assert ip.user_ns["adder"].add(40, 2) == 42
    result = run(ip, "%%wat broken\n(module\n  (func\n    i32.bogus))")
    assert isinstance(result.error_in_exec, BuildError)
    assert result.error_in_exec.location.line == 4


def test_the_extension_retakes_the_wakeup_fd_before_each_cell(ip):
    import signal

    from wasmlab.runtime import engines

    previous = signal.set_wakeup_fd(-1)  # dropped by someone else (an asyncio loop does so when it closes)
    ip.run_cell("1 + 1")
    assert signal.set_wakeup_fd(previous) == engines._watcher().writer.fileno()
