"""The region introduces itself to the network: a ``RegionAnnounced`` event whenever the way
it presents itself (name, agency, software version) changed, and only then."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from services.groups.commands import AnnounceRegion
from services.groups.orm import RegionProfileRow
from shared.contracts import RegionAnnounced, make_envelope
from shared.runtime import UnitOfWork


def region_aggregate_id(region: str) -> UUID:
    """A stable id for the region as an aggregate, the same on every node and at the hub."""
    return uuid5(NAMESPACE_URL, f"mgn:region:{region}")


ATTEMPTS = 3


async def announce_region(cmd: AnnounceRegion, uow: UnitOfWork, *, region: str) -> bool:
    """Emit ``RegionAnnounced`` if the profile is new or changed; return whether it did.

    If another process (a second replica starting) announces at the same moment, the
    version-checked UPDATE (or the primary key, for the very first one) lets only one of
    them commit; the other decides again, in a new transaction, on top of what won.
    """
    attempt = 1
    while True:
        try:
            return await _announce_once(cmd, uow, region=region)
        except (StaleDataError, IntegrityError):
            if attempt >= ATTEMPTS:
                raise
            attempt += 1


async def _announce_once(cmd: AnnounceRegion, uow: UnitOfWork, *, region: str) -> bool:
    async with uow:
        row = await uow.session.get(RegionProfileRow, region)
        wanted = (cmd.display_name, cmd.agency, cmd.software_version)
        if row is not None and (row.display_name, row.agency, row.software_version) == wanted:
            return False
        if row is None:
            row = RegionProfileRow(region=region, version=0)
            uow.session.add(row)
        row.display_name, row.agency, row.software_version = wanted
        row.version += 1
        event = RegionAnnounced(
            display_name=cmd.display_name,
            agency=cmd.agency,
            services=("groups",),
            software_version=cmd.software_version,
        )
        uow.emit(
            make_envelope(
                event, region=region, aggregate_id=region_aggregate_id(region), sequence=row.version
            )
        )
        await uow.commit()
    return True
