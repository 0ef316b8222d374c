"""A fast local HTTP target for benchmarks: trio + h11, keep-alive, answers 200 "ok" to anything.

Run as its own process so its CPU is not charged to the engine being measured:
    python -m bench.target_server PORTFILE
writes the chosen port to PORTFILE and serves until killed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import h11
import trio

BODY = b'{"status":"ok"}'


async def _handle(stream: trio.SocketStream) -> None:
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await stream.receive_some(65536)
                if not data:
                    return
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                continue
            if isinstance(event, h11.EndOfMessage):
                headers = [("content-type", "application/json"), ("content-length", str(len(BODY)))]
                out = conn.send(h11.Response(status_code=200, headers=headers))
                out += conn.send(h11.Data(data=BODY)) + conn.send(h11.EndOfMessage())
                await stream.send_all(out)
                if conn.our_state is h11.MUST_CLOSE:  # the client asked for "Connection: close"
                    return
                conn.start_next_cycle()
                continue
            if isinstance(event, h11.ConnectionClosed):
                return
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.RemoteProtocolError):
        return
    finally:
        await stream.aclose()


async def serve(port_file: Path) -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    await trio.Path(port_file).write_text(str(listeners[0].socket.getsockname()[1]))
    await trio.serve_listeners(_handle, listeners)


if __name__ == "__main__":
    trio.run(serve, Path(sys.argv[1]))
