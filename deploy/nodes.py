"""``mgn hub ...`` and ``mgn region ...``: the hub and a region run apart, each in the foreground.

- ``mgn hub up``: the hub's nats-server (``--cluster``: three clustered servers; accounts:
  gateway + one nkey user per region; leafnode TLS) and the gateway (read model, GraphQL,
  the registrar that sources joining regions).
- ``mgn hub add-region <id>``: the region's user and credentials file; a running hub reloads.
- ``mgn region up --region <id> --hub <leafnode URL> --credentials <file>``: the region's leaf
  server and services; the node asks the hub's registrar to source it (retrying until the
  hub answers).
- ``mgn hub status`` / ``mgn region status``: each child process (state, pid, up since,
  restarts, last exit) from the supervisor's state file; for a region also the leaf link (the
  leaf server's ``/leafz``) and each service's broker link and outbox.

``up`` restarts a child that dies (:mod:`deploy.supervisor`) and stops only when one keeps
crashing (exit code 1, with the child's name and the end of its log).
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deploy import backup_commands, console_users, rebuild_command
from deploy.credentials import CredentialsError, RegionCredentials
from deploy.federation import (
    REGION_STATE,
    REGIONAL_SERVICES,
    HubAuth,
    add_region,
    database_url_for,
    hub_servers,
    hub_tls,
    join_in_background,
    start_gateway,
    start_hub_nats,
    start_region,
)
from deploy.linkcheck import check_link, leaf_link, watch_link
from deploy.natsconfig import validate_leafnode_url
from deploy.pki import PkiError
from deploy.processes import stop_on_signals
from deploy.supervisor import STATE_FILE, Supervisor, format_state, read_state
from shared.contracts import SubjectError, validate_region
from shared.files import private_dir, write_private


def add_commands(commands: Any) -> None:
    """Add ``hub`` and ``region`` to the ``mgn`` sub-command parser."""
    hub = commands.add_parser("hub", help="run the national hub (NATS hub server + gateway)")
    hub_cmds = hub.add_subparsers(dest="hub_command", required=True, metavar="HUB_COMMAND")
    up = hub_cmds.add_parser(
        "up",
        help="start the hub NATS server and the gateway; Ctrl-C stops both",
        description="Start the hub's nats-server (JetStream domain hub, leafnode listener, "
        "one user per region) and the gateway. Regions added with `mgn hub add-region` "
        "join on their own. Stays in the foreground; Ctrl-C stops everything it started.",
    )
    up.add_argument("--port", type=int, default=8000, help="gateway HTTP port (%(default)s)")
    up.add_argument("--leaf-port", type=int, default=7422, help="leafnode port (%(default)s)")
    up.add_argument("--nats-port", type=int, default=4222, help="NATS client port (%(default)s)")
    up.add_argument("--monitor-port", type=int, default=8222, help="NATS monitoring port")
    up.add_argument(
        "--host", default="127.0.0.1", help="address NATS listens on; 0.0.0.0 for remote regions"
    )
    up.add_argument(
        "--advertise",
        default="",
        help="the leafnode URL regions use to reach this hub, written into their credentials "
        "files (e.g. nats-leaf://hub.example.fi:7422); default nats-leaf://HOST:LEAF_PORT",
    )
    for flag, what in (
        ("--tls-cert", "the leafnode listener's certificate (PEM, may hold the chain)"),
        ("--tls-key", "its private key (PEM, mode 0600)"),
        ("--tls-ca", "the CA that signed it: regions trust it (written into credentials files)"),
    ):
        up.add_argument(
            flag,
            type=Path,
            help=f"{what}; without the three, the hub makes its own CA and certificate in "
            "WORKDIR/tls on first start",
        )
    up.add_argument(
        "--cluster",
        action="store_true",
        help="three hub servers on HOST (ports P, P+1, P+2 of each kind) clustered, NATIONAL "
        "and DEADLETTER kept on all three (R3): the hub survives losing one; regions' "
        "credentials list all three leafnode URLs",
    )
    up.add_argument("--cluster-port", type=int, default=6222, help="first route port (%(default)s)")
    up.add_argument("--db", dest="database_url", help="gateway read model URL (default SQLite)")
    up.add_argument("--workdir", type=Path, default=Path("var/hub"), help="(%(default)s)")
    add = hub_cmds.add_parser(
        "add-region",
        help="create a region's key at the hub and write its credentials file",
        description="Create the region's nkey (its NATS user may publish only under "
        "mgn.<region>.>; the hub keeps only the public key), write its credentials file (the "
        "key's seed, the hub's leafnode URLs, the hub's CA) and make a running hub reload its "
        "config (no restart). Give the file to the region's operator. Run again, it issues "
        "a new key: the region's old file stops working.",
    )
    add.add_argument("region", help="region id")
    add.add_argument("--workdir", type=Path, default=Path("var/hub"), help="(%(default)s)")
    add.add_argument("--out", type=Path, help="credentials file (default WORKDIR/credentials/)")
    hub_status = hub_cmds.add_parser(
        "status", help="the hub's processes: state, pid, up since, restarts, last exit"
    )
    hub_status.add_argument("--workdir", type=Path, default=Path("var/hub"), help="(%(default)s)")

    region = commands.add_parser("region", help="run a regional node (leaf NATS + services)")
    region_cmds = region.add_subparsers(
        dest="region_command", required=True, metavar="REGION_COMMAND"
    )
    rup = region_cmds.add_parser(
        "up",
        help="start the region's leaf NATS server and services; Ctrl-C stops them",
        description="Start the region's leaf nats-server (its own JetStream domain, linked "
        "to the hub) and its services, then ask the hub to source the region into NATIONAL "
        "(retrying until the hub answers). Stays in the foreground; Ctrl-C stops everything.",
    )
    rup.add_argument("--region", required=True, help="region id, e.g. oulu")
    rup.add_argument(
        "--hub",
        help="the hub's leafnode URL, nats-leaf://host:7422 (default: the one in the "
        "credentials file)",
    )
    rup.add_argument(
        "--credentials", type=Path, help="file from `mgn hub add-region` at the hub (required)"
    )
    rup.add_argument(
        "--db",
        dest="database_url",
        help="database URL template with {service} (one database per service), may use "
        "{region} and {dir}, e.g. postgresql://mgn@db/{region}_{service} "
        "(default: SQLite files in WORKDIR)",
    )
    rup.add_argument("--workdir", type=Path, help="data and logs (default var/<region>)")
    rup.add_argument("--nats-port", type=int, help="the leaf server's client port (default free)")
    rup.add_argument(
        "--base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        help="HTTP ports of the services on 127.0.0.1: groups BASE, meetings BASE+1, feedback "
        "BASE+2 (default %(default)s)",
    )
    rup.add_argument(
        "--console-port",
        type=int,
        default=DEFAULT_CONSOLE_PORT,
        help="HTTP port of the console, the node's front door (default %(default)s)",
    )
    rup.add_argument(
        "--public-url",
        default="",
        help="the console's address as people reach it, e.g. https://mgn.agency.fi (survey "
        "links in mails are built from it; default http://127.0.0.1:CONSOLE_PORT)",
    )
    mail = rup.add_argument_group(
        "mail", "how the feedback service sends survey invitations (one of the two is required)"
    )
    mail.add_argument("--smtp-host", help="the agency's SMTP server (or MGN_FEEDBACK_SMTP_HOST)")
    mail.add_argument("--smtp-port", type=int, help="its port (default 25)")
    mail.add_argument("--smtp-user", help="login; the password from MGN_FEEDBACK_SMTP_PASSWORD")
    mail.add_argument("--smtp-starttls", action="store_true", help="upgrade with STARTTLS")
    mail.add_argument("--smtp-from", help="From address, e.g. 'Kasvuverkosto <noreply@x.fi>'")
    mail.add_argument(
        "--mail-dir",
        type=Path,
        help="write the mails as .eml files here instead of sending them (testing)",
    )
    check = region_cmds.add_parser(
        "check-link",
        help="try a credentials file: does the hub prove itself and accept the region's key?",
        description="Link a throwaway leaf server (no data, no services) to the hub with the "
        "credentials file's key, checking the hub's certificate against its CA, and say what "
        "happened: linked, refused (why), or not reachable. Exit code 0 only if linked.",
    )
    check.add_argument("--credentials", type=Path, required=True, help="the region's file")
    check.add_argument("--hub", help="the hub's leafnode URL(s), comma-separated (default: its)")
    check.add_argument("--timeout", type=float, default=15.0, help="seconds (%(default)s)")
    status = region_cmds.add_parser(
        "status", help="the region's processes, the leaf link and the services' outboxes"
    )
    status.add_argument("--region", required=True, help="region id")
    status.add_argument("--workdir", type=Path, help="(default var/<region>)")
    backup_commands.add_commands(hub_cmds, region_cmds)
    rebuild_command.add_command(hub_cmds)
    console_users.add_commands(region_cmds)


def run(args: argparse.Namespace) -> int:
    if (args.hub_command if args.command == "hub" else args.region_command) in (
        "backup",
        "restore",
    ):
        return backup_commands.run(args)
    if args.command == "hub":
        if args.hub_command == "status":
            return hub_status(args)
        if args.hub_command == "rebuild":
            return rebuild_command.run(args)
        return hub_up(args) if args.hub_command == "up" else hub_add_region(args)
    if args.region_command == "up":
        return region_up(args)
    if args.region_command == "user":
        return console_users.run(args)
    if args.region_command == "check-link":
        return region_check_link(args)
    return region_status(args)


def hub_up(args: argparse.Namespace) -> int:
    if args.advertise:
        try:
            for url in args.advertise.split(","):
                validate_leafnode_url(url.strip())
        except ValueError as exc:
            raise SystemExit(f"mgn hub up: error: --advertise: {exc}") from None
    workdir = private_dir(args.workdir.resolve())
    auth = HubAuth.load_or_create(workdir / "auth.json")
    try:
        tls, tls_news = hub_tls(
            workdir,
            host=args.host,
            advertise=tuple(u.strip() for u in args.advertise.split(",") if u.strip()),
            cert=args.tls_cert,
            key=args.tls_key,
            ca=args.tls_ca,
        )
    except PkiError as exc:
        raise SystemExit(f"mgn hub up: error: {exc}") from None
    sup = _supervisor(workdir, "mgn hub up")
    stop_on_signals()
    try:
        print(tls_news)
        for region in auth.legacy:
            print(
                f"  region {region} had a password, which no longer opens the link: run "
                f"`mgn hub add-region {region}` and give the region its new file"
            )
        hub = start_hub_nats(
            sup,
            workdir,
            auth=auth,
            tls=tls,
            port=args.nats_port,
            leaf_port=args.leaf_port,
            http_port=args.monitor_port,
            host=args.host,
            advertise=args.advertise,
            cluster_port=args.cluster_port if args.cluster else None,
        )
        servers = hub_servers(hub)
        reset = backup_commands.apply_pending_reset(workdir, auth.gateway_url(hub.client_url))
        if reset:
            print(reset)
        start_gateway(sup, workdir, hub, port=args.port, auth=auth, database_url=args.database_url)
        print(f"Hub up (data and logs in {workdir}).")
        leaf_urls = args.advertise or ", ".join(s.leafnode_url for s in servers)
        print(f"  leafnode URL for regions: {leaf_urls} (TLS only)")
        if len(servers) > 1:
            print(f"  a cluster of {len(servers)} servers: NATIONAL and DEADLETTER kept on all")
        if not args.advertise and args.host in ("0.0.0.0", "::"):
            print("  (listening on all interfaces: give --advertise nats-leaf://HOST:PORT so the")
            print("   credentials files name an address the regions can reach)")
        print(f"  NATS monitoring:          {hub.monitor_url}/leafz")
        print(f"  national GraphQL:         http://127.0.0.1:{args.port}/graphql")
        print(f"  regions with a user:      {', '.join(sorted(auth.regions)) or '(none yet)'}")
        print("Add a region: mgn hub add-region <id> --workdir " + str(args.workdir))
        print("Press Ctrl-C to stop.")
        sup.watch()
        return 0  # pragma: no cover (watch returns only by an exception)
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        print(f"error: {exc}")
        return 1
    finally:
        print("Stopping the hub ...")
        sup.stop()
        print("Stopped.")


def hub_add_region(args: argparse.Namespace) -> int:
    try:
        validate_region(args.region)
    except SubjectError as exc:
        raise SystemExit(f"mgn hub add-region: error: {exc}") from None
    path, reloaded = add_region(args.workdir.resolve(), args.region, args.out)
    print(f"Credentials of region {args.region}: {path} (keep it secret; give it to the region)")
    print(
        "The running hub reloaded its users."
        if reloaded
        else "The hub is not running: it reads the new user when it starts."
    )
    creds = RegionCredentials.load(path)
    print(f"  its public key (kept by the hub): {creds.public_key}")
    hub = "" if creds.hubs else " --hub nats-leaf://<hub host>:7422"
    print(f"On the region's machine: mgn region up --region {args.region}{hub} \\")
    print(f"    --credentials {path.name}")
    return 0


def region_up(args: argparse.Namespace) -> int:
    def fail(message: str) -> SystemExit:
        return SystemExit(f"mgn region up: error: {message}")

    try:
        validate_region(args.region)
    except SubjectError as exc:
        raise fail(str(exc)) from None
    if args.credentials is None:
        raise fail(
            "--credentials FILE is required: the hub accepts only regions with their own "
            f"user. Ask the hub's operator to run `mgn hub add-region {args.region}` and to "
            "give you the file it writes."
        )
    try:
        creds = RegionCredentials.load(args.credentials)
    except CredentialsError as exc:
        raise fail(str(exc)) from None
    if creds.region != args.region:
        raise fail(f"{args.credentials} is for region {creds.region!r}, not {args.region!r}")
    hub_urls = _hub_urls(args.hub, creds, fail)
    hub_url = ", ".join(hub_urls)
    try:
        database_url_for(args.database_url, Path("."), REGIONAL_SERVICES[0], args.region)
    except ValueError as exc:
        raise fail(f"--db: {exc}") from None
    try:
        mail_env = feedback_mail_env(args, os.environ)
        public_url = checked_public_url(args.public_url)
    except ValueError as exc:
        raise fail(str(exc)) from None
    workdir = (args.workdir or Path("var") / args.region).resolve()
    sup = _supervisor(workdir, "mgn region up")
    stop_on_signals()
    stop_join = stop_link = None
    try:
        node = start_region(
            sup,
            args.region,
            workdir,
            hub_urls,
            credentials=creds,
            database_url=args.database_url,
            base_port=args.base_port,
            nats_port=args.nats_port,
            console_port=args.console_port,
            public_url=public_url,
            feedback_env=mail_env,
        )
        state = {
            "region": args.region,
            "hub": hub_url,
            "leaf_client_url": node.leaf.client_url,
            "leaf_monitor_url": node.leaf.monitor_url,
            "leaf_log": str(node.leaf.log_path),
            "services": {s: p.health_url for s, p in node.services.items()},
            "console": node.console.health_url,
            "database_template": args.database_url,  # for `mgn region backup` (may hold a password)
        }
        write_private(workdir / REGION_STATE, json.dumps(state, indent=2))
        print(f"Region {args.region} up (data and logs in {workdir}).")
        print(f"  leaf NATS: {node.leaf.client_url} (link: {node.leaf.monitor_url}/leafz)")
        print(f"  console: {node.console_url}/ (add staff: mgn region user add ...)")
        for service in REGIONAL_SERVICES:
            print(f"  {service}: {node.graphql_url(service)}")

        def joined(result: object) -> None:
            if isinstance(result, dict):
                print(f"Joined the hub: NATIONAL sources {args.region} ({json.dumps(result)}).")
            else:
                print(f"Not joined: {result}")

        print(f"Asking the hub at {hub_url} to source the region (retrying until it answers) ...")
        _, stop_join = join_in_background(node.leaf.client_url, args.region, joined)
        # Says at once if the hub is refused (it does not prove itself, or refuses our key):
        # the region works on offline and retries, but the operator must act.
        stop_link = watch_link(node.leaf.monitor_url, node.leaf.log_path, print)
        print("Press Ctrl-C to stop.")
        sup.watch()
        return 0  # pragma: no cover (watch returns only by an exception)
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        print(f"error: {exc}")
        return 1
    finally:
        for event in (stop_join, stop_link):
            if event is not None:
                event.set()
        print(f"Stopping region {args.region} ...")
        sup.stop()
        print("Stopped.")


def _hub_urls(arg: str | None, creds: RegionCredentials, fail: Any) -> tuple[str, ...]:
    """``--hub`` (comma-separated) or the credentials file's URLs, each checked."""
    urls = tuple(u.strip() for u in arg.split(",") if u.strip()) if arg else creds.hubs
    if not urls:
        raise fail("--hub URL is required (the credentials file does not name the hub)")
    try:
        for url in urls:
            validate_leafnode_url(url)
    except ValueError as exc:
        raise fail(f"--hub: {exc}") from None
    return urls


