"""Benchmark: how soon NATIONAL catches up after the hub restarts, with and without the registrar.

    python bench/catchup.py                          # 3 regions, 2,000 events each
    python bench/catchup.py --regions 3 --events 20000 --rounds 2

Per round, on a hub with broker security (each region logs in as its own restricted user):
the hub stops, every region writes ``--events`` events into its own stream (it keeps
working), the hub starts again, and the clock runs until NATIONAL holds every event.
Mode ``server``: only nats-server's own source retry (no registrar). Mode ``registrar``:
the gateway's registrar watches the sources, as ``mgn hub up`` runs it. Prints seconds to
catch up and events/s, and checks that nothing is missing or copied twice.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NATS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.federation import HubAuth, hub_tls
from deploy.natsserver import NatsServer
from services.gateway.registrar import Registrar
from shared.contracts.subjects import build_subject
from shared.messaging.jetstream import (
    NATIONAL_STREAM,
    add_region_source,
    ensure_national_stream,
    ensure_region_stream,
)

REGION_IDS = ("oulu", "kainuu", "lappi", "pohjanmaa", "savo", "karjala")


async def _quiet(exc: Exception) -> None:
    pass


async def _connect(url: str, **opts: Any) -> NATS:
    return await nats.connect(
        url, max_reconnect_attempts=-1, reconnect_time_wait=0.2, error_cb=_quiet, **opts
    )


async def _wait_links(leaves: list[NatsServer], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(
        await asyncio.gather(*(asyncio.to_thread(leaf.leafnode_count) for leaf in leaves))
    ):
        if time.monotonic() > deadline:
            raise TimeoutError("leafnode links did not come up")
        await asyncio.sleep(0.1)


async def _national_count(hub_url: str) -> int:
    nc = await _connect(hub_url)
    try:
        return int((await nc.jetstream().stream_info(NATIONAL_STREAM)).state.messages)
    finally:
        await nc.close()


async def run(mode: str, regions: int, events: int, rounds: int, workdir: Path) -> list[float]:
    ids = REGION_IDS[:regions]
    auth = HubAuth.load_or_create(workdir / "auth.json")
    tls, _ = hub_tls(workdir)
    credentials = {region: auth.add_region(region, hub_ca=tls.ca_pem()) for region in ids}
    hub = NatsServer.hub(workdir / "hub", accounts=auth.accounts(), tls=tls)
    await hub.astart()
    hub_url = auth.gateway_url(hub.client_url)
    leaves = []
    for region in ids:
        leaf = NatsServer.region(
            region, workdir / region, hub.leafnode_url, credentials=credentials[region]
        )
        await leaf.astart()
        leaves.append(leaf)
    region_nc = [await _connect(leaf.client_url) for leaf in leaves]
    registrar: Registrar | None = None

    async def reconnected() -> None:  # as the gateway wires it
        if registrar is not None:
            await registrar.on_reconnected()

    hub_nc = await _connect(hub_url, reconnected_cb=reconnected)
    timings: list[float] = []
    try:
        await _wait_links(leaves)
        hub_js = hub_nc.jetstream()
        await ensure_national_stream(hub_js)
        for region, nc in zip(ids, region_nc, strict=True):
            await ensure_region_stream(nc.jetstream(), region)
            await add_region_source(hub_js, region)
        if mode == "registrar":
            registrar = Registrar(hub_nc, hub_js, interval=0.5)
            await registrar.start()
        expected = 0
        for n in range(rounds):
            await hub.astop()
            for region, nc in zip(ids, region_nc, strict=True):
                js = nc.jetstream()
                subj = build_subject(region, "groups", "group", "created")
                for start in range(0, events, 500):
                    await asyncio.gather(
                        *(
                            js.publish(subj, b"{}", headers={"Nats-Msg-Id": f"{region}-{n}-{i}"})
                            for i in range(start, min(start + 500, events))
                        )
                    )
            expected += regions * events
            await hub.astart()
            started = time.monotonic()
            while (count := await _national_count(hub_url)) < expected:
                if time.monotonic() - started > 180:
                    raise TimeoutError(f"NATIONAL has {count} of {expected} after 180 s")
                await asyncio.sleep(0.2)
            elapsed = time.monotonic() - started
            await asyncio.sleep(1.0)
            final = await _national_count(hub_url)
            timings.append(elapsed)
            print(
                f"{mode:9s} round {n + 1}: {regions * events:,} events caught up in "
                f"{elapsed:5.1f} s ({regions * events / elapsed:,.0f} events/s); "
                f"NATIONAL {final:,} of {expected:,} (duplicates: {final - expected})",
                flush=True,
            )
    finally:
        if registrar is not None:
            await registrar.stop()
        for nc in [*region_nc, hub_nc]:
            await nc.close()
        for leaf in leaves:
            await leaf.astop()
        await hub.astop()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", type=int, default=3, choices=range(1, len(REGION_IDS) + 1))
    parser.add_argument("--events", type=int, default=2000, help="events per region per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mode", choices=("server", "registrar", "both"), default="both")
    args = parser.parse_args()
    modes = ("server", "registrar") if args.mode == "both" else (args.mode,)
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix=f"mgn-catchup-{mode}-") as tmp:
            timings = asyncio.run(run(mode, args.regions, args.events, args.rounds, Path(tmp)))
        print(f"{mode:9s} mean catch-up {sum(timings) / len(timings):.1f} s over {len(timings)}")


if __name__ == "__main__":
    main()
