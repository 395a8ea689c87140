"""Keep Python's full garbage collections off the request path.

Every few seconds of traffic CPython's cyclic garbage collector runs a full (generation 2)
collection, which walks every container object the process holds. In a service that is
mostly the code it imported: SQLAlchemy, strawberry, pydantic, and in the gateway numpy,
scipy and statsmodels imported on the first agreement request, a few hundred thousand
objects that never become garbage. Walking them took 100–190 ms of CPU inside whichever
request happened to trigger the collection (bench/README.md, "The gateway's periodic CPU
burst").

:func:`keep_imports_frozen` (called by :func:`shared.runtime.edge.serve`, so in a service's
own process only, never in a test run's) moves the objects alive once the app is built into
the permanent generation (:func:`gc.freeze`), which collections skip, and does the same again
after the first full collection that follows new imports (uvicorn's, a lazy one: modules
are never unloaded, so what an import made lives as long as the process). Only objects that
survived a full collection are frozen: the collector still frees everything that becomes
garbage later, and reference counting frees frozen objects as before. The cost of
:func:`gc.freeze`: a frozen object that later ends up in an unreachable cycle is not
collected, which is why freezing happens only at start-up and after new imports, not after
every full collection.
"""

from __future__ import annotations

import gc
import sys
from typing import Any


class _Freezer:
    """A :data:`gc.callbacks` entry: after a full collection that follows new imports,
    freeze what survived."""

    def __init__(self) -> None:
        self.modules = len(sys.modules)
        self.freezes = 0

    def freeze(self) -> None:
        gc.freeze()
        self.modules = len(sys.modules)
        self.freezes += 1

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2 and len(sys.modules) > self.modules:
            self.freeze()


_freezer: _Freezer | None = None


def keep_imports_frozen() -> int:
    """Once the app is built: collect, freeze what is left, and from now on freeze again
    after a full collection when modules were imported since. Idempotent (a second service
    in the same process, a test starting the app twice). Returns the objects frozen now."""
    global _freezer
    gc.collect()
    if _freezer is None:
        _freezer = _Freezer()
        gc.callbacks.append(_freezer)
    _freezer.freeze()
    return gc.get_freeze_count()


def freezes() -> int:
    """How many times the heap was frozen in this process (0 before :func:`keep_imports_frozen`)."""
    return _freezer.freezes if _freezer is not None else 0
