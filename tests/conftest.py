"""Shared fixtures: an isolated build cache and real components built once per session."""

from __future__ import annotations

import os
import sys

import pytest

from guests import SHOP_PY, SHOP_WIT


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
