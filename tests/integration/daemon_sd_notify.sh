#!/bin/sh
# Under systemd (Type=notify) whepcamd reports READY=1 once its control
# socket answers, and STOPPING=1 when told to stop: a fake $NOTIFY_SOCKET
# receives both, and the socket must already exist when READY=1 arrives.
set -eu
BUILD=${BUILD:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$BUILD/whepcamd" "$dir" <<'PY'
import os, signal, socket, subprocess, sys
daemon, d = sys.argv[1], sys.argv[2]
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
n.bind(d + '/notify'); n.settimeout(30)
env = dict(os.environ, NOTIFY_SOCKET=d + '/notify')
p = subprocess.Popen([daemon, '--socket', d + '/ctl.sock', '--width', '320', '--height', '240'],
                     env=env, stderr=subprocess.DEVNULL)
try:
    msg = n.recv(4096).decode()
    print('first notification:', msg.replace('\n', ' | '))
    assert 'READY=1' in msg.split('\n'), 'READY=1 expected first'
    c = socket.socket(socket.AF_UNIX); c.settimeout(10); c.connect(d + '/ctl.sock')
    c.sendall(b'{"op":"health"}\n')
    reply = c.recv(4096).decode()
    assert '"status":200' in reply.replace(' ', ''), 'the control socket answers once READY=1 is sent: ' + reply
    c.close()
    p.send_signal(signal.SIGTERM)
    msg = n.recv(4096).decode()
    print('on SIGTERM:', msg)
    assert 'STOPPING=1' in msg.split('\n'), 'STOPPING=1 expected on SIGTERM'
    assert p.wait(timeout=30) == 0, 'exits 0 on SIGTERM'
finally:
    if p.poll() is None:
        p.kill()
PY
