#!/usr/bin/env python3
"""Independent LiveKit participant for Switchboard's tests (official LiveKit Python SDK).

The SDK ships liblivekit_ffi.so with real libwebrtc, so this client checks the room simulator
(and, with LIVEKIT_URL set, a real server) with a WebRTC stack we did not write.

It joins a room with a token, optionally publishes a WAV as its microphone (real time, 10 ms
frames), records every subscribed audio track into one 48 kHz mono WAV (each track placed
where its first frame arrived, counted from the moment the room connected), optionally sends
DTMF (`sip_dtmf`) and data packets, stays for --duration seconds, then leaves and prints a
JSON summary on stdout (identity, participants seen, tracks subscribed, data and DTMF
received, samples recorded).

Install: tests/livekit/requirements.txt (see setup.sh).
"""

import argparse
import asyncio
import json
import sys
import time
import wave

import numpy as np
from livekit import rtc

RATE = 48000


def read_wav(path):
    """Mono int16 samples at 48 kHz (other rates resampled linearly, channels averaged)."""
    with wave.open(path, "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width != 2:
        sys.exit(f"{path}: only 16-bit WAV is supported")
    pcm = np.frombuffer(raw, dtype=np.int16).astype(np.float64)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1)
    if rate != RATE:
        n = int(round(len(pcm) * RATE / rate))
        pcm = np.interp(np.arange(n) * rate / RATE, np.arange(len(pcm)), pcm)
    return np.clip(pcm, -32768, 32767).astype(np.int16)


def write_wav(path, pcm):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.astype(np.int16).tobytes())


class Recorder:
    """Per-track PCM placed on one timeline (index 0 = room connected)."""

    def __init__(self, t0):
        self.t0 = t0
        self.tracks = {}
        self.tasks = []

    def start(self, track, name):
        self.tasks.append(asyncio.ensure_future(self._run(track, name)))

    async def _run(self, track, name):
        stream = rtc.AudioStream(track, sample_rate=RATE, num_channels=1)
        entry = None
        async for event in stream:
            frame = event.frame
            if entry is None:
                offset = int((time.monotonic() - self.t0) * RATE)
                entry = self.tracks.setdefault(name, {"offset": offset, "chunks": []})
            entry["chunks"].append(np.frombuffer(bytes(frame.data), dtype=np.int16).copy())

    def mix(self):
        parts = []
        for entry in self.tracks.values():
            pcm = np.concatenate(entry["chunks"]) if entry["chunks"] else np.zeros(0, np.int16)
            parts.append((entry["offset"], pcm))
        length = max((o + len(p) for o, p in parts), default=0)
        out = np.zeros(length, dtype=np.int32)
        for offset, pcm in parts:
            out[offset : offset + len(pcm)] += pcm
        return np.clip(out, -32768, 32767).astype(np.int16)


async def publish(room, pcm):
    source = rtc.AudioSource(RATE, 1)
    track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
    await room.local_participant.publish_track(track, options)
    step = RATE // 100
    for start in range(0, len(pcm), step):
        chunk = pcm[start : start + step]
        if len(chunk) < step:
            chunk = np.concatenate([chunk, np.zeros(step - len(chunk), np.int16)])
        frame = rtc.AudioFrame(chunk.tobytes(), RATE, 1, step)
        await source.capture_frame(frame)  # paced by the source's queue
    await source.wait_for_playout()


async def main(args):
    room = rtc.Room()
    summary = {
        "participants": [],
        "subscribed": [],
        "data": [],
        "dtmf": [],
        "errors": [],
        "reconnecting": 0,
        "reconnected": 0,
        "disconnected": None,
    }
    t0 = time.monotonic()
    recorder = Recorder(t0)

    @room.on("track_subscribed")
    def on_track(track, publication, participant):
        summary["subscribed"].append({"participant": participant.identity, "track": publication.sid})
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            recorder.start(track, publication.sid)

    @room.on("participant_connected")
    def on_participant(participant):
        summary["participants"].append(participant.identity)

    @room.on("data_received")
    def on_data(packet):
        who = packet.participant.identity if packet.participant else None
        summary["data"].append(
            {"from": who, "topic": packet.topic, "data": packet.data.decode("utf-8", "replace")}
        )

    @room.on("sip_dtmf_received")
    def on_dtmf(dtmf):
        who = dtmf.participant.identity if dtmf.participant else None
        summary["dtmf"].append({"from": who, "code": dtmf.code, "digit": dtmf.digit})

    @room.on("reconnecting")
    def on_reconnecting():
        summary["reconnecting"] += 1

    @room.on("reconnected")
    def on_reconnected():
        summary["reconnected"] += 1

    @room.on("disconnected")
    def on_disconnected(reason):
        summary["disconnected"] = str(reason)

    await room.connect(args.url, args.token, rtc.RoomOptions(auto_subscribe=True))
    recorder.t0 = time.monotonic()
    summary["identity"] = room.local_participant.identity
    summary["participants"].extend(p.identity for p in room.remote_participants.values())

    jobs = []
    if args.publish:
        jobs.append(asyncio.ensure_future(publish(room, read_wav(args.publish))))
    await asyncio.sleep(args.send_after)
    for digit in args.dtmf or "":
        code = {"*": 10, "#": 11}.get(digit, int(digit) if digit.isdigit() else 0)
        await room.local_participant.publish_dtmf(code=code, digit=digit)
    for text in args.data:
        await room.local_participant.publish_data(text.encode(), reliable=True, topic=args.topic)

    await asyncio.sleep(max(0.0, args.duration - (time.monotonic() - t0)))
    for job in jobs:
        if job.done() and job.exception():
            summary["errors"].append(repr(job.exception()))
        job.cancel()
    await room.disconnect()
    for task in recorder.tasks:
        task.cancel()
    if args.record:
        pcm = recorder.mix()
        write_wav(args.record, pcm)
        summary["recorded_samples"] = int(len(pcm))
    print(json.dumps(summary), flush=True)


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="ws://host:port of the LiveKit server")
    p.add_argument("--token", required=True, help="JWT with a room join grant")
    p.add_argument("--publish", help="WAV to publish as the microphone track")
    p.add_argument("--record", help="WAV to write what was heard (48 kHz mono)")
    p.add_argument("--duration", type=float, default=5.0, help="seconds to stay in the room")
    p.add_argument("--dtmf", help="DTMF digits to send as sip_dtmf packets")
    p.add_argument("--data", action="append", default=[], help="text data packet to send")
    p.add_argument("--topic", default="", help="topic of the data packets")
    p.add_argument("--send-after", type=float, default=1.0, help="seconds before sending")
    return p.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
