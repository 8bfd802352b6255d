#!/bin/sh
# avahi_browse.sh CONF: run by the interop test inside a host namespace under
# `unshare -m`. Starts a system D-Bus and an avahi-daemon on it (everything under a
# private /run), then avahi-browse printing _shopsync._tcp events until SIGTERM.
set -e
CONF=$1
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus
dbus-daemon --system --nopidfile --nofork &
DBUS=$!
AVAHI=
BROWSE=
trap 'kill $BROWSE $AVAHI $DBUS 2>/dev/null; exit 0' TERM INT
i=0; while [ ! -S /run/dbus/system_bus_socket ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
avahi-daemon -f "$CONF" --no-drop-root --no-chroot --no-rlimits 2>/dev/null &
AVAHI=$!
i=0; while ! avahi-browse -atk >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
echo '{"event":"browsing"}'
avahi-browse -rpk _shopsync._tcp &
BROWSE=$!
wait $BROWSE
