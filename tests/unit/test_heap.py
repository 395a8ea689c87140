"""shared/runtime/heap.py: what a service imported is frozen out of full garbage collections,
again after lazy imports, and garbage is still collected. Each case runs in a fresh
interpreter: freezing is process-wide and would reach into the test run's own heap."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_freezes_at_start_then_only_after_new_imports_and_still_collects_garbage() -> None:
    run(
        """
        import gc, sys
        from shared.runtime import heap

        assert heap.freezes() == 0 and gc.get_freeze_count() == 0
        frozen = heap.keep_imports_frozen()
        assert frozen == gc.get_freeze_count() > 1000, frozen
        assert heap.freezes() == 1

        gc.collect()  # nothing imported since: nothing more frozen
        assert heap.freezes() == 1 and gc.get_freeze_count() == frozen

        assert "colorsys" not in sys.modules
        import colorsys  # a lazy import, as the gateway's first agreement request does
        kept = colorsys.rgb_to_hsv(0.2, 0.4, 0.6)
        gc.collect(1)  # not a full collection: no freeze yet
        assert heap.freezes() == 1
        gc.collect()
        assert heap.freezes() == 2
        assert gc.get_freeze_count() > frozen
        assert gc.is_tracked(colorsys.__dict__) and kept

        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle, garbage once the names go
        del a, b
        assert gc.collect() >= 2  # found and freed: the collector still works
        assert heap.freezes() == 2  # and that collection froze nothing (no new modules)

        assert heap.keep_imports_frozen() >= frozen  # a second start: no second callback
        assert sum(1 for c in gc.callbacks if isinstance(c, heap._Freezer)) == 1
        """
    )


def test_a_served_app_runs_with_its_heap_frozen() -> None:
    """``serve`` (every service process's) freezes before uvicorn starts; a test run's
    in-process apps (``service_app`` under a TestClient) do not freeze the test's heap."""
    run(
        """
        import gc, socket, threading, time
        import httpx
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route
        from starlette.testclient import TestClient
        from shared.runtime import heap
        from shared.runtime.edge import serve

        async def frozen(request):
            return JSONResponse({"freezes": heap.freezes(), "frozen": gc.get_freeze_count()})

        app = Starlette(routes=[Route("/frozen", frozen)])
        with TestClient(app) as client:  # in-process: nothing frozen
            assert client.get("/frozen").json() == {"freezes": 0, "frozen": 0}

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        threading.Thread(target=serve, args=(app, "127.0.0.1", port), daemon=True).start()
        for _ in range(200):
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/frozen").json()
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert answer["freezes"] == 1 and answer["frozen"] > 1000, answer
        """
    )
