"""Channels and the delivery log as one person may see them: the console's Channels screen.

Channels come from the config (they hold secrets, so only masked views leave here); their health and
the notifications come from the store. A person sees the channels of their organizations and those
serving every organization (AlertingAccess.channels), and the deliveries to those channels only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pulsewatch.domain.accounts import Actor
    from pulsewatch.domain.alerting import Channel
    from pulsewatch.domain.notifications import Notification
    from pulsewatch.services.alerting import AlertPort, ChannelView
    from pulsewatch.services.alerting_access import AlertingAccess


class ChannelBoard:
    """Channel views and recent deliveries, scoped to the asking actor.

    Args:
        access: the role-checked alerting use cases (for which channels the actor may see).
        alerts: channel health and the outbox.
        channels: the configured channels.
    """

    def __init__(self, access: AlertingAccess, alerts: AlertPort, channels: Sequence[Channel]) -> None:
        self._access = access
        self._alerts = alerts
        self._channels = tuple(channels)

    def views(self, actor: Actor) -> list[ChannelView]:
        """The channels `actor` may see, with masked URLs and delivery health, in config order."""
        return self._access.channels(actor, self._channels, self._alerts.channel_health())

    def deliveries(self, actor: Actor, *, limit: int = 100) -> list[Notification]:
        """Recent notifications to the channels `actor` may see, newest first (at most `limit`)."""
        visible = {view.name for view in self.views(actor)}
        return [n for n in self._alerts.notifications(limit=limit * 4) if n.channel in visible][:limit]
