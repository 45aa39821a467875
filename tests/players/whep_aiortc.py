#!/usr/bin/python3
"""A WHEP player in a few lines of aiortc (Debian's python3-aiortc).

    whep_aiortc.py ENDPOINT [FRAMES] [OFFER_FILE]

POSTs an offer (video then audio, receive only; aiortc sends the offer with
its candidates, no trickle), decodes FRAMES video frames, DELETEs the session
while playing and prints one JSON line: frames, width, height, the DELETE's
status. OFFER_FILE, if given, receives the offer as sent.
"""
import asyncio
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from aiortc import RTCPeerConnection, RTCSessionDescription


def http(method, url, body=None, content_type=None):
    req = urllib.request.Request(url, data=body, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=20) as res:
            return res.status, dict(res.headers), res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


async def play(endpoint, want, offer_file):
    loop = asyncio.get_running_loop()
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    got = {"frames": 0, "width": 0, "height": 0}
    done = asyncio.Event()

    async def decode(track):
        while not done.is_set():
            frame = await track.recv()  # an av.VideoFrame, decoded
            got["frames"] += 1
            got["width"], got["height"] = frame.width, frame.height
            if got["frames"] >= want:
                done.set()

    @pc.on("track")
    def on_track(track):
        if track.kind == "video":
            asyncio.ensure_future(decode(track))

    await pc.setLocalDescription(await pc.createOffer())  # gathers too
    offer = pc.localDescription.sdp
    if offer_file:
        with open(offer_file, "w", newline="") as f:
            f.write(offer)
    status, headers, answer = await loop.run_in_executor(
        None, http, "POST", endpoint, offer.encode(), "application/sdp")
    if status != 201:
        raise SystemExit(f"POST: {status} {answer}")
    session = urllib.parse.urljoin(endpoint, headers["Location"])
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    try:
        await asyncio.wait_for(done.wait(), 30)
    finally:
        status, _, _ = await loop.run_in_executor(None, http, "DELETE", session)
        got["delete"] = status
        got["session"] = session
        await pc.close()
    print(json.dumps(got), flush=True)


if __name__ == "__main__":
    asyncio.run(play(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30,
                     sys.argv[3] if len(sys.argv) > 3 else None))
