"""The check detail screen: definition, state, a latency chart over a chosen range, results and flips.

With a database the chart is read from the rollups for the whole range (`tui.rollup_chart`), again
every CHART_RELOAD_SECONDS; the engine's LoadHistory then only feeds the results and flips tables.
Without one, the chart is drawn from the raw results LoadHistory brought, as many as the range needs.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from pulsewatch.domain.events import LoadHistory, RunNow, SetPaused
from pulsewatch.errors import PulseWatchError
from tui import chart, render, rollup_chart
from tui.commands import DetailCommands
from tui.messages import CommandRequested
from tui.screens.silence_prompt import SilencePrompt, SilenceRequest
from tui.widgets.history_tables import FlipsTable, ResultsTable
from tui.widgets.latency_chart import LatencyChart

if TYPE_CHECKING:
    from datetime import datetime

    from textual.app import ComposeResult
    from textual.binding import BindingType

    from pulsewatch.domain.monitoring import ProbeResult
    from pulsewatch.domain.rollups import Rollup
    from tui.model import BoardChange, CheckView, History
    from tui.navigation import ConsoleContext

AGE_TICK_SECONDS = 5.0
"""How often ages on this screen are redrawn when no event does it (coarser: it redraws tables)."""

RESULTS_SHOWN = 100
"""Rows in the results table: the newest of the results in the chosen range."""

CHART_RELOAD_SECONDS = 15.0
"""How often the chart's buckets are read again from the rollups (the newest minute fills up)."""

NO_STORE_SILENCE = "Silences need a database: the console runs without one."

STATUS_CLASSES = tuple(f"-{status}" for status in ("up", "down", "degraded", "paused", "unknown",
                                                    "maintenance"))


class SilenceFinished(Message):
    """A silence was asked of the alerting service: `error` is None when it was made."""

    def __init__(self, done: str, error: PulseWatchError | None = None) -> None:
        super().__init__()
        self.done = done
        self.error = error


class BucketsLoaded(Message):
    """The chart's buckets for one range were read."""

    def __init__(self, range_index: int, since: datetime, until: datetime, rollups: list[Rollup]) -> None:
        super().__init__()
        self.range_index = range_index
        self.since = since
        self.until = until
        self.rollups = rollups


