"""PulseWatch: uptime and health-check monitoring — the core (domain, use cases, config schema)."""

from __future__ import annotations

__version__ = "0.1.0"
