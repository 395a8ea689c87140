"""`mgn demo` may start again right after it stopped: its port check binds as the server will
(SO_REUSEADDR), so connections of the old run waiting in TIME_WAIT do not block it."""

from __future__ import annotations

import socket

from deploy.demo import _port_free
from services.console.throttle import FREE_FAILURES, LONGEST_DELAY, delay_after


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


def test_sign_in_delays_grow_exponentially_to_a_ceiling():
    assert [delay_after(n).total_seconds() for n in range(FREE_FAILURES)] == [0.0] * 3
    grown = [delay_after(FREE_FAILURES + n).total_seconds() for n in range(4)]
    assert grown == [5.0, 10.0, 20.0, 40.0]
    assert delay_after(1000) == LONGEST_DELAY
