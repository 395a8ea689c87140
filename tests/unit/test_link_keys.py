"""The link's keys and certificates (deploy/pki.py) and how a refused link is explained
(deploy/linkcheck.py): fast checks beside the end-to-end ones over real nats-servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.linkcheck import UNREACHABLE, diagnose
from deploy.pki import (
    PkiError,
    certificate_names,
    ensure_hub_tls,
    is_public_user_key,
    new_region_key,
    public_key_of,
)


def test_region_keys_are_user_nkeys():
    seed, public = new_region_key()
    assert seed.startswith("SU")
    assert is_public_user_key(public)
    assert public_key_of(seed) == public
    assert new_region_key()[0] != seed
    with pytest.raises(PkiError, match="should start with SU"):
        public_key_of(public)


def test_the_hub_certificate_is_made_once_and_reissued_for_a_new_name(tmp_path: Path):
    tls, said = ensure_hub_tls(tmp_path / "tls", ["127.0.0.1", "localhost"])
    assert "made a new CA" in said
    for path in (tls.cert, tls.key, tls.ca, tmp_path / "tls" / "ca-key.pem"):
        assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "tls").stat().st_mode & 0o777 == 0o700
    assert certificate_names(tls.cert.read_bytes()) == ["localhost", "127.0.0.1"]
    ca = tls.ca.read_bytes()

    again, said = ensure_hub_tls(tmp_path / "tls", ["127.0.0.1", "localhost"])
    assert again == tls
    assert said == f"TLS: certificate {tls.cert}"  # nothing made: the same files
    _, said = ensure_hub_tls(tmp_path / "tls", ["hub.example.fi", "127.0.0.1"])
    assert "issued the server certificate" in said
    assert "made a new CA" not in said
    assert tls.ca.read_bytes() == ca  # regions' credentials files stay valid
    assert "hub.example.fi" in certificate_names(tls.cert.read_bytes())


def test_given_certificates_are_checked(tmp_path: Path):
    mine, _ = ensure_hub_tls(tmp_path / "mine", ["127.0.0.1"])
    other, _ = ensure_hub_tls(tmp_path / "other", ["127.0.0.1"])
    given, said = ensure_hub_tls(tmp_path / "unused", [], cert=mine.cert, key=mine.key, ca=mine.ca)
    assert given == mine
    assert "using the given certificate" in said
    with pytest.raises(PkiError, match="is not the key of"):
        ensure_hub_tls(tmp_path / "unused", [], cert=mine.cert, key=other.key, ca=mine.ca)
    with pytest.raises(PkiError, match="is not signed by"):
        ensure_hub_tls(tmp_path / "unused", [], cert=mine.cert, key=mine.key, ca=other.ca)
    with pytest.raises(PkiError, match="all three"):
        ensure_hub_tls(tmp_path / "unused", [], cert=mine.cert)


LOG = "[1] 2026/12/07 12:09:56.451758 [ERR] 127.0.0.1:7422 - lid:7 - "


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            "TLS leafnode handshake error: tls: failed to verify certificate: x509: "
            "certificate signed by unknown authority",
            "the hub did not prove itself: its TLS certificate is not signed by the CA",
        ),
        (
            "TLS leafnode handshake error: tls: failed to verify certificate: x509: "
            "certificate is valid for 127.0.0.1, not hub.example.fi",
            "not valid for the address dialled",
        ),
        ("Leafnode Error 'Authorization Violation'", "the hub refused the region's key"),
        ("Error trying to connect as leafnode to remote server: connection refused", UNREACHABLE),
    ],
)
def test_a_refused_link_is_explained(line: str, says: str):
    state = diagnose(f"{LOG}Leafnode connection created\n{LOG}{line}\n")
    assert not state.up
    assert says in state.problem
    assert state.detail.endswith(line)


def test_an_error_before_the_link_came_up_is_old_news():
    log = f"{LOG}Leafnode Error 'Authorization Violation'\n{LOG}JetStream using domains\n"
    assert diagnose(log).problem == ""
