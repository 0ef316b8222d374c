"""JSON-lines logging: one parseable object per line with ts, level, logger, msg and the extras."""

from __future__ import annotations

import io
import json
import logging
from typing import TYPE_CHECKING

import pytest

from engine.logs import configure_logging

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging(logging.INFO, stream=buffer)
    yield buffer
    for installed in list(root.handlers):
        root.removeHandler(installed)
    for old in saved_handlers:
        root.addHandler(old)
    root.setLevel(saved_level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class TestJsonLogs:
    def test_each_record_is_one_json_line_with_its_extras(self, stream: io.StringIO) -> None:
        log = logging.getLogger("pulsewatch.engine")
        log.info("api is %s", "down", extra={"check": "api", "engine": "e1"})
        log.debug("not shown at INFO")
        log.warning("multi\nline message", extra={"rows": 3})

        first, second = lines(stream)
        assert first["msg"] == "api is down"
        assert (first["level"], first["logger"], first["check"], first["engine"]) == (
            "info",
            "pulsewatch.engine",
            "api",
            "e1",
        )
        assert str(first["ts"]).endswith("+00:00")
        assert (second["level"], second["msg"], second["rows"]) == ("warning", "multi\nline message", 3)

    def test_exceptions_and_odd_values_still_make_valid_json(self, stream: io.StringIO) -> None:
        log = logging.getLogger("x")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed", extra={"when": object()})
        [entry] = lines(stream)
        assert "ValueError: boom" in str(entry["exc"])
        assert str(entry["when"]).startswith("<object object")

    def test_configuring_twice_does_not_duplicate_lines(self, stream: io.StringIO) -> None:
        configure_logging(logging.INFO, stream=stream)
        logging.getLogger("y").info("once")
        assert len(lines(stream)) == 1
