"""JSON-lines logging for the headless engine: one object per line on stderr, ready for journald or Loki.

Each record carries `ts`, `level`, `logger` and `msg`, plus whatever the call site passed in
`extra=` (`check`, `engine`, `rows`...), so `jq 'select(.check == "api")'` works on the raw stream.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged as a field.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """Formats a record as a single JSON object; non-JSON values in extras are rendered with `str()`."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


def configure_logging(level: int | str = logging.INFO, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record of the process to `stream` (stderr by default) as JSON lines.

    Replaces the root logger's handlers, so calling it twice does not duplicate lines.

    Args:
        level: the root logger's level.
        stream: where lines go; stderr when None (stdout belongs to command output such as `status --json`).

    Returns:
        The installed handler (tests remove it again).
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx and httpcore log every request at INFO: thousands of lines a second that say only
    # what the engine's own results already record.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler
