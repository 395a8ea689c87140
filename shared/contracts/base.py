"""Base class and registry of event payload models."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """A versioned event payload; subclasses are registered by ``(TYPE, VERSION)``.

    ``TYPE`` is ``<service>.<aggregate>.<event>`` and is also the tail of the subject,
    ``mgn.<region>.<TYPE>``. Consumers ignore fields they do not know (additive changes
    keep the version); a breaking change adds a new class with ``VERSION + 1`` and an
    upcaster from the old version.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__:
            register(cls)

    @classmethod
    def type_parts(cls) -> tuple[str, str, str]:
        service, aggregate, event = cls.TYPE.split(".")
        return service, aggregate, event


_REGISTRY: dict[tuple[str, int], type[Event]] = {}
_LATEST: dict[str, int] = {}  # type -> its highest registered version (decode asks per event)


def register(model: type[Event]) -> None:
    key = (model.TYPE, model.VERSION)
    if len(model.TYPE.split(".")) != 3:
        raise ValueError(f"event TYPE {model.TYPE!r} must be <service>.<aggregate>.<event>")
    existing = _REGISTRY.get(key)
    if existing is not None and existing is not model:
        raise ValueError(f"event {key} registered twice: {existing.__name__}, {model.__name__}")
    _REGISTRY[key] = model
    _LATEST[model.TYPE] = max(_LATEST.get(model.TYPE, 0), model.VERSION)


def lookup(type_: str, version: int) -> type[Event] | None:
    return _REGISTRY.get((type_, version))


def latest_version(type_: str) -> int | None:
    return _LATEST.get(type_)


def registered_events() -> list[type[Event]]:
    return sorted(_REGISTRY.values(), key=lambda m: (m.TYPE, m.VERSION))
