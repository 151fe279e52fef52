"""Shared fixtures: an isolated build cache and real components built once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GUESTS = Path(__file__).parent / "guests"
# bytecodealliance/wac's conformance suite: CI lays shared/ beside the checkout
WAC_CONFORMANCE = Path(os.environ.get("WASMLAB_WAC_CONFORMANCE")
                       or Path(__file__).resolve().parents[2] / "shared" / "conformance" / "wac")

SHOP_WIT = """\
package acme:shop@0.1.0;

interface pricing {
  record item { name: string, price: u32, qty: u32 }
  enum tier { bronze, silver, gold }
  total: func(items: list<item>, tier: tier) -> u32;
  fail: func(reason: string) -> u32;
}

interface logger {
  log: func(msg: string);
}

world shop {
  import logger;
  export pricing;
  export hello: func(name: string) -> string;
}
"""

SHOP_PY = """\
from wit_world.imports import logger


class WitWorld:
    def hello(self, name):
        logger.log("hello called with " + name)
        print("guest stdout:", name)
        return "Hello, " + name


class Pricing:
    def total(self, items, tier):
        discount = {0: 0, 1: 5, 2: 10}[tier.value]
        return sum(i.price * i.qty for i in items) * (100 - discount) // 100

    def fail(self, reason):
        raise ValueError(reason)
"""


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Builds go to a cache of the test session's own, never the user's."""
    path = tmp_path_factory.mktemp("wasmlab-cache")
    old = os.environ.get("WASMLAB_CACHE_DIR")
    os.environ["WASMLAB_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("WASMLAB_CACHE_DIR", None)
    else:
        os.environ["WASMLAB_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def shop_wit():
    import wasmlab

    return wasmlab.define_wit(SHOP_WIT, origin="shop.wit")


@pytest.fixture(scope="session")
def shop(shop_wit):
    """The shop world built from Python with componentize-py (one real build per session)."""
    import wasmlab

    logged = []
    component = wasmlab.build(world="acme:shop/shop", python=SHOP_PY, name="shop", progress=False,
                              imports={"logger": {"log": logged.append}})
    component.logged = logged
    return component


@pytest.fixture(scope="session")
def shop_files(tmp_path_factory, shop_wit):
    """The shop sources as files, as a shell user would have them."""
    root = tmp_path_factory.mktemp("shop-src")
    (root / "shop.wit").write_text(SHOP_WIT)
    (root / "app.py").write_text(SHOP_PY)
    return root


def run_cli(*args: str, cwd=None, input: str | None = None) -> subprocess.CompletedProcess:
    """The wasmlab command as a user runs it (a separate process, same environment)."""
    script = Path(sys.executable).with_name("wasmlab")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "wasmlab.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, input=input,
                          stdin=subprocess.DEVNULL if input is None else None, env=os.environ.copy())


_exit_status = 0


def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Leave without interpreter teardown once everything is reported.

    wasmtime's WASI runtime keeps tokio worker threads that can panic, and abort the process,
    while the interpreter tears down around them: a green run would end with exit code 134.
    The same exit is what the ``wasmlab`` command does (``wasmlab.cli.command``).
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
