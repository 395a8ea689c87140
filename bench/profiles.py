"""Where a service spent its time: the cProfile files ``deploy/cli.py`` writes when
``MGN_PROFILE_DIR`` is set (``bench/pipeline.py --profile DIR``)."""

from __future__ import annotations

import io
import pstats
from collections.abc import Iterable
from pathlib import Path

TOP = 12


def profile_report(directory: Path, services: Iterable[str], top: int = TOP) -> str:
    """For each service with a ``.prof`` in ``directory``: its total, then the ``top``
    functions by own time (tottime) with their cumulative time."""
    lines: list[str] = []
    for service in services:
        path = directory / f"{service}.prof"
        if not path.exists():
            lines.append(f"   {service}: no profile (did it stop cleanly?)")
            continue
        stats = pstats.Stats(str(path), stream=io.StringIO())
        total = stats.total_tt  # type: ignore[attr-defined]
        lines.append(f"   {service}: {total:.1f} s of CPU in the event loop's thread; by own time:")
        rows = sorted(
            stats.stats.items(),  # type: ignore[attr-defined]
            key=lambda item: item[1][2],
            reverse=True,
        )[:top]
        for (file, line, name), (_cc, calls, own, cumulative, _callers) in rows:
            where = f"{Path(file).name}:{line}" if line else file
            lines.append(
                f"     {own:7.2f} s own {cumulative:7.2f} s cum {calls:>9,} calls  {name} ({where})"
            )
    return "\n".join(lines)
