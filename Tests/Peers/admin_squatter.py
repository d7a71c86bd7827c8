#!/usr/bin/python3
"""An unfriendly local user of sagad's admin socket, for AdminLockoutTests: run as an
unprivileged user, it first trickles request lines one byte at a time, then holds as many
idle connections as it can. One JSON line on stdout per phase; it keeps its connections until
its standard input closes.

Usage: admin_squatter.py SOCKET IDLE_COUNT TRICKLE_COUNT
"""

import json
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    banner = b""
    while not banner.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        banner += chunk
    return s, banner.decode(errors="replace").strip()


def say(**fields):
    sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()


def main():
    path, idle_count, trickle_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    # Phase 1: requests trickled a byte at a time; sagad must close them at its request deadline.
    trickling = []
    for _ in range(trickle_count):
        s, banner = connect(path)
        if banner.startswith("0001"):
            trickling.append(s)
    closed, started = 0, time.time()
    open_ones = list(trickling)
    while open_ones and time.time() - started < 60:
        still = []
        for s in open_ones:
            try:
                s.send(b"s")
                s.settimeout(0.05)
                data = s.recv(4096)
                if not data or b"8007" in data:
                    closed += 1
                    continue
            except socket.timeout:
                pass
            except OSError:
                closed += 1
                continue
            still.append(s)
        open_ones = still
        time.sleep(0.3)
    say(phase="trickle", admitted=len(trickling), closed_by_sagad=closed)
    # Phase 2: hold as many idle connections as sagad lets this user have.
    held, turned_away = [], 0
    for _ in range(idle_count):
        try:
            s, banner = connect(path)
        except OSError:
            turned_away += 1
            continue
        if banner.startswith("0001"):
            held.append(s)
        else:
            turned_away += 1
            s.close()
    say(phase="idle", held=len(held), turned_away=turned_away)
    sys.stdin.read()
    for s in held:
        s.close()


if __name__ == "__main__":
    main()
