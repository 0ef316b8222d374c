"""The app under snapshot: fixed data from tests/tui/fakes.py, a frozen clock, no engine, no network."""

from __future__ import annotations

from tests.tui.fakes import CHECKOUT_HISTORY, STARTED, TREND_HISTORIES, FakeEngine, frozen_clock
from tui.app import PulseWatchApp


def make_engine() -> FakeEngine:
    """A FakeEngine that starts with seven checks in mixed statuses, six of them with some history.

    The stored results reach the grid's sparklines and uptime columns the way a detail screen's
    history would; 'checkout' (id 2) also answers LoadHistory with twelve results and four flips.
    """
    return FakeEngine([STARTED, *TREND_HISTORIES], histories={CHECKOUT_HISTORY.check_id: CHECKOUT_HISTORY})


def make_app(theme: str = "pulsewatch-dark", engine: FakeEngine | None = None) -> PulseWatchApp:
    """The console over `engine` (default: `make_engine()`), at the frozen instant, applying at once."""
    return PulseWatchApp(engine or make_engine(), theme=theme, clock=frozen_clock, refresh_interval=0)


if __name__ == "__main__":
    make_app().run()
