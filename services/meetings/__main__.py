"""``python -m services.meetings``: serve the meetings service with uvicorn."""

from __future__ import annotations

import logging

from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings
from shared.runtime.edge import serve


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = MeetingsSettings()
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
