"""A FakeChannelDesk: two channels (one failing) and three deliveries, at the frozen instant."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pulsewatch.domain.notifications import DeliveryStatus, Notification, NotificationEvent
from pulsewatch.services.alerting import ChannelView
from tests.tui.fakes import ago

if TYPE_CHECKING:
    from pulsewatch.domain.accounts import Actor


def notification(nid: int, channel: str, event: NotificationEvent, status: DeliveryStatus, minutes: float,
                 **fields: object) -> Notification:
    """A delivery created `minutes` before the frozen instant; `fields` set attempts, errors..."""
    at = ago(minutes=minutes)
    title = f"checkout is {event.value}"
    made = Notification(nid, f"k{nid}", 2, channel, event, title, "body", status, at, at)
    return replace(made, **fields)  # type: ignore[arg-type]


class FakeChannelDesk:
    """Canned channels and deliveries; `reads` counts the reloads."""

    def __init__(self) -> None:
        self.channel_views = [
            ChannelView("ops-slack", ("slack://T***/B***/***",), last_success_at=ago(minutes=3)),
            ChannelView("shop-mail", ("mailto://***@mail.example.test",), org="shop", failing=True,
                        consecutive_failures=3, last_error="SMTP 421 try again later",
                        last_failure_at=ago(minutes=1)),
        ]
        self.log = [
            notification(3, "shop-mail", NotificationEvent.DOWN, DeliveryStatus.FAILED, 1, attempts=3,
                         last_error="SMTP 421 try again later"),
            notification(2, "ops-slack", NotificationEvent.DOWN, DeliveryStatus.SENT, 3, attempts=1),
            notification(1, "ops-slack", NotificationEvent.RECOVERED, DeliveryStatus.SUPPRESSED, 60,
                         reason="silenced by ana@example.com"),
        ]
        self.reads = 0

    def views(self, actor: Actor) -> list[ChannelView]:
        self.reads += 1
        return list(self.channel_views)

    def deliveries(self, actor: Actor, *, limit: int = 100) -> list[Notification]:
        return self.log[:limit]
