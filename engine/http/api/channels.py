"""/api/v1/channels: the alert channels of the configuration (URLs masked, delivery health) and a test
message. Channels are declared in the YAML file; the API does not change them."""

from __future__ import annotations

from fastapi import APIRouter

from engine.http.api.alert_models import ChannelOut, ChannelTestOut
from engine.http.api.auth import Authenticated, Caller
from engine.http.api.errors import ApiRoute
from engine.notify.apprise import NotifyError
from pulsewatch.domain.accounts import Permission
from pulsewatch.domain.alerting import Channel
from pulsewatch.errors import NotFoundError
from pulsewatch.services.alerting import channel_views

router = APIRouter(prefix="/channels", tags=["channels"], route_class=ApiRoute)


@router.get("", summary="List alert channels")
async def list_channels(caller: Authenticated) -> list[ChannelOut]:
    """Channels serving the key's organization, with masked URLs and how their deliveries have been going."""
    caller.actor.require(Permission.VIEW, caller.org)
    health = await caller.context.read(caller.backend.alerts.channel_health)
    return [ChannelOut.of(v) for v in channel_views(_channels(caller), health)]


@router.post("/{name}/test", summary="Send a test message to a channel")
async def test_channel(caller: Authenticated, name: str) -> ChannelTestOut:
    """Send a real message now, through every URL of the channel. `sent` is false (with the reason,
    secrets masked) when a URL refused it."""
    channel = next((c for c in _channels(caller) if c.name == name), None)
    if channel is None:
        raise NotFoundError(f"no channel named {name!r}")
    caller.actor.require(Permission.MANAGE_CHANNELS, caller.org)
    at = caller.backend.wall_clock()
    title = f"PulseWatch test: {channel.name}"
    body = (
        f"A test message from PulseWatch to channel {channel.name}, sent {at:%Y-%m-%d %H:%M:%S} UTC "
        f"through the REST API by {caller.key.label}."
    )
    try:
        await caller.context.run_sync(
            caller.backend.send_message, channel.urls, title, body, limiter=caller.backend.send_limiter
        )
    except NotifyError as exc:  # a refused delivery is the answer, not an error of the API
        return ChannelTestOut(channel=channel.name, sent=False, detail=f"test message failed: {exc.message}")
    return ChannelTestOut(
        channel=channel.name, sent=True, detail=f"test message sent ({', '.join(channel.masked_urls())})"
    )


def _channels(caller: Caller) -> list[Channel]:
    return [c for c in caller.backend.alerting.channels if c.org in (None, caller.org)]
