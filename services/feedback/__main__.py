"""``python -m services.feedback``: serve the feedback service with uvicorn."""

from __future__ import annotations

import logging

from services.feedback.app import create_app
from services.feedback.settings import FeedbackSettings
from shared.runtime.edge import serve


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = FeedbackSettings()
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
