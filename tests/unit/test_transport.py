"""exchangelib's adapter: per-origin CA routing, request counting, chunked response reading."""

from __future__ import annotations

from pathlib import Path

from erp_exchange_plugin.ews import transport


def test_responses_iterate_in_large_chunks_by_default() -> None:
    response = transport.ChunkedResponse()
    response._content = b"x" * (transport.CHUNK_BYTES + 10)
    response._content_consumed = True
    assert [len(c) for c in response.iter_content()] == [transport.CHUNK_BYTES, 10]
    assert len(list(response.iter_content(1000))) == 66  # an explicit size is still honoured


def test_ca_files_are_routed_per_origin(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    transport.trust_ca_for("https://Mail.Example.com/EWS/Exchange.asmx", ca)
    assert transport.ca_for("https://mail.example.com:443/other") == str(ca)
    assert transport.ca_for("https://mail.example.com:8443/") is None
    assert transport.ca_for("https://other.example.com/") is None
    transport.trust_ca_for("https://mail.example.com/", None)
    assert transport.ca_for("https://mail.example.com/") is None


def test_install_is_idempotent_and_keeps_our_adapter() -> None:
    from exchangelib.protocol import BaseProtocol

    transport.install()
    transport.install()
    assert issubclass(BaseProtocol.HTTP_ADAPTER_CLS, transport.CaRoutingAdapter)
