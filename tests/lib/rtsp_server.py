#!/usr/bin/python3
# A real RTSP camera for the tests: Debian's gst-rtsp-server serving
# videotestsrc ! x264enc (High profile, no B-frames, a long GOP) at
# rtsp://[USER:PASS@]127.0.0.1:PORT/PATH. Prints "ready" once it listens.
# With AUDIO=pcmu or AUDIO=aac, a second track: a 1 kHz beep once a second,
# G.711 mu-law at 8 kHz or AAC at 48 kHz, as IP cameras send their microphone's.
# usage: rtsp_server.py PORT PATH [USER PASS]   env: GOP (frames, 120), SIZE (640x360)
import os
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port, path = sys.argv[1], sys.argv[2]
gop = int(os.environ.get('GOP', '120'))
kbps = int(os.environ.get('KBPS', '1000'))
pattern = os.environ.get('PATTERN', 'ball')
moving = '' if pattern == 'ball' else ' horizontal-speed=4'  # a picture that costs bits
width, height = os.environ.get('SIZE', '640x360').split('x')
server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service(port)
beep = 'audiotestsrc is-live=true wave=ticks freq=1000 sine-periods-per-tick=100 volume=0.8 ! audioconvert ! audioresample'
audio = {
    'none': '',
    'pcmu': f' {beep} ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 pt=0',
    'aac': f' {beep} ! audio/x-raw,rate=48000,channels=1 ! avenc_aac ! aacparse ! rtpmp4gpay name=pay1 pt=97',
}[os.environ.get('AUDIO', 'none')]
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    f'( videotestsrc is-live=true pattern={pattern}{moving} ! video/x-raw,width={width},height={height},framerate=30/1 '
    f'! x264enc tune=zerolatency speed-preset=veryfast key-int-max={gop} bframes=0 bitrate={kbps} '
    f'! video/x-h264,profile=high ! rtph264pay name=pay0 pt=96 config-interval=-1{audio} )')
factory.set_shared(True)
if len(sys.argv) > 4:
    user, password = sys.argv[3], sys.argv[4]
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string('media.factory.role', user)
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    perms = GstRtspServer.RTSPPermissions()
    perms.add_permission_for_role(user, 'media.factory.access', True)
    perms.add_permission_for_role(user, 'media.factory.construct', True)
    factory.set_permissions(perms)
server.get_mount_points().add_factory(path, factory)
if server.attach(None) == 0:
    sys.exit(f'cannot listen on 127.0.0.1:{port}')
print('ready', flush=True)
GLib.MainLoop().run()
