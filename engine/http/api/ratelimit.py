"""Per-key rate limits: a token bucket for each API key, in memory, per engine.

Each key may make `burst` requests at once and `rate` a second after that. The buckets live in the
engine's memory (several engines behind a load balancer each allow the rate: the limit protects an
engine, it is not a billing meter). Only authenticated keys get a bucket, so their number is bounded
by the keys in the database. Time is passed in (trio's clock), so tests need no sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets by key id.

    Args:
        rate: tokens added per second (sustained requests per second).
        burst: the bucket's size (requests allowed at once).
    """

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._buckets: dict[int, _Bucket] = {}

    def take(self, key: int, now: float) -> float | None:
        """Spend one token of `key`'s bucket at `now` (seconds, monotonic).

        Returns:
            None when the request may go ahead; else the seconds until a token is available.
        """
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate
