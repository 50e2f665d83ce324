#!/usr/bin/env python3
"""Reads text streams with the official LiveKit Python SDK, as a LiveKit frontend does.

Joins a room with a token, registers a text stream handler for --topic (`lk.transcription` by
default) and reads every stream on it to the end. Readiness handshake: the first data packet
on --probe-topic that arrives (proof that packets from the room reach this client) is
answered once with a data packet on --ready-topic. Leaves after --expect streams ended (or
after --patience seconds, a hang guard) and prints one JSON line: the streams in the order
they ended, each with its sender identity, stream id, topic, MIME type, timestamp,
attributes (header's, merged with the trailer's) and full text, or its error.

Install: tests/livekit/requirements.txt (see setup.sh).
"""

import argparse
import asyncio
import json

from livekit import rtc


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--topic", default="lk.transcription")
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--probe-topic", default="probe")
    ap.add_argument("--ready-topic", default="ready")
    ap.add_argument("--patience", type=float, default=120.0)
    args = ap.parse_args()

    room = rtc.Room()
    streams = []
    enough = asyncio.Event()
    tasks = set()
    answered = False

    async def read(reader, identity):
        entry = {"identity": identity}
        try:
            entry["text"] = await reader.read_all()
        except Exception as e:  # the stream ended abnormally: report it
            entry["error"] = repr(e)
        info = reader.info
        entry.update(
            stream_id=info.stream_id,
            topic=info.topic,
            mime_type=info.mime_type,
            timestamp=info.timestamp,
            size=info.size,
            attributes=dict(info.attributes or {}),
        )
        streams.append(entry)
        if len(streams) >= args.expect:
            enough.set()

    def on_stream(reader, identity):
        task = asyncio.create_task(read(reader, identity))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    room.register_text_stream_handler(args.topic, on_stream)

    @room.on("data_received")
    def on_data(packet):
        nonlocal answered
        if packet.topic == args.probe_topic and not answered:
            answered = True
            task = asyncio.create_task(
                room.local_participant.publish_data(b"ready", topic=args.ready_topic)
            )
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    await room.connect(args.url, args.token)
    try:
        await asyncio.wait_for(enough.wait(), args.patience)
    except asyncio.TimeoutError:
        pass
    summary = {
        "identity": room.local_participant.identity,
        "answered_probe": answered,
        "streams": streams,
    }
    await room.disconnect()
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
