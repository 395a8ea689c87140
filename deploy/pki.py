"""The keys and certificates of the encrypted, key-based leafnode link.

- **TLS** (:class:`HubTLS`): the hub's leafnode listener requires TLS. ``mgn hub up`` uses the
  certificate, key and CA it is given, or on a first install makes its own: a CA
  (``tls/ca.pem``, ``tls/ca-key.pem``) and a server certificate signed by it (``tls/hub.pem``,
  ``tls/hub-key.pem``) whose subject alternative names are the hub's host names and IP
  addresses (:func:`hub_names`). Every file is 0600 in a 0700 directory. A server certificate
  made here that lacks a name the hub is now reached by is issued again (same CA: regions'
  credentials files stay valid). The CA certificate goes into each region's credentials file;
  a region's leaf server accepts only a hub whose certificate that CA signed.
- **NKeys** (:func:`new_region_key`): a region authenticates with an Ed25519 user nkey. Its
  seed (``SU...``) exists only in the region's credentials file; the hub keeps the public key
  (``U...``) and its nats-server checks the region's signature of a per-connection nonce, so
  nothing secret crosses the link and the hub stores nothing a thief could log in with.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nkeys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shared.files import private_dir, write_private

CA_YEARS = 10
SERVER_YEARS = 2
_RENEW_BEFORE = dt.timedelta(days=30)


class PkiError(ValueError):
    """A certificate, key or nkey given to us is missing or unusable; the message says which."""


# -- nkeys ----------------------------------------------------------------------------------


def new_region_key() -> tuple[str, str]:
    """A fresh user nkey: ``(seed, public_key)``, e.g. ``("SU...", "U...")``."""
    seed = nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER)
    return seed.decode(), public_key_of(seed.decode())


def public_key_of(seed: str) -> str:
    """The public key (``U...``) of a user nkey seed; PkiError if it is not one."""
    if not seed.startswith("SU"):
        raise PkiError("not a NATS user nkey seed (it should start with SU)")
    try:
        pair = nkeys.from_seed(bytearray(seed.encode()))
        return str(pair.public_key.decode())
    except (nkeys.NkeysError, ValueError, TypeError) as exc:
        raise PkiError(f"not a valid NATS user nkey seed: {exc}") from None


def is_public_user_key(key: str) -> bool:
    """Is ``key`` a user nkey's public key (``U`` + 55 base32 characters)?"""
    return len(key) == 56 and key.startswith("U") and key.isalnum() and key.isupper()


# -- TLS ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HubTLS:
    """The hub's leafnode TLS: its certificate chain, key, and the CA regions trust."""

    cert: Path
    key: Path
    ca: Path

    def ca_pem(self) -> str:
        return self.ca.read_text(encoding="ascii")


def hub_names(host: str, advertise_hosts: Iterable[str] = ()) -> list[str]:
    """The names and addresses a region may dial the hub by: the listen address (unless it
    is a wildcard), the advertised hosts, this machine's names, localhost and loopback."""
    names = [*advertise_hosts]
    if host not in ("0.0.0.0", "::", ""):
        names.append(host)
    names += [socket.gethostname(), socket.getfqdn(), "localhost", "127.0.0.1", "::1"]
    seen: list[str] = []
    for name in names:
        if name and name not in seen:
            seen.append(name)
    return seen


