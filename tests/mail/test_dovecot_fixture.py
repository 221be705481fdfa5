"""The Dovecot fixture: skipped with a clear reason when the binary is missing."""

from __future__ import annotations

import pytest


def test_without_the_dovecot_binary_tests_are_skipped_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import erp_exchange_plugin.testing.dovecot_fixtures as fixtures
        fixtures.dovecot_binary = lambda: None
        from erp_exchange_plugin.testing.dovecot_fixtures import dovecot, dovecot_user  # noqa: F401
        """
    )
    pytester.makepyfile("def test_needs_mail(dovecot_user):\n    raise AssertionError('not reached')\n")
    result = pytester.runpytest_inprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*dovecot is not installed: apt-get install dovecot-imapd dovecot-pop3d*"])
