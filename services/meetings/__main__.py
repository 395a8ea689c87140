"""``python -m services.meetings``: serve the meetings service with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from services.meetings.app import create_app
from services.meetings.settings import MeetingsSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = MeetingsSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
