"""Events about a regional node itself."""

from __future__ import annotations

from pydantic import Field

from shared.contracts.base import Event


class RegionAnnounced(Event):
    """A regional node started and introduced itself to the network (aggregate: the region)."""

    TYPE = "node.region.announced"

    display_name: str = Field(min_length=1, max_length=200)
    agency: str = Field(default="", max_length=200)
    services: tuple[str, ...] = ()
    software_version: str = Field(default="", max_length=40)
