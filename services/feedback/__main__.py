"""``python -m services.feedback``: serve the feedback service with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from services.feedback.app import create_app
from services.feedback.settings import FeedbackSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = FeedbackSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
