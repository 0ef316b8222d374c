"""ChannelBoard: a person sees the channels AlertingAccess lets them see, and only those deliveries."""

from __future__ import annotations

from datetime import UTC, datetime

from pulsewatch.domain.accounts import Actor, Membership, Role
from pulsewatch.domain.alerting import Channel
from pulsewatch.domain.notifications import ChannelHealth, DeliveryStatus, Notification, NotificationEvent
from pulsewatch.services.alerting import ChannelView, channel_views
from pulsewatch.services.console_channels import ChannelBoard

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
CHANNELS = (
    Channel("all-slack", ("slack://a/b/c",)),
    Channel("shop-mail", ("mailto://u:p@x.test",), org="shop"),
    Channel("lab-mail", ("mailto://u:p@y.test",), org="lab"),
)


class Access:
    """AlertingAccess.channels' rule for these tests: channels of every org, and the actor's own."""

    def channels(
        self, actor: Actor, channels: tuple[Channel, ...], health: list[ChannelHealth]
    ) -> list[ChannelView]:
        orgs = actor.visible_orgs()
        return channel_views([c for c in channels if c.org is None or orgs is None or c.org in orgs], health)


class Alerts:
    def __init__(self) -> None:
        names = ["lab-mail", "shop-mail", "all-slack", "lab-mail", "shop-mail"]
        self.sent = [
            Notification(i, f"k{i}", 1, name, NotificationEvent.DOWN, "t", "b", DeliveryStatus.SENT, NOW, NOW)
            for i, name in enumerate(names)
        ]

    def channel_health(self) -> list[ChannelHealth]:
        return [ChannelHealth("shop-mail", consecutive_failures=2, failing=True)]

    def notifications(self, *, incident_id: int | None = None, limit: int = 100) -> list[Notification]:
        return self.sent[:limit]


SHOP_VIEWER = Actor("vic@example.com", (Membership("vic@example.com", "shop", Role.VIEWER),))


def board() -> ChannelBoard:
    return ChannelBoard(Access(), Alerts(), CHANNELS)  # type: ignore[arg-type]


def test_views_are_scoped_masked_and_carry_health() -> None:
    views = board().views(SHOP_VIEWER)
    assert [v.name for v in views] == ["all-slack", "shop-mail"]
    assert views[1].failing
    assert "p@" not in views[1].masked_urls[0]


def test_deliveries_only_to_visible_channels_newest_first_within_the_limit() -> None:
    assert [n.channel for n in board().deliveries(SHOP_VIEWER)] == ["shop-mail", "all-slack", "shop-mail"]
    assert [n.id for n in board().deliveries(SHOP_VIEWER, limit=2)] == [1, 2]
    assert len(board().deliveries(Actor.for_system("console"))) == 5
