#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Checks of the shipped systemd/D-Bus files, one rule per invocation:
#   check_units.sh verify   UNIT              systemd-analyze verify is clean
#   check_units.sh security UNIT MAX          overall exposure (systemd-analyze security) <= MAX
#   check_units.sh activation SERVICEFILE     dbus-daemon lists the name as activatable
# UNIT is a copy of psc-authd.service whose ExecStart points at the built binary.
set -eu

mode=$1
shift

case "$mode" in
verify)
    # --man=no: the man pages in Documentation= are not installed in a build tree.
    out=$(systemd-analyze verify --man=no "$1" 2>&1) || {
        echo "systemd-analyze verify failed:"; echo "$out"; exit 1; }
    if [ -n "$out" ]; then
        echo "systemd-analyze verify is not clean:"; echo "$out"; exit 1
    fi
    echo "verify: clean"
    ;;
security)
    unit=$1 max=$2
    out=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1) || true
    level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
    if [ -z "$level" ]; then
        echo "no overall exposure level in:"; echo "$out"; exit 1
    fi
    echo "overall exposure: $level (limit $max)"
    # Lines still flagged, for whoever has to lower the number.
    printf '%s\n' "$out" | grep '✗' || true
    awk -v l="$level" -v m="$max" 'BEGIN { exit !(l + 0 <= m + 0) }' || {
        echo "exposure $level is above $max"; exit 1; }
    ;;
activation)
    file=$1
    dir=$(mktemp -d /tmp/psc-test-activation-XXXXXX)
    trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
    mkdir "$dir/services"
    cp "$file" "$dir/services/org.psclogin.Auth1.service"
    cat > "$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$dir/bus</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$dir/services</servicedir>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
    dbus-daemon --config-file="$dir/bus.conf" --nofork --print-address=3 3>"$dir/address" \
        2>"$dir/log" &
    pid=$!
    i=0
    while [ ! -s "$dir/address" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    names=$(dbus-send --bus="$(head -n1 "$dir/address")" --print-reply --dest=org.freedesktop.DBus \
        /org/freedesktop/DBus org.freedesktop.DBus.ListActivatableNames)
    printf '%s\n' "$names" | grep -q '"org.psclogin.Auth1"' || {
        echo "org.psclogin.Auth1 is not activatable from $file:"; echo "$names"; exit 1; }
    grep -qx 'SystemdService=psc-authd.service' "$file" || {
        echo "$file does not hand activation to psc-authd.service"; exit 1; }
    echo "activation: org.psclogin.Auth1 -> psc-authd.service"
    ;;
*)
    echo "usage: $0 verify UNIT | security UNIT MAX | activation FILE" >&2
    exit 2
    ;;
esac
