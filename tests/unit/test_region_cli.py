"""`mgn hub up` / `mgn region up` refuse bad input before starting anything, saying why."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from deploy.cli import main
from deploy.credentials import CredentialsError, RegionCredentials
from deploy.federation import database_url_for, hub_tls
from deploy.natsconfig import validate_leafnode_url
from deploy.pki import new_region_key
from shared.messaging.jetstream import region_source, region_user_permissions


def test_database_template_needs_service_and_known_placeholders(tmp_path: Path):
    assert database_url_for(None, tmp_path, "groups", "oulu") == f"sqlite:///{tmp_path}/groups.db"
    url = database_url_for("postgresql://h/{region}_{service}", tmp_path, "meetings", "oulu")
    assert url == "postgresql://h/oulu_meetings"
    with pytest.raises(ValueError, match=r"must contain \{service\}"):
        database_url_for("postgresql://h/region", tmp_path, "groups", "oulu")
    with pytest.raises(ValueError, match=r"unknown placeholder \{servce\}"):
        database_url_for("postgresql://h/{servce}", tmp_path, "groups", "oulu")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hub:7422", "expected nats-leaf://"),
        ("nats-leaf://hub", "has no port"),
        ("nats-leaf://hub:notaport", "leafnode URL"),
        ("nats-leaf://0.0.0.0:7422", "listen address"),
    ],
)
def test_bad_leafnode_urls_are_refused(url: str, reason: str):
    with pytest.raises(ValueError, match=reason):
        validate_leafnode_url(url)
    assert validate_leafnode_url("nats-leaf://hub.example.fi:7422")


def credentials(tmp_path: Path, region: str = "oulu", hubs: tuple[str, ...] = ()) -> Path:
    """A valid credentials file of ``region`` (a fresh key, a CA made in ``tmp_path``)."""
    tls, _ = hub_tls(tmp_path / "hub")
    creds = RegionCredentials(region, new_region_key()[0], hubs, tls.ca_pem())
    return creds.save(tmp_path / f"{region}.json")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "does not exist"),
        ("not json", "is not JSON"),
        ("[1]", "expected a JSON object"),
        ('{"region": "oulu", "nkey_seed": "SU"}', "lacks hub_ca"),
        ('{"region": "oulu", "nkey_seed": "SUx", "hub_ca": "x"}', "not a valid NATS user nkey"),
        ('{"region": "oulu", "nkey_seed": "UABC", "hub_ca": "x"}', "should start with SU"),
        # the password era: refused, saying how to re-onboard
        ('{"region": "oulu", "user": "oulu", "password": "p"}', "mgn hub add-region oulu"),
    ],
)
def test_bad_credentials_files_are_named(tmp_path: Path, content: str | None, reason: str):
    path = tmp_path / "creds.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CredentialsError, match=re.escape(reason)):
        RegionCredentials.load(path)


def test_credentials_round_trip_and_refuse_a_bad_ca_or_region(tmp_path: Path):
    path = credentials(tmp_path, hubs=("nats-leaf://a:7422", "nats-leaf://b:7422"))
    assert path.stat().st_mode & 0o777 == 0o600
    creds = RegionCredentials.load(path)
    assert creds.hubs == ("nats-leaf://a:7422", "nats-leaf://b:7422")
    assert creds.public_key.startswith("U")
    assert creds.public_key not in path.read_text()  # the seed is kept, not the public key
    data = json.loads(path.read_text())
    for key, value, reason in (
        ("hub_ca", "-----BEGIN CERTIFICATE-----\nnope", "not a CA certificate"),
        ("region", "Not A Region", "credentials file"),
        ("hubs", "nats-leaf://a:7422", "hubs must be a list"),
    ):
        path.write_text(json.dumps({**data, key: value}))
        with pytest.raises(CredentialsError, match=reason):
            RegionCredentials.load(path)


def _fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    message = str(exc.value.code) + capsys.readouterr().err
    assert exc.value.code != 0
    return message


def test_region_up_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    hub = "nats-leaf://127.0.0.1:7422"
    msg = _fails(capsys, "region", "up", "--region", "oulu", "--hub", hub)
    assert "--credentials FILE is required" in msg
    assert "mgn hub add-region oulu" in msg

    old = tmp_path / "old.json"
    old.write_text(json.dumps({"region": "oulu", "user": "oulu", "password": "p", "hub": ""}))
    msg = _fails(capsys, "region", "up", "--region", "oulu", "--credentials", str(old))
    assert "of the old kind" in msg
    assert "`mgn hub add-region oulu` again" in msg

    creds = credentials(tmp_path)
    base = ("region", "up", "--region", "oulu", "--credentials", str(creds))
    assert "--hub URL is required" in _fails(capsys, *base)
    assert "--hub: leafnode URL" in _fails(capsys, *base, "--hub", "127.0.0.1:7422")
    assert "must contain {service}" in _fails(capsys, *base, "--hub", hub, "--db", "sqlite:///x")
    no_mail = _fails(capsys, *base, "--hub", hub)
    assert "send survey invitations" in no_mail
    assert "--smtp-host" in no_mail
    assert "--public-url" in _fails(
        capsys, *base, "--hub", hub, "--mail-dir", str(tmp_path), "--public-url", "mgn.fi"
    )
    other = ("region", "up", "--region", "kainuu", "--credentials", str(creds), "--hub", hub)
    assert "is for region 'oulu', not 'kainuu'" in _fails(capsys, *other)


def test_hub_up_refuses_an_unreachable_advertise_url(capsys: pytest.CaptureFixture[str]):
    msg = _fails(capsys, "hub", "up", "--advertise", "nats-leaf://0.0.0.0:7422")
    assert "--advertise" in msg
    assert "listen address" in msg


def test_region_rights_are_exactly_its_own():
    perms = region_user_permissions("oulu")
    assert perms["publish"]["allow"] == ["mgn.oulu.>", "mgnctl.oulu.>", "$JSC.R.>"]
    assert perms["subscribe"]["allow"] == [
        "$JS.oulu.API.CONSUMER.CREATE.REGION_OULU.>",
        "$JS.oulu.API.STREAM.INFO.REGION_OULU",
        "$JS.FC.REGION_OULU.>",
        "mgnctl.oulu.inbox.>",
    ]
    assert not any(s.startswith("$JS.S.") for s in perms["publish"]["allow"])
    source = region_source("oulu")
    assert source.external is not None
    assert source.external.deliver == "mgnctl.oulu.src"


def test_dockerfile_exposes_every_port_the_compose_files_publish():
    root = Path(__file__).resolve().parents[2]
    dockerfile = (root / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    [expose] = [line for line in dockerfile.splitlines() if line.startswith("EXPOSE")]
    exposed = set(expose.split()[1:])
    for name in ("hub.yaml", "region.yaml"):
        text = (root / "deploy" / "compose" / name).read_text(encoding="utf-8")
        published = set(re.findall(r'^\s*- "\$\{[A-Z_]+:-\d+\}:(\d+)"', text, re.M))
        assert published, name
        assert published <= exposed, (name, published - exposed)


def test_region_up_gives_the_feedback_service_the_smtp_settings_and_files_only_when_asked(
    tmp_path: Path,
):
    from deploy.nodes import _parser_for_tests, feedback_mail_env

    def env(*argv: str, **environ: str) -> dict[str, str]:
        args = _parser_for_tests().parse_args(["region", "up", "--region", "oulu", *argv])
        return feedback_mail_env(args, environ)

    smtp = env("--smtp-host", "smtp.agency.fi", "--smtp-port", "587", "--smtp-starttls",
               "--smtp-user", "mgn", "--smtp-from", "Kasvu <noreply@agency.fi>")  # fmt: skip
    assert smtp == {
        "MGN_FEEDBACK_SMTP_HOST": "smtp.agency.fi",
        "MGN_FEEDBACK_MAIL_DIR": "",  # never files when an SMTP server is given
        "MGN_FEEDBACK_SMTP_PORT": "587",
        "MGN_FEEDBACK_SMTP_USER": "mgn",
        "MGN_FEEDBACK_SMTP_FROM": "Kasvu <noreply@agency.fi>",
        "MGN_FEEDBACK_SMTP_STARTTLS": "true",
    }
    assert env(MGN_FEEDBACK_SMTP_HOST="smtp.x.fi")["MGN_FEEDBACK_SMTP_HOST"] == "smtp.x.fi"
    files = env("--mail-dir", str(tmp_path / "mail"))
    assert files == {"MGN_FEEDBACK_MAIL_DIR": str(tmp_path / "mail"), "MGN_FEEDBACK_SMTP_HOST": ""}
    assert env(MGN_FEEDBACK_MAIL_DIR="/data/mail")["MGN_FEEDBACK_MAIL_DIR"] == "/data/mail"
    with pytest.raises(ValueError, match="either --smtp-host or --mail-dir"):
        env("--smtp-host", "smtp.x.fi", "--mail-dir", str(tmp_path))
    with pytest.raises(ValueError, match="send survey invitations"):
        env()
