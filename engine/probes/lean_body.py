"""What the lean HTTP client (engine.probes.lean_http) reports back: its failures, and body decoding.

The failures are the expected ones of an exchange; engine.probes.http words them for a person, with
the same texts as the httpx path where httpx has one. Bodies are decoded the way httpx decodes
them without optional packages (gzip, deflate), with the output capped as it is produced, so a
compressed bomb costs at most the probe's body cap.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


class LeanError(Exception):
    """An expected failure of an exchange, worded for a person by engine.probes.http."""


class BrokenConnection(LeanError):
    """The stream broke mid-exchange (its cause, if any, is chained); `doing` says during what."""

    def __init__(self, doing: str) -> None:
        super().__init__()
        self.doing = doing


class ProtocolFailure(LeanError):
    """The server broke HTTP/1.1 (h11's words), or hung up before answering (httpcore's words)."""


class DecodeFailure(LeanError):
    """A gzip or deflate body that does not decompress."""


class Decoder:
    """gzip / deflate content decoding (what httpx decodes without extra packages), output capped."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._first = True
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS)

    def feed(self, data: bytes, limit: int) -> bytes:
        first, self._first = self._first, False
        try:
            return self._zlib.decompress(data, max(limit, 1))
        except zlib.error as exc:
            if self.coding == "deflate" and first:
                # Servers send raw deflate as often as zlib-wrapped: httpx tries both, so do we.
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.feed(data, limit)
            raise DecodeFailure(f"cannot decode the {self.coding} body: {exc}") from None

    def flush(self, limit: int) -> bytes:
        try:
            return self._zlib.flush()[: max(limit, 0)]
        except zlib.error as exc:  # pragma: no cover - flush rarely fails after decompress succeeded
            raise DecodeFailure(f"cannot decode the {self.coding} body: {exc}") from None


def decoder_for(headers: Sequence[tuple[bytes, bytes]]) -> Decoder | None:
    """The decoder a response's Content-Encoding asks for; None for identity or a coding left as is."""
    for name, value in headers:
        if name == b"content-encoding":
            coding = value.decode("latin-1").strip().lower()
            # Identity, or a coding httpx would not decode either (br, zstd without their packages).
            return Decoder(coding) if coding in ("gzip", "deflate") else None
    return None
