"""`mgn demo` may start again right after it stopped: its port check binds as the server will
(SO_REUSEADDR), so connections of the old run waiting in TIME_WAIT do not block it. Its
consoles are on fixed ports (--console-port FIRST, then FIRST+1, ... per region): one taken
stops the demo before anything starts, with a message naming the port, the region and the
option."""

from __future__ import annotations

import socket
from pathlib import Path

from deploy.demo import _port_free, run_demo
from deploy.nodes import DEFAULT_CONSOLE_PORT
from services.console.throttle import FREE_FAILURES, LONGEST_DELAY, delay_after
from tests.e2e.support import free_ports_in_a_row


def test_a_port_with_connections_in_time_wait_is_free_for_the_next_run():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert not _port_free(port)  # listening: in use
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end waits in TIME_WAIT
    server.close()
    client.close()
    assert _port_free(port)


def _demo(tmp_path: Path, port: int, console_port: int) -> tuple[int, list[str]]:
    said: list[str] = []
    code = run_demo(
        workdir=tmp_path / "demo",
        regions=["oulu", "kainuu", "lappi"],
        port=port,
        console_port=console_port,
        groups_per_region=1,
        first_year=2019,
        last_year=2019,
        say=said.append,
    )
    return code, said


def test_a_taken_console_port_stops_the_demo_before_anything_starts(tmp_path):
    gateway, first = free_ports_in_a_row(1), free_ports_in_a_row(3)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first + 1))  # kainuu's, the second region's
        taken.listen()
        code, said = _demo(tmp_path, gateway, first)
    assert code == 2
    assert said == [
        f"error: port {first + 1} (the console of region kainuu; the consoles take "
        f"{first}-{first + 2}) is in use; choose other ports with --console-port FIRST"
    ]
    assert not (tmp_path / "demo").exists()  # nothing started, nothing written


def test_the_gateway_port_inside_the_consoles_range_is_refused(tmp_path):
    first = free_ports_in_a_row(3)
    code, said = _demo(tmp_path, first + 2, first)
    assert code == 2
    assert said == [
        f"error: the console of region lappi would take port {first + 2}, the gateway's "
        "(--port); choose other ports with --port or --console-port"
    ]


def test_the_demo_consoles_start_at_region_ups_fixed_port():
    from deploy.cli import _parser

    args = _parser().parse_args(["demo"])
    assert args.console_port == DEFAULT_CONSOLE_PORT == 8100
    assert _parser().parse_args(["demo", "--console-port", "9100"]).console_port == 9100


def test_sign_in_delays_grow_exponentially_to_a_ceiling():
    assert [delay_after(n).total_seconds() for n in range(FREE_FAILURES)] == [0.0] * 3
    grown = [delay_after(FREE_FAILURES + n).total_seconds() for n in range(4)]
    assert grown == [5.0, 10.0, 20.0, 40.0]
    assert delay_after(1000) == LONGEST_DELAY
