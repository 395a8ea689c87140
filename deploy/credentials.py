"""A region's credentials file: everything a region needs to link to the hub, in one file.

``mgn hub add-region <id>`` writes it (mode 0600); the region's operator passes it to
``mgn region up --credentials``. It holds the region's nkey seed (its secret: the hub
keeps only the public key), the hub's leafnode URLs (every server of a clustered hub) and
the CA certificate the hub's TLS certificate must be signed by::

    {"format": "mgn-region-credentials/2", "region": "oulu", "nkey_seed": "SU...",
     "hubs": ["nats-leaf://hub.example.fi:7422"], "hub_ca": "-----BEGIN CERTIFICATE-----..."}

Files of the password era (``user`` and ``password``) are refused with a message that says
how to re-onboard: the hub no longer accepts passwords on the link.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.pki import PkiError, check_ca_pem, public_key_of
from shared.contracts.subjects import validate_region
from shared.files import write_private

FORMAT = "mgn-region-credentials/2"


class CredentialsError(ValueError):
    """A region's credentials file is missing, unreadable, incomplete or of an old kind."""


@dataclass(frozen=True, slots=True)
class RegionCredentials:
    """What a region needs from the hub to link to it (see the module docstring)."""

    region: str
    nkey_seed: str
    hubs: tuple[str, ...] = ()  # the hub's leafnode URLs, when the hub knows them
    hub_ca: str = ""  # PEM

    @property
    def public_key(self) -> str:
        return public_key_of(self.nkey_seed)

    @property
    def hub(self) -> str:
        """The first of the hub's URLs ("" if none)."""
        return self.hubs[0] if self.hubs else ""

    def save(self, path: Path) -> Path:
        data = {
            "format": FORMAT,
            "region": self.region,
            "nkey_seed": self.nkey_seed,
            "hubs": list(self.hubs),
            "hub_ca": self.hub_ca,
        }
        return write_private(path, json.dumps(data, indent=2) + "\n")  # 0600

    @classmethod
    def load(cls, path: Path) -> RegionCredentials:
        """Read a credentials file; :class:`CredentialsError` says what is wrong with it."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CredentialsError(f"credentials file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialsError(f"credentials file {path} cannot be read: {exc}") from None
        except json.JSONDecodeError as exc:
            raise CredentialsError(f"credentials file {path} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise CredentialsError(f"credentials file {path}: expected a JSON object")
        return cls._parse(path, data)

    @classmethod
    def _parse(cls, path: Path, data: dict[str, Any]) -> RegionCredentials:
        region = data.get("region")
        if "password" in data and "nkey_seed" not in data:
            who = region if isinstance(region, str) and region else "<region>"
            raise CredentialsError(
                f"credentials file {path} is of the old kind (a user and password): the hub "
                "now accepts only an encrypted link with the region's own key. Ask the hub's "
                f"operator to run `mgn hub add-region {who}` again and to give you the new "
                "file; then start the region with it. The old file can be deleted."
            )
        missing = [k for k in ("region", "nkey_seed", "hub_ca") if not data.get(k)]
        if missing:
            raise CredentialsError(f"credentials file {path} lacks {', '.join(missing)}")
        hubs = data.get("hubs") or []
        if not isinstance(hubs, list) or not all(isinstance(h, str) for h in hubs):
            raise CredentialsError(f"credentials file {path}: hubs must be a list of URLs")
        creds = cls(str(region), str(data["nkey_seed"]), tuple(hubs), str(data["hub_ca"]))
        try:
            validate_region(creds.region)
        except ValueError as exc:
            raise CredentialsError(f"credentials file {path}: {exc}") from None
        try:
            public_key_of(creds.nkey_seed)
            check_ca_pem(creds.hub_ca)
        except PkiError as exc:
            raise CredentialsError(f"credentials file {path}: {exc}") from None
        return creds
