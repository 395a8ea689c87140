"""``python -m services.gateway``: serve the national gateway with uvicorn."""

from __future__ import annotations

import logging

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.runtime.edge import serve


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = GatewaySettings()
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
