"""Several mailboxes fetched at once, from threads, into one host and one state database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from erp_exchange_plugin.testing import StubHost
from erp_exchange_plugin.testing.dovecot import Dovecot
from erp_exchange_plugin.testing.dovecot_fixtures import DovecotUser
from tests.mail.conftest import Fetcher, mailbox_for, message


def test_several_mailboxes_fetched_concurrently(dovecot: Dovecot, host: StubHost, fetch: Fetcher) -> None:
    users = []
    for i in range(6):
        name = f"concurrent{i}"
        dovecot.add_user(name, f"pw-concurrent-{i}")
        users.append(DovecotUser(dovecot, name, f"pw-concurrent-{i}"))
    mailboxes = []
    for i, user in enumerate(users):
        for n in range(40):
            user.deliver(message(1000 * i + n, size=2000 if n % 5 == 0 else 0))
        mailboxes.append(mailbox_for(user, "imap" if i % 2 else "pop3", "tls" if i % 3 else "starttls"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        reports = list(pool.map(fetch, mailboxes))
    assert [(r.delivered, r.errors) for r in reports] == [(40, ())] * 6
    for i, mailbox in enumerate(mailboxes):
        stored = host.received_mail(mailbox_id=mailbox.mailbox_id)
        assert [m.raw for m in stored] == [
            message(1000 * i + n, size=2000 if n % 5 == 0 else 0) for n in range(40)
        ]

    # The same mailbox twice at once: one fetch runs, the other is turned away; nothing doubles.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(40, 240):
            users[1].deliver(message(1000 + n))
        twice = list(pool.map(fetch, [mailboxes[1], mailboxes[1]]))
    assert sum(r.delivered for r in twice) == 200
    assert len(host.received_mail(mailbox_id=mailboxes[1].mailbox_id)) == 240