def region_check_link(args: argparse.Namespace) -> int:
    def fail(message: str) -> SystemExit:
        return SystemExit(f"mgn region check-link: error: {message}")

    try:
        creds = RegionCredentials.load(args.credentials)
    except CredentialsError as exc:
        raise fail(str(exc)) from None
    urls = _hub_urls(args.hub, creds, fail)
    print(f"Linking to {', '.join(urls)} as region {creds.region} (key {creds.public_key}) ...")
    state = check_link(creds, urls, timeout=args.timeout)
    print(f"Link to the hub: {state.describe()}")
    if state.detail:
        print(f"  the leaf server's log: {state.detail}")
    return 0 if state.up else 1


def _parser_for_tests() -> argparse.ArgumentParser:
    """The whole ``mgn`` parser (``mgn region up ...`` parsed as the command line would)."""
    from deploy.cli import _parser

    return _parser()


DEFAULT_CONSOLE_PORT = 8100  # fixed, so survey links already mailed survive a restart
DEFAULT_BASE_PORT = 8101  # groups 8101, meetings 8102, feedback 8103 (on 127.0.0.1)


def feedback_mail_env(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, str]:
    """The feedback service's mail settings from ``region up``'s options: SMTP (options, or
    MGN_FEEDBACK_SMTP_* already in the environment) or, when asked (--mail-dir or
    MGN_FEEDBACK_MAIL_DIR), files. ValueError when neither is given: survey invitations
    would go nowhere."""
    prefix = "MGN_FEEDBACK_"
    given_dir = environ.get(f"{prefix}MAIL_DIR", "")
    mail_dir = args.mail_dir or (Path(given_dir) if given_dir else None)
    if mail_dir is not None:
        if args.smtp_host:
            raise ValueError("give either --smtp-host or --mail-dir, not both")
        return {f"{prefix}MAIL_DIR": str(mail_dir.resolve()), f"{prefix}SMTP_HOST": ""}
    host = args.smtp_host or environ.get(f"{prefix}SMTP_HOST", "")
    if not host:
        raise ValueError(
            "the feedback service needs a way to send survey invitations: give the agency's "
            "SMTP server (--smtp-host HOST [--smtp-port 587 --smtp-starttls --smtp-user USER "
            "--smtp-from ADDRESS], password in MGN_FEEDBACK_SMTP_PASSWORD), or --mail-dir DIR "
            "to write them as files"
        )
    env = {f"{prefix}SMTP_HOST": host, f"{prefix}MAIL_DIR": ""}
    for option, name in (("smtp_port", "SMTP_PORT"), ("smtp_user", "SMTP_USER"),
                         ("smtp_from", "SMTP_FROM")):  # fmt: skip
        value = getattr(args, option)
        if value:
            env[f"{prefix}{name}"] = str(value)
    if args.smtp_starttls:
        env[f"{prefix}SMTP_STARTTLS"] = "true"
    return env


