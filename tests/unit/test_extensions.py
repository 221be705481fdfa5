"""Loading our extensions from entry points: good, broken and conflicting ones."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import structlog

from erp_exchange_plugin.manager import BROKEN, LOADED, ExtensionManager, PluginStatus
from erp_exchange_plugin.plugin_types import EwsMapping, ItemType, MailProvider, PluginError


def _by_name(manager: ExtensionManager) -> dict[str, PluginStatus]:
    return {s.name: s for s in manager.statuses}


@pytest.fixture
def manager(fake_dists: Path) -> ExtensionManager:
    return ExtensionManager()


def test_hook_erp_exchange_mail_providers_good_extension_is_loaded(manager: ExtensionManager) -> None:
    good = _by_name(manager)["good"]
    assert good.state == LOADED
    assert good.source == "entry point good = fake_good (fake-good 1.0)"
    assert good.hooks == ("erp_exchange_item_types", "erp_exchange_mail_providers")
    assert good.mail_providers == ("jmap",)
    assert "jmap" in manager.mail_providers
    assert isinstance(manager.mail_providers["jmap"], MailProvider)


def test_import_failure_is_skipped_with_its_reason(manager: ExtensionManager) -> None:
    status = _by_name(manager)["import_fails"]
    assert status.state == BROKEN
    assert status.reason is not None
    assert "import failed" in status.reason
    assert "module_that_does_not_exist" in status.reason


def test_hook_not_matching_its_spec_is_skipped(manager: ExtensionManager) -> None:
    status = _by_name(manager)["bad_signature"]
    assert status.state == BROKEN
    assert status.reason is not None
    assert "account" in status.reason
    assert manager.pm.get_plugin("bad_signature") is None


def test_unknown_hook_is_skipped_by_check_pending(manager: ExtensionManager) -> None:
    status = _by_name(manager)["unknown_hook"]
    assert status.state == BROKEN
    assert status.reason is not None
    assert "erp_exchange_item_type" in status.reason
    assert manager.pm.get_plugin("unknown_hook") is None
    manager.pm.check_pending()  # nothing unknown is left registered


def test_hook_that_raises_is_skipped(manager: ExtensionManager) -> None:
    status = _by_name(manager)["raises"]
    assert status.state == BROKEN
    assert status.reason is not None
    assert "database of memos is unreachable" in status.reason


def test_yield_of_a_wrong_type_is_skipped(manager: ExtensionManager) -> None:
    status = _by_name(manager)["bad_yield"]
    assert status.state == BROKEN
    assert status.reason is not None
    assert "which is not of type ItemType" in status.reason


def test_hook_erp_exchange_item_types_duplicate_rejected_naming_both(manager: ExtensionManager) -> None:
    statuses = _by_name(manager)
    assert "journal" not in manager.item_types
    for name in ("good", "dup_item_type"):
        problems = " ".join(statuses[name].problems)
        assert "'journal' is declared by 'dup_item_type' and 'good'" in problems
    # the rest of each extension still works
    assert statuses["dup_item_type"].item_types == ("memos",)
    assert "memos" in manager.item_types
    assert statuses["good"].state == statuses["dup_item_type"].state == LOADED


def test_builtin_keeps_its_name_against_an_extension(fake_dists: Path) -> None:
    manager = ExtensionManager(builtins=["tests.unit.builtin_journal"])
    statuses = _by_name(manager)
    builtin = statuses["tests.unit.builtin_journal"]
    assert builtin.builtin
    assert manager.item_types["journal"].description == "built-in journal"
    assert builtin.item_types == ("journal",)
    assert any("kept by built-in 'tests.unit.builtin_journal'" in p for p in statuses["good"].problems)
    assert any("'good'" in p and "'dup_item_type'" in p for p in statuses["good"].problems)


def test_broken_extensions_are_logged_as_warnings(fake_dists: Path) -> None:
    with structlog.testing.capture_logs() as logs:
        manager = ExtensionManager()
    broken = {s.name for s in manager.statuses if s.state == BROKEN}
    warned = {
        e["extension"] for e in logs if e["log_level"] == "warning" and e["event"] == "extension skipped"
    }
    assert broken == warned == {"import_fails", "bad_signature", "unknown_hook", "raises", "bad_yield"}


def test_without_entry_points_nothing_foreign_is_loaded(fake_dists: Path) -> None:
    manager = ExtensionManager(entry_points=False)
    assert all(s.builtin for s in manager.statuses)


def test_status_dicts_are_json_ready(manager: ExtensionManager) -> None:
    import json

    text = json.dumps(manager.status_dicts())
    assert '"state": "broken"' in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Contacts"}, "lower-case"),
        ({"name": "1st"}, "lower-case"),
        ({"erp_entity": ""}, "erp_entity"),
        ({"backends": {}}, "no backend"),
        ({"backends": {"ews": object()}}, "EwsMapping"),
    ],
)
def test_item_type_declarations_are_validated(kwargs: dict[str, object], message: str) -> None:
    from exchangelib import Contact

    base: dict[str, object] = {
        "name": "contacts2",
        "erp_entity": "address",
        "description": "d",
        "backends": {"ews": EwsMapping("contacts", Contact, ("display_name",), dict, lambda i: {})},
    }
    with pytest.raises(PluginError, match=message):
        ItemType(**{**base, **kwargs})  # type: ignore[arg-type]


def test_logging_does_not_need_global_configuration() -> None:
    assert logging.getLogger("erp_exchange_plugin").handlers == []


def test_hook_erp_exchange_item_types_builtin_contacts_come_through_the_hook() -> None:
    manager = ExtensionManager(entry_points=False)
    status = _by_name(manager)["erp_exchange_plugin.item_types.contacts"]
    assert status.builtin
    assert status.hooks == ("erp_exchange_item_types",)
    assert status.item_types == ("contacts",)
    assert manager.item_types["contacts"].erp_entity == "address"
    mail = _by_name(manager)["erp_exchange_plugin.mail.builtin"]
    assert mail.mail_providers == ("ews", "imap", "pop3")


def test_a_third_party_duplicate_of_a_builtin_name_names_both_providers(tmp_path: Path) -> None:
    from exchangelib import Contact

    from erp_exchange_plugin.hookspecs import hookimpl

    class Rogue:
        @hookimpl
        def erp_exchange_item_types(self) -> list[ItemType]:
            mapping = EwsMapping("contacts", Contact, ("display_name",), dict, lambda i: {})
            return [ItemType("contacts", "address", "rogue contacts", {"ews": mapping})]

    manager = ExtensionManager(entry_points=False, plugins=[("rogue", Rogue())])
    assert manager.item_types["contacts"].description == "ERP addresses <-> Exchange contacts"
    (problem,) = _by_name(manager)["rogue"].problems
    assert "'erp_exchange_plugin.item_types.contacts' and 'rogue'" in problem
