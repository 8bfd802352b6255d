#!/usr/bin/python3
"""A standard DNS-SD peer for the interop tests, built on Debian's python3-zeroconf.

  zeroconf_tool.py browse  --ip 198.18.0.2 [--seconds N]
      prints {"event":"added"|"updated"|"removed"|"unresolved", ...} JSON lines
      for _shopsync._tcp.local. services
  zeroconf_tool.py publish --ip 198.18.0.2 --name NAME --host HOST --port P [--txt k=v]... [--seconds N]
      registers one _shopsync._tcp service (TXT entries exactly as given, in order),
      prints {"event":"registered"}, and unregisters (goodbye) on SIGTERM or after N s.
"""
import argparse
import json
import signal
import socket
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf

TYPE = "_shopsync._tcp.local."
START = time.monotonic()
stop = threading.Event()


def out(obj):
    obj["t_ms"] = int((time.monotonic() - START) * 1000)
    print(json.dumps(obj), flush=True)


def txt_entries(raw):
    entries, i = [], 0
    while i < len(raw):
        n = raw[i]
        entries.append(raw[i + 1:i + 1 + n].decode("utf-8", "replace"))
        i += 1 + n
    return entries


def browse(args, zc):
    def on_change(zeroconf, service_type, name, state_change):
        if state_change is ServiceStateChange.Removed:
            out({"event": "removed", "name": name})
            return
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        if info is None:
            out({"event": "unresolved", "name": name})
            return
        out({"event": "added" if state_change is ServiceStateChange.Added else "updated",
             "name": name, "port": info.port, "server": info.server,
             "addresses": info.parsed_addresses(), "txt": txt_entries(info.text or b"")})

    ServiceBrowser(zc, TYPE, handlers=[on_change])
    out({"event": "browsing"})
    stop.wait(args.seconds)


def publish(args, zc):
    text = b"".join(bytes([len(e.encode())]) + e.encode() for e in args.txt)
    info = ServiceInfo(TYPE, f"{args.name}.{TYPE}", addresses=[socket.inet_aton(args.ip)], port=args.port,
                       properties=text, server=f"{args.host}.local.")
    zc.register_service(info, ttl=args.ttl)
    out({"event": "registered", "name": info.name})
    stop.wait(args.seconds)
    zc.unregister_service(info)
    out({"event": "unregistered"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["browse", "publish"])
    p.add_argument("--ip", required=True)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--name")
    p.add_argument("--host")
    p.add_argument("--port", type=int, default=7460)
    p.add_argument("--ttl", type=int, default=120)
    p.add_argument("--txt", action="append", default=[])
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    zc = Zeroconf(interfaces=[args.ip], ip_version=IPVersion.V4Only)
    try:
        browse(args, zc) if args.mode == "browse" else publish(args, zc)
    finally:
        zc.close()
    out({"event": "stopped"})


if __name__ == "__main__":
    main()
