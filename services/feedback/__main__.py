"""``python -m services.feedback``: serve the feedback service with uvicorn."""

from __future__ import annotations

from services.feedback.app import create_app
from services.feedback.settings import FeedbackSettings
from shared.runtime.edge import serve
from shared.runtime.observability import configure_logging


def main() -> None:
    configure_logging()  # MGN_LOG_FORMAT, secrets masked (shared/redact.py)
    settings = FeedbackSettings()
    serve(create_app(settings), settings.host, settings.port, log_config=None)


if __name__ == "__main__":
    main()