def ensure_hub_tls(
    tls_dir: Path,
    names: list[str],
    *,
    cert: Path | None = None,
    key: Path | None = None,
    ca: Path | None = None,
) -> tuple[HubTLS, str]:
    """The hub's TLS files and what was done (for the operator).

    Given ``cert``, ``key`` and ``ca``: checked (readable, the key matches the certificate,
    the certificate is signed by the CA) and used as they are. Otherwise the CA and server
    certificate in ``tls_dir`` are made on first use and the server certificate is issued
    again when it lacks one of ``names`` or expires within 30 days.
    """
    given = [p for p in (cert, key, ca) if p is not None]
    if given and len(given) != 3:
        raise PkiError("give all three of --tls-cert, --tls-key and --tls-ca, or none")
    if cert is not None and key is not None and ca is not None:
        tls = HubTLS(cert.resolve(), key.resolve(), ca.resolve())
        _check_given(tls)
        return tls, f"TLS: using the given certificate {tls.cert}"
    _private_dir(tls_dir)
    tls = HubTLS(tls_dir / "hub.pem", tls_dir / "hub-key.pem", tls_dir / "ca.pem")
    ca_key_path = tls_dir / "ca-key.pem"
    said = []
    if not (tls.ca.exists() and ca_key_path.exists()):
        ca_key, ca_cert = _make_ca()
        _write_private(ca_key_path, _key_pem(ca_key))
        _write_private(tls.ca, ca_cert.public_bytes(serialization.Encoding.PEM))
        said.append(f"made a new CA {tls.ca}")
    ca_cert = x509.load_pem_x509_certificate(tls.ca.read_bytes())
    ca_key_loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    if not isinstance(ca_key_loaded, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{ca_key_path}: expected an EC private key")
    if _needs_server_cert(tls, ca_cert, names):
        server_key = ec.generate_private_key(ec.SECP256R1())
        server_cert = _make_server_cert(ca_key_loaded, ca_cert, server_key, names)
        _write_private(tls.key, _key_pem(server_key))
        _write_private(tls.cert, server_cert.public_bytes(serialization.Encoding.PEM))
        said.append(f"issued the server certificate {tls.cert} for {', '.join(names)}")
    return tls, "TLS: " + ("; ".join(said) if said else f"certificate {tls.cert}")


def certificate_names(pem: bytes) -> list[str]:
    """The DNS names and IP addresses in a certificate's subject alternative names."""
    cert = x509.load_pem_x509_certificate(pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [*san.get_values_for_type(x509.DNSName)] + [
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)
    ]


def check_ca_pem(pem: str) -> None:
    """PkiError unless ``pem`` is one PEM certificate that is a CA."""
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (ValueError, UnicodeEncodeError, x509.ExtensionNotFound) as exc:
        raise PkiError(f"not a CA certificate in PEM form: {exc}") from None
    if not constraints.ca:
        raise PkiError("the certificate is not a CA (basicConstraints CA:FALSE)")


# -- internals ------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MicroENTRE Growth Network"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"mgn hub CA {secrets.token_hex(4)}"),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _make_server_cert(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    names: list[str],
) -> x509.Certificate:
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * SERVER_YEARS))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _needs_server_cert(tls: HubTLS, ca_cert: x509.Certificate, names: list[str]) -> bool:
    if not (tls.cert.exists() and tls.key.exists()):
        return True
    pem = tls.cert.read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    if cert.issuer != ca_cert.subject:
        return True  # a CA made anew since
    if cert.not_valid_after_utc - _RENEW_BEFORE < _now():
        return True
    return not set(names) <= set(certificate_names(pem))


def _check_given(tls: HubTLS) -> None:
    try:
        cert = x509.load_pem_x509_certificate(tls.cert.read_bytes())
        ca = x509.load_pem_x509_certificate(tls.ca.read_bytes())
        key = serialization.load_pem_private_key(tls.key.read_bytes(), password=None)
    except OSError as exc:
        raise PkiError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise PkiError(f"--tls-cert/--tls-key/--tls-ca: not PEM or encrypted: {exc}") from None
    pub = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    mine = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if pub != mine:
        raise PkiError(f"--tls-key {tls.key} is not the key of --tls-cert {tls.cert}")
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, Exception) as exc:  # InvalidSignature has no base we share
        raise PkiError(f"--tls-cert {tls.cert} is not signed by --tls-ca {tls.ca}: {exc}") from None
    if tls.key.stat().st_mode & 0o077:
        raise PkiError(f"--tls-key {tls.key} is readable by others: chmod 600 it")


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _private_dir(path: Path) -> None:
    private_dir(path)


def _write_private(path: Path, data: bytes) -> None:
    write_private(path, data)  # 0600, replaced atomically: an older file's mode goes too
