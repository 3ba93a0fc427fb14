"""Logging: one line per handled event, as key=value pairs or JSON; never message text or tokens."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed in `extra=` and is a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

# Libraries that log request URLs at INFO/DEBUG. Telegram's URLs contain the bot token
# (https://api.telegram.org/bot<TOKEN>/sendMessage), so they stay at WARNING whatever the
# bot's own level is. CalDAV requests (caldav over niquests and urllib3) name the member's
# account in their paths, and caldav logs raw response bodies, the events' text.
_QUIET = (
    "httpx",
    "httpcore",
    "caldav",
    "niquests",
    "urllib3",
    "telegram",
    "slack_bolt",
    "slack_sdk",
    "apscheduler",
    "aiohttp.access",
)


def fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **fields(record),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, default=str)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in fields(record).items())
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        text = f"{when} {record.levelname} {record.name} {record.getMessage()}"
        text = f"{text} {extra}" if extra else text
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup(level: str = "WARNING", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
