"""Specs, docs and tests kept in sync (the datasette pattern).

Every hook (host and extension) has a pytest-style docstring, a section in docs/ and a test whose
name starts with ``test_hook_<hook name>``; every host-services Protocol has a section; the
configuration reference lists exactly the settings of the catalogue with their defaults.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import erp_exchange_plugin.hookspecs
import erp_hookspecs.services
import erp_hookspecs.specs
from erp_exchange_plugin.settings.catalogue import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _specs(module: object, project: str) -> dict[str, Callable[..., Any]]:
    return {
        name: fn
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if hasattr(fn, f"{project}_spec")
    }


HOST_SPECS = _specs(erp_hookspecs.specs, "erp")
EXTENSION_SPECS = _specs(erp_exchange_plugin.hookspecs, "erp_exchange")
PROTOCOLS = {
    name: cls
    for name, cls in inspect.getmembers(erp_hookspecs.services, inspect.isclass)
    if getattr(cls, "_is_protocol", False) and cls.__module__ == erp_hookspecs.services.__name__
}


def _headings(page: str, level: str = "###") -> set[str]:
    text = (DOCS / page).read_text()
    return set(re.findall(rf"^{level} `([A-Za-z_]+)`$", text, flags=re.MULTILINE))


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def test_there_are_hooks_to_check() -> None:
    assert set(HOST_SPECS) == {"on_user_settings_load", "on_timer_tick", "on_mail_fetch"}
    assert set(EXTENSION_SPECS) == {"erp_exchange_item_types", "erp_exchange_mail_providers"}
    assert {"HostServices", "RecordStore", "MailSink"} <= set(PROTOCOLS)


def test_every_host_hook_has_a_docs_section_and_no_stale_one() -> None:
    assert _headings("host-contract.md") >= set(HOST_SPECS)
    documented_hooks = {h for h in _headings("host-contract.md") if h.startswith("on_")}
    assert documented_hooks == set(HOST_SPECS)


def test_every_extension_hook_has_a_docs_section_and_no_stale_one() -> None:
    assert _headings("extension-hooks.md") == set(EXTENSION_SPECS)


def test_every_host_service_protocol_is_documented() -> None:
    documented = {h for h in _headings("host-contract.md") if not h.startswith("on_")}
    assert documented == set(PROTOCOLS)


@pytest.mark.parametrize("name", sorted({**HOST_SPECS, **EXTENSION_SPECS}))
def test_every_hook_has_a_pytest_style_docstring(name: str) -> None:
    fn = {**HOST_SPECS, **EXTENSION_SPECS}[name]
    doc = inspect.getdoc(fn) or ""
    for param in inspect.signature(fn).parameters:
        assert f":param {param}:" in doc, f"{name} does not document {param}"
    assert ":returns:" in doc
    assert "Example::" in doc
    if getattr(fn, "erp_spec", {}).get("firstresult"):
        assert "firstresult" in doc


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_every_protocol_method_has_a_docstring(name: str) -> None:
    cls = PROTOCOLS[name]
    assert inspect.getdoc(cls)
    for attr, member in vars(cls).items():
        if attr.startswith("_"):
            continue
        target = member.fget if isinstance(member, property) else member
        assert inspect.getdoc(target), f"{name}.{attr} has no docstring"


@pytest.mark.parametrize("name", sorted({**HOST_SPECS, **EXTENSION_SPECS}))
def test_plugin_hooks_have_tests(name: str) -> None:
    assert any(t.startswith(f"test_hook_{name}") for t in _test_names()), (
        f"no test named test_hook_{name}* exists"
    )


def test_configuration_reference_lists_every_setting_with_its_default() -> None:
    text = (DOCS / "configuration.md").read_text()
    text = text[text.index("## Settings") :]
    text = text[: text.index("\n## ", 1)]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (.+?) \|", text, flags=re.MULTILINE))
    assert set(rows) == {s.name for s in SETTINGS}
    for spec in SETTINGS:
        if spec.default is None:
            assert rows[spec.name] == "—", spec.name
        else:
            default = list(spec.default) if isinstance(spec.default, tuple) else spec.default
            assert rows[spec.name] == f"`{json.dumps(default)}`", spec.name


def test_docs_links_point_to_existing_pages() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", page.read_text()):
            assert (DOCS / target).is_file(), f"{page.name} links to missing {target}"