def checked_public_url(url: str) -> str:
    """``--public-url``: an http(s) URL with a host and no path (the console serves /)."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
        raise ValueError(
            f"--public-url {url!r}: expected the console's address, e.g. https://mgn.agency.fi"
        )
    return url.rstrip("/")


def hub_status(args: argparse.Namespace) -> int:
    workdir = args.workdir.resolve()
    return 0 if _print_processes(workdir, "hub") else 1


def region_status(args: argparse.Namespace) -> int:
    workdir = (args.workdir or Path("var") / args.region).resolve()
    ok = _print_processes(workdir, f"region {args.region}")
    try:
        state = json.loads((workdir / REGION_STATE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"region {args.region}: not started here ({workdir / REGION_STATE} missing)")
        return 1
    try:
        link = leaf_link(state["leaf_monitor_url"], Path(state.get("leaf_log", "")))
        print(f"leaf link to the hub: {link.describe()} ({state['hub']})")
        if link.detail:
            print(f"  the leaf server's log: {link.detail}")
        ok = ok and link.up
    except OSError as exc:
        print(f"leaf server: not answering ({exc})")
        ok = False
    checks = dict(state["services"])
    if state.get("console"):
        checks["console"] = state["console"]
    for service, url in checks.items():
        try:
            health = _get_json(url)
            if service == "console":  # no broker, no outbox: it answers or not
                print(f"console: answering ({url.removesuffix('/healthz')})")
                continue
            print(
                f"{service}: nats_connected={health.get('nats_connected')} "
                f"outbox_pending={health.get('outbox_pending')}"
            )
        except OSError as exc:
            print(f"{service}: not answering ({exc})")
            ok = False
    return 0 if ok else 1


def _print_processes(workdir: Path, what: str) -> bool:
    """Print the supervisor's view of the processes; True if it runs and all of them do."""
    try:
        state = read_state(workdir)
    except ValueError as exc:
        print(f"{what}: {exc}")
        return False
    if state is None:
        print(f"{what}: never started here ({workdir / STATE_FILE} missing)")
        return False
    for line in format_state(state):
        print(line)
    return bool(state["alive"]) and all(
        child.get("state") == "running" for child in state.get("children", [])
    )


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=3) as resp:
        return json.loads(resp.read())


def _supervisor(workdir: Path, command: str) -> Supervisor:
    """The node's supervisor; the workdir (databases, state, logs) is 0700 (shared.files)."""
    private_dir(workdir)
    private_dir(workdir / "logs")
    return Supervisor(workdir / "logs", state_file=workdir / STATE_FILE, command=command)
