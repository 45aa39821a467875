#!/usr/bin/python3
"""A WHEP player built on GStreamer's webrtcbin (Debian's python3-gi and
gir1.2-gst-plugins-bad-1.0).

    whep_webrtcbin.py ENDPOINT [FRAMES] [OFFER_FILE]

webrtcbin offers audio then video under max-bundle, so its video m-line is
port 0 with a=bundle-only. The offer goes once ICE gathering is complete (no
trickle). Video is depayloaded and decoded (vp8dec); after FRAMES decoded
frames the session is DELETEd while playing, and one JSON line says frames,
width, height and the DELETE's status. OFFER_FILE receives the offer as sent.
"""
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

RECVONLY = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY


def http(method, url, body=None, content_type=None):
    req = urllib.request.Request(url, data=body, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=20) as res:
            return res.status, dict(res.headers), res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class Player:
    def __init__(self, endpoint, want, offer_file):
        self.endpoint, self.want, self.offer_file = endpoint, want, offer_file
        self.got = {"frames": 0, "width": 0, "height": 0}
        self.session = None
        self.error = None
        self.loop = GLib.MainLoop()
        self.pipe = Gst.Pipeline.new("whep")
        self.webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
        self.webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        self.pipe.add(self.webrtc)
        for caps in ("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111",
                     "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96"):
            self.webrtc.emit("add-transceiver", RECVONLY, Gst.Caps.from_string(caps))
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering)
        self.webrtc.connect("pad-added", self.on_pad_added)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)

    def fail(self, why):
        self.error = why
        self.loop.quit()

    def on_error(self, _bus, msg):
        err, _ = msg.parse_error()
        self.fail(f"pipeline: {err.message}")

    def on_negotiation_needed(self, element):
        promise = Gst.Promise.new_with_change_func(self.on_offer, element, None)
        element.emit("create-offer", None, promise)

    def on_offer(self, promise, _element, _data):
        promise.wait()
        # The reply owns the offer: keep it while the offer is in use (PyGObject
        # frees a temporary reply at once, and the offer's SDP with it).
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        self.webrtc.emit("set-local-description", offer, Gst.Promise.new())
        del reply

    # Streaming thread: hop to the main loop to POST.
    def on_gathering(self, element, _pspec):
        if element.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            GLib.idle_add(self.post)

    def post(self):
        if self.session:
            return False
        offer = self.webrtc.get_property("local-description").sdp.as_text()
        if self.offer_file:
            with open(self.offer_file, "w", newline="") as f:
                f.write(offer)
        status, headers, answer = http("POST", self.endpoint, offer.encode(), "application/sdp")
        if status != 201:
            self.fail(f"POST: {status} {answer}")
            return False
        self.session = urllib.parse.urljoin(self.endpoint, headers["Location"])
        _, sdp = GstSdp.SDPMessage.new_from_text(answer)
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        self.webrtc.emit("set-remote-description", desc, Gst.Promise.new())
        return False

    def on_pad_added(self, _element, pad):
        caps = pad.get_current_caps()
        media = caps.get_structure(0).get_string("media") if caps else None
        if media != "video":
            sink = Gst.ElementFactory.make("fakesink")
            self.pipe.add(sink)
            sink.sync_state_with_parent()
            pad.link(sink.get_static_pad("sink"))
            return
        bin_ = Gst.parse_bin_from_description(
            "rtpvp8depay ! vp8dec ! fakesink name=frames signal-handoffs=true sync=false", True)
        self.pipe.add(bin_)
        bin_.get_by_name("frames").connect("handoff", self.on_frame)
        bin_.sync_state_with_parent()
        pad.link(bin_.get_static_pad("sink"))

    # Streaming thread: each decoded frame.
    def on_frame(self, _sink, _buf, pad):
        s = pad.get_current_caps().get_structure(0)
        self.got["width"], self.got["height"] = s.get_int("width")[1], s.get_int("height")[1]
        self.got["frames"] += 1
        if self.got["frames"] == self.want:
            GLib.idle_add(self.loop.quit)

    def run(self):
        self.pipe.set_state(Gst.State.PLAYING)
        GLib.timeout_add_seconds(30, lambda: self.fail(f"{self.want} frames not decoded in 30 s") or False)
        self.loop.run()
        if self.session:
            self.got["delete"] = http("DELETE", self.session)[0]
            self.got["session"] = self.session
        self.pipe.set_state(Gst.State.NULL)
        if self.error:
            raise SystemExit(f"{self.error}; {json.dumps(self.got)}")
        print(json.dumps(self.got), flush=True)


if __name__ == "__main__":
    Gst.init(None)
    Player(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30,
           sys.argv[3] if len(sys.argv) > 3 else None).run()