class DetailScreen(Screen[None]):
    """One check in depth. History is asked of the engine for the chosen range and drawn on arrival.

    Args:
        check_id: the check to show.
        context: the console's clock and board feed (the current board shows at once).
    """

    COMMANDS: ClassVar[set[type[DetailCommands]]] = {DetailCommands}  # type: ignore[assignment]
    HELP_SCOPE = "Check detail"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Return to the checks grid.", id="pw.back"),
        Binding("r", "run_now", "Run now", tooltip="Probe this check now.", id="pw.run-now"),
        Binding("p", "toggle_pause", "Pause/resume", tooltip="Pause or resume this check.", id="pw.pause"),
        Binding("s", "silence", "Silence", tooltip="Mute this check's alerts for a while, with a reason.",
                id="pw.silence"),
        Binding("left_square_bracket", "shorter_range", "Shorter", tooltip="Chart a shorter range "
                "(1h, 24h, 7d, 30d).", id="pw.range-shorter"),
        Binding("right_square_bracket", "longer_range", "Longer", tooltip="Chart a longer range, loading "
                "more history.", id="pw.range-longer"),
    ]

    def __init__(self, check_id: int, context: ConsoleContext) -> None:
        super().__init__(id="detail")
        self.check_id = check_id
        self._pw = context
        self._board = context.feed.board
        self.range_index = 0
        """Which of `chart.RANGES` is shown."""
        self.requested_limit = 0
        """The most results asked for so far (a shorter range reuses what a longer one loaded)."""
        self.removed = False
        """Set when the engine dropped the check: the screen closes as soon as it is on top."""
        self.buckets: BucketsLoaded | None = None
        """The chart's latest stored buckets (None: not read yet, or no database)."""

    def compose(self) -> ComposeResult:
        yield Header()
        # Names, reasons and conditions contain brackets ("[STATUS] == 200"): never parse them as markup.
        with Vertical(id="detail-head"):
            yield Label("", id="detail-name", markup=False)
            yield Label("", id="detail-state", markup=False)
            yield Static("", id="detail-config", markup=False)
        with Horizontal(id="range-bar"):
            yield Tabs(*(Tab(r.label, id=f"range-{i}") for i, r in enumerate(chart.RANGES)), id="range-tabs")
            yield Label("", id="chart-title", markup=False)
        yield LatencyChart(id="detail-chart")
        with Horizontal(id="detail-tables"):
            with Vertical(id="results-pane"):
                yield Label("Recent results", id="results-title", classes="section-title")
                yield ResultsTable(id="detail-results")
            with Vertical(id="flips-pane"):
                yield Label("Flips", id="flips-title", classes="section-title")
                yield FlipsTable(id="detail-flips")
        yield Footer()

    def on_mount(self) -> None:
        self._pw.feed.subscribe(self.show)
        self._tick()
        self.set_interval(AGE_TICK_SECONDS, self._tick)
        if self._rollups:
            self.set_interval(CHART_RELOAD_SECONDS, self._reload_chart)
        self.query_one(ResultsTable).focus()

    def on_unmount(self) -> None:
        self._pw.feed.unsubscribe(self.show)

    @property
    def view(self) -> CheckView | None:
        """The check as last shown; None once it has been removed from the engine's list."""
        return self._board.views.get(self.check_id)

    @property
    def time_range(self) -> chart.TimeRange:
        """The range the chart and the results table cover."""
        return chart.RANGES[self.range_index]

    def show(self, change: BoardChange) -> None:
        """Apply one drained batch, redrawing only what concerns this check."""
        if self.check_id in change.removed:
            self._check_removed()
            return
        self._board = change.board
        now = self._pw.clock()
        if self.check_id in change.changed or change.reset:
            self._show_view(now)
        if self.check_id in change.histories:
            self._show_history(now)

    def _check_removed(self) -> None:
        """The check left the engine (a reload deleted it): say so, and close as soon as on top.

        Only the screen on top may be dismissed (dismiss pops the active stack): when a prompt is
        over this one, or the person is on another destination, it closes when shown again.
        """
        if self.removed:
            return
        self.removed = True
        view = self.view
        name = view.check.name if view is not None else f"#{self.check_id}"
        self.notify(f"{name} was removed from the engine (its configuration no longer has it); "
                    "its detail is closed.", title="Check removed", severity="warning", markup=False)
        self._close_if_removed()

    def on_screen_resume(self) -> None:
        self._close_if_removed()
        if not self.removed and self.buckets is not None:  # back from elsewhere: the chart may be old
            self._read_buckets()

    def _close_if_removed(self) -> None:
        if self.removed and self.is_active:
            self.dismiss()

    def _tick(self) -> None:
        now = self._pw.clock()
        self._show_view(now)
        self._show_history(now)

    # -- range --------------------------------------------------------------------------------

    @on(Tabs.TabActivated, "#range-tabs")
    def _range_picked(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab.id is not None:
            self.range_index = int(event.tab.id.removeprefix("range-"))
        self._load_history()
        self._read_buckets()
        self._show_history(self._pw.clock())

    def action_show_range(self, index: int) -> None:
        """Chart the `index`-th of chart.RANGES (0: 1h … 3: 30d)."""
        index = max(0, min(index, len(chart.RANGES) - 1))
        self.query_one(Tabs).active = f"range-{index}"

    def action_shorter_range(self) -> None:
        """Chart the next shorter range."""
        self.action_show_range(self.range_index - 1)

    def action_longer_range(self) -> None:
        """Chart the next longer range (asking the engine for more history when needed)."""
        self.action_show_range(self.range_index + 1)

    def _load_history(self) -> None:
        view = self.view
        if view is None:
            return
        # With rollups the chart needs no raw results: only the results table's worth is asked for.
        limit = RESULTS_SHOWN if self._rollups else chart.history_limit(self.time_range, view.check.interval)
        if limit > self.requested_limit:
            self.requested_limit = limit
            self.post_message(CommandRequested(LoadHistory(self.check_id, limit=limit)))

    @property
    def _rollups(self) -> bool:
        services = self._pw.services
        return services is not None and services.rollups is not None

    def _reload_chart(self) -> None:
        if self.is_current:  # behind a prompt or another destination nobody sees it
            self._read_buckets()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail-buckets")
    def _read_buckets(self) -> None:
        services = self._pw.services
        if services is None or services.rollups is None:
            return
        index, time_range = self.range_index, self.time_range
        until = self._pw.clock()
        since = until - timedelta(seconds=time_range.seconds)
        level = rollup_chart.level_for(time_range)
        rows = services.rollups.latency_buckets(self.check_id, level, since, until)
        self.post_message(BucketsLoaded(index, since, until, rows))

    def on_buckets_loaded(self, message: BucketsLoaded) -> None:
        if message.range_index == self.range_index:  # else the person moved on: a newer read is coming
            self.buckets = message
            self._show_history(self._pw.clock())

    # -- drawing ------------------------------------------------------------------------------

    def _show_view(self, now: datetime) -> None:
        view = self.view
        state_label = self.query_one("#detail-state", Label)
        if view is None:
            self.query_one("#detail-name", Label).update("(check removed)")
            state_label.update("")
            return
        self.sub_title = view.check.name
        state = view.state
        self.query_one("#detail-name", Label).update(view.check.name)
        parts = [
            render.state_label(state, now),
            f"last checked {render.format_ago(state.last_checked_at, now)}",
            render.format_latency(state.last_latency_ms),
        ]
        if state.last_error:
            parts.append(render.one_line(state.last_error, 100))
        state_label.update(" · ".join(parts))
        state_label.remove_class(*STATUS_CLASSES)
        state_label.add_class(f"-{state.status.value}")
        self.query_one("#detail-config", Static).update("\n".join(render.check_config_lines(view.check)))

    def _show_history(self, now: datetime) -> None:
        history = self._board.histories.get(self.check_id)
        results_title = self.query_one("#results-title", Label)
        flips_title = self.query_one("#flips-title", Label)
        chart_title = self.query_one("#chart-title", Label)
        if self._rollups:
            self._show_buckets(now)
        if history is None:
            if not self._rollups:
                chart_title.update(f"Latency, last {self.time_range.label}: loading…")
            results_title.update("Recent results (loading…)")
            flips_title.update("Flips (loading…)")
            return
        shown = chart.in_range(history.results, self.time_range, now)
        if not self._rollups:
            self.query_one(LatencyChart).show(shown, now)
            chart_title.update(self._chart_title(shown, history))
        listed = shown[:RESULTS_SHOWN]
        results_title.update(f"Recent results ({len(listed)}"
                             + (f" newest of {render.format_count(len(shown))})" if len(shown) > len(listed)
                                else ")"))
        flips_title.update(f"Flips ({len(history.flips)})")
        self.query_one(ResultsTable).show(listed, now)
        self.query_one(FlipsTable).show(history.flips, now)

    def _show_buckets(self, now: datetime) -> None:
        chart_title = self.query_one("#chart-title", Label)
        loaded = self.buckets
        if loaded is None or loaded.range_index != self.range_index:
            chart_title.update(f"Latency, last {self.time_range.label}: reading the rollups…")
            return
        graph = self.query_one(LatencyChart)
        graph.show_buckets(loaded.rollups, loaded.since, loaded.until, now)
        level = rollup_chart.level_for(self.time_range)
        text = "Latency: " + rollup_chart.describe_buckets(loaded.rollups, self.time_range, level)
        if any(r.count for r in loaded.rollups) and graph.slice_seconds >= 1:
            text += f" · a bar is the slowest in {render.format_span(graph.slice_seconds)}"
        chart_title.update(text)

    def _chart_title(self, shown: list[ProbeResult], history: History) -> str:
        now = self._pw.clock()
        text = "Latency: " + chart.describe_window(shown, self.time_range, now, loaded=len(history.results),
                                                   complete=history.complete, limit=history.limit)
        if shown:
            ok = sum(1 for r in shown if r.ok)
            text += f" · {render.format_uptime(ok, len(shown))} ok"
            seconds = self.query_one(LatencyChart).slice_seconds
            if seconds >= 1:
                text += f" · a bar is the slowest in {render.format_span(seconds)}"
        return text

    # -- actions ------------------------------------------------------------------------------

    def action_back(self) -> None:
        """Return to the grid."""
        self.dismiss()

    def action_run_now(self) -> None:
        """Ask the engine to probe this check now."""
        view = self.view
        if view is not None:
            self.post_message(CommandRequested(RunNow(self.check_id), f"Probing {view.check.name} now"))

    def action_toggle_pause(self) -> None:
        """Pause this check, or resume it when it is paused."""
        view = self.view
        if view is not None:
            paused = not view.paused
            verb = "Pausing" if paused else "Resuming"
            self.post_message(CommandRequested(SetPaused(self.check_id, paused), f"{verb} {view.check.name}"))

    # -- silencing ----------------------------------------------------------------------------

    def action_silence(self) -> None:
        """Ask for a duration and a reason, then silence this check as the signed-in actor."""
        view = self.view
        if view is None:
            return
        if self._pw.services is None:
            self.notify(NO_STORE_SILENCE, severity="warning", markup=False)
            return
        check = view.check

        def chosen(request: SilenceRequest | None) -> None:
            if request is not None:
                self._silence(check.name, check.org, request)

        self.app.push_screen(SilencePrompt(f"Silence {check.name}"), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail-silence")
    def _silence(self, name: str, org: str, request: SilenceRequest) -> None:
        services = self._pw.services
        if services is None:
            return
        try:
            made = services.incidents.add_silence(
                services.actor, check=name, tag=None, duration=request.seconds, reason=request.reason,
                now=self._pw.clock(), org=org,
            )
        except PulseWatchError as error:  # refusals and bad requests: the person's to fix
            self.post_message(SilenceFinished("", error))
            return
        until = made.until.astimezone(UTC).strftime("%H:%M")
        self.post_message(SilenceFinished(f"{name} silenced until {until} UTC"))

    def on_silence_finished(self, message: SilenceFinished) -> None:
        if message.error is not None:
            self.notify(message.error.message, title=message.error.title, severity="error", markup=False)
        else:
            self.notify(message.done, timeout=3, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The worker does not stop the app on error (exit_on_error=False): say what broke instead.
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            chart = event.worker.group == "detail-buckets"
            title = "Could not read the chart" if chart else "Could not silence"
            self.notify(str(event.worker.error), title=title, severity="warning" if chart else "error",
                        markup=False)
