#!/bin/bash
# The README's first command: a whole Pro Santé Connect login against the embedded mock PSC.
# Builds what is needed (installing Debian packages first when run as root), starts mock-psc on
# loopback, and runs the login with psc-authd's own parts: you open the printed address in a
# browser on this machine and log in on the mock wallet page as one of its test professionals.
#
#   scripts/demo.sh [--auto [IDNAT]] [--user NAME]
#     --auto [IDNAT]  no browser: a scripted one approves as IDNAT (default 810001234567, a médecin)
#     --user NAME     the local account asked for (claire or lucas in tests/demo/users.map)
#
# Nothing leaves the machine; the test accounts come from nss_wrapper, not from /etc/passwd.
set -euo pipefail
cd "$(dirname "$0")/.."

auto=""
user=claire
while [ $# -gt 0 ]; do
    case $1 in
    --auto)
        auto=810001234567
        if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then auto=$2; shift; fi
        ;;
    --user) user=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

./scripts/bootstrap.sh >/dev/null
[ -f build/build.ninja ] || meson setup build >/dev/null
echo "Building (first run takes a few minutes)..."
meson compile -C build tests/demo/psc-demo-login tests/mock-psc/mock-psc >/dev/null

args=(--mock build/tests/mock-psc/mock-psc --map tests/demo/users.map --user "$user")
[ -n "$auto" ] && args+=(--auto "$auto")
if [ -z "$auto" ]; then
    echo "Test professionals on the wallet page: 810001234567 (médecin, maps to claire),"
    echo "899900045871 (student nurse, maps to lucas; refused: category E)."
fi
LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD=tests/demo/passwd NSS_WRAPPER_GROUP=tests/demo/group \
    exec build/tests/demo/psc-demo-login "${args[@]}"
