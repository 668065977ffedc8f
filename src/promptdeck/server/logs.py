"""Server logs: ``--log-format json`` writes one JSON object a line, each with the id of the
request it belongs to (``request_id``; null outside a request). The id comes from the
request's ``X-Request-ID`` header or is made here (process id and a counter), and is sent
back in the response's ``X-Request-ID`` (not on the hot path, whose responses are
pre-encoded; its rare log lines, errors, still carry one)."""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "promptdeck_request_id", default=None
)


_ids = itertools.count(1)
_SCOPE_KEY = "promptdeck.request_id"


def request_id_of(scope: MutableMapping[str, Any]) -> str:
    """The request's id: its X-Request-ID header (printable, at most 128 characters) or a
    new one, kept in the ASGI scope so every line of the request has the same."""
    rid: str | None = scope.get(_SCOPE_KEY)
    if rid is None:
        for key, value in scope.get("headers", ()):
            if key == b"x-request-id":
                text = bytes(value).decode("latin-1")[:128]
                if text.isprintable() and text:
                    rid = text
                break
        rid = scope[_SCOPE_KEY] = rid or f"{os.getpid():x}-{next(_ids):x}"
    return rid


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to text records too (``%(request_id)s``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "promptdeck")


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """A logging.config dict for uvicorn's ``log_config``: every server logger to stderr."""
    level = level.upper()
    formatter: dict[str, Any] = (
        {"()": "promptdeck.server.logs.JsonFormatter"}
        if log_format == "json"
        else {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "promptdeck.server.logs.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": ["default"], "level": level, "propagate": False} for name in LOGGERS
        },
    }


def line(log_format: str, message: str) -> str:
    """A log line written outside logging (before the server's logging is set up)."""
    if log_format != "json":
        return message
    record = logging.LogRecord("promptdeck", logging.INFO, "", 0, message, None, None)
    return JsonFormatter().format(record)
