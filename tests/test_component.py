import pytest

import wasmlab
from wasmlab.errors import ArgumentError, LinkError, Trap


def test_summary_groups_wasi_imports_into_capabilities(shop):
    caps = shop.capabilities
    assert {"filesystem", "network", "environment", "stdio"} <= set(caps)
    assert all(name.startswith("wasi:filesystem/") for name in caps["filesystem"])
    text = shop.summary()
    assert "acme:shop/logger@0.1.0" in text
    assert "total: func(items: list<item>, tier: tier) -> u32" in text


def test_display_bundle_has_a_picture_and_the_wit(shop):
    bundle = shop._repr_mimebundle_()
    assert bundle["text/plain"] == shop.summary()
    from display_helpers import graph_nodes, pictures_in

    [picture] = pictures_in(bundle["text/html"])
    assert any("export acme:shop/pricing@0.1.0" in text for text in graph_nodes(picture).values())
    assert "export acme:shop/pricing@0.1.0" in shop.wit


def test_exports_are_attributes_and_full_names(shop):
    items = [{"name": "apple", "price": 100, "qty": 3}]
    assert shop.pricing.total(items, "silver") == 285
    assert shop["acme:shop/pricing@0.1.0"]["total"](items, "gold") == 270
    assert shop.export("pricing#total")(items, "bronze") == 300
    assert shop.call("acme:shop/pricing@0.1.0#total", items, "bronze") == 300
    assert "pricing" in dir(shop) and "hello" in dir(shop)


def test_unknown_export_lists_what_exists(shop):
    with pytest.raises(AttributeError, match="pricing"):
        shop.nope


def test_host_import_and_guest_stdout(shop, capsys):
    assert shop.hello("Ada") == "Hello, Ada"
    assert shop.logged[-1] == "hello called with Ada"
    assert "guest stdout: Ada" in capsys.readouterr().out


def test_guest_exception_is_a_trap_and_the_next_call_works(shop):
    with pytest.raises(Trap) as info:
        shop.pricing.fail("out of stock")
    err = info.value
    assert err.trap_kind == "unreachable"
    assert "out of stock" in err.stderr  # the guest's Python traceback
    assert "Traceback" in err.render() and "wasmlab/" not in err.render()
    assert shop.pricing.total([], "gold") == 0


def test_wrong_arity_is_refused_before_the_call(shop):
    with pytest.raises(ArgumentError):
        shop.pricing.total([])


def test_missing_imports_are_listed_with_signatures(shop):
    fresh = wasmlab.Component(shop.name, shop.wasm_path, shop._entry.meta, shop._entry)
    with pytest.raises(LinkError) as info:
        fresh.hello("x")
    assert "acme:shop/logger@0.1.0#log: func(msg: string)" in info.value.message
    stubbed = fresh.instantiate(stub_missing=True, echo=False)
    with pytest.raises(Trap):
        stubbed.call(("hello",), fresh.exports["hello"].function, ("x",), {})


def test_instances_are_independent(shop):
    a = shop.instantiate(echo=False)
    b = shop.instantiate(echo=False)
    assert a.store is not b.store


def test_toolchain_internals_are_not_shown_as_the_components_own(shop):
    assert "exports" in shop.exports  # componentize-py's init hook is really there
    assert "exports" not in shop.user_exports
    assert "init:" not in shop.summary()
    assert isinstance(shop.exports, dict)  # the attribute is the export table, not the hook


def test_a_guest_python_exception_is_named_in_the_message(shop):
    with pytest.raises(Trap) as info:
        shop.pricing.fail("sold out")
    assert info.value.message == "acme:shop/pricing@0.1.0#fail raised ValueError: sold out"
