"""An upload read by a worker thread as it arrives (PUT /archive streams it to the copy helper)."""

from __future__ import annotations

import asyncio

from sampan.server.request import Body


def test_a_worker_thread_reads_the_body_while_it_arrives() -> None:
    async def main() -> tuple[list[bytes], bytes]:
        reader = asyncio.StreamReader()
        payload = b"x" * 300_000
        body = Body(reader, length=len(payload) + 5)
        blocking = body.blocking(asyncio.get_running_loop())

        def consume() -> list[bytes]:
            first = blocking.read(1000)
            rest = blocking.read()  # to the end, however it is split
            return [first, rest, blocking.read(10)]

        worker = asyncio.ensure_future(asyncio.to_thread(consume))
        for i in range(0, len(payload), 65536):  # the connection delivers it piece by piece
            reader.feed_data(payload[i:i + 65536])
            await asyncio.sleep(0)
        reader.feed_data(b"tail!")
        return await worker, payload + b"tail!"

    (first, rest, after), sent = asyncio.run(main())
    assert first == sent[:1000] and first + rest == sent and after == b""
