"""What every service process shares: lifecycle (database, NATS, relay) and the ASGI shell."""

from shared.runtime.service import ServiceRuntime
from shared.runtime.uow import UnitOfWork

__all__ = ["ServiceRuntime", "UnitOfWork"]
