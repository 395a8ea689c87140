"""``python -m services.gateway``: serve the national gateway with uvicorn."""

from __future__ import annotations

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.runtime.edge import serve
from shared.runtime.observability import configure_logging


def main() -> None:
    configure_logging()  # MGN_LOG_FORMAT, secrets masked (shared/redact.py)
    settings = GatewaySettings()
    serve(create_app(settings), settings.host, settings.port, log_config=None)


if __name__ == "__main__":
    main()
