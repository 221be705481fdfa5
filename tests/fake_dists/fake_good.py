"""A well-behaved extension: one item type, one mail provider."""

from exchangelib import Message

from erp_exchange_plugin.hookspecs import hookimpl
from erp_exchange_plugin.plugin_types import EwsMapping, ItemType, MailProvider


def _to_exchange(fields):
    return {"subject": fields["title"]}


def _to_erp(item):
    return {"title": item.subject}


@hookimpl
def erp_exchange_item_types():
    yield ItemType(
        name="journal",
        erp_entity="journal_entry",
        description="ERP journal entries <-> Exchange posts",
        backends={"ews": EwsMapping("inbox", Message, ("subject",), _to_exchange, _to_erp)},
    )


def fetch(host, mailbox, context):
    return None


@hookimpl
def erp_exchange_mail_providers():
    return [MailProvider(protocol="jmap", description="JMAP", fetcher=fetch)]
