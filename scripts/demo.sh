#!/bin/bash
# The README's first command: a whole Pro Santé Connect login through PAM, against the embedded
# mock PSC. Builds what is needed (installing Debian packages first when run as root), then starts
# mock-psc on loopback, a private D-Bus system bus with psc-login's policy, and psc-authd, and runs
# `pamtester login USER authenticate acct_mgmt` with pam_psc.so in the example `login` stack
# (examples/pam.d/login). Open the printed address in a browser on this machine and log in on the
# mock wallet page as one of its test professionals; the PAM result ends the demo.
#
#   scripts/demo.sh [--auto [IDNAT]] [--user NAME] [--flow code|ciba] [--build-dir DIR]
#     --auto [IDNAT]  no browser: a scripted one approves as IDNAT (default 810001234567, a médecin);
#                     with --flow ciba, mock-psc approves the push on the "phone" after 2 s
#     --user NAME     the local account asked for (claire or lucas, see tests/demo/users.map)
#     --flow FLOW     code (default: browser) or ciba (push to the e-CPS app, no browser)
#     --build-dir DIR use (and build in) DIR instead of build/; tests pass their own
#
# Nothing leaves the machine and nothing is installed outside the build directory: the accounts
# come from nss_wrapper (tests/data/nss/passwd), the PAM service file from pam_wrapper, the bus is
# private, and everything is stopped and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

auto=""
user=claire
flow=code
build=build
while [ $# -gt 0 ]; do
    case $1 in
    --auto)
        auto=810001234567
        if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then auto=$2; shift; fi
        ;;
    --user) user=${2:?--user needs a name}; shift ;;
    --flow) flow=${2:?--flow needs code or ciba}; shift ;;
    --build-dir) build=${2:?--build-dir needs a directory}; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $flow in code|ciba) ;; *) echo "demo.sh: --flow must be code or ciba" >&2; exit 2 ;; esac
if [ "$(id -u)" != 0 ]; then
    echo "demo.sh: run as root: psc-authd, like in production, only trusts root-owned configuration" >&2
    exit 2
fi

if [ -z "${PSC_DEMO_NO_BUILD:-}" ]; then
    ./scripts/bootstrap.sh >/dev/null
    [ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
    echo "Building (the first run takes a few minutes)..."
    meson compile -C "$build" daemon/psc-authd pam/pam_psc tests/mock-psc/mock-psc >/dev/null
fi

PSC_BUILD_DIR=$(cd "$build" && pwd)
# shellcheck source=../tests/support/psc-stack.sh
. tests/support/psc-stack.sh

stack_init
# tests/demo/users.map without its comments: idNat → local account.
mapfile -t map_lines < <(grep -v '^#' tests/demo/users.map)
stack_map "${map_lines[@]}"
stack_config_extra <<EOF
[mapping]
# Students (category E) may not log in to this workstation.
deny_categories = E

[service:login]
flows = $flow
EOF
echo "Starting mock-psc, a private system bus and psc-authd..."
stack_start
stack_wait_ready

# The example console stack, with pam_psc.so from the build. The break-glass pam_unix line would
# read this machine's /etc/shadow: the demo has no local passwords, so it becomes pam_deny.
pamdir=$STACK_DIR/pam.d
mkdir -p "$pamdir"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$pamdir/other"
sed -E -e "s#(^|[[:space:]])pam_psc\.so#\1$PSC_BUILD_DIR/pam/pam_psc.so#" \
    -e "s#^(auth[[:space:]]+required[[:space:]]+)pam_unix\.so.*#\1pam_deny.so#" \
    -e "/^(account|session|password)[[:space:]].*pam_(unix|loginuid|keyinit|limits|systemd)\.so/d" \
    examples/pam.d/login >"$pamdir/login"

if [ -z "$auto" ]; then
    echo
    echo "Test professionals on the mock wallet page: 810001234567 (médecin, may log in as claire),"
    echo "899900045871 (student nurse, maps to lucas; refused: category E)."
    echo "The mock's certificate comes from a throw-away CA: accept the browser's warning."
    [ "$flow" = ciba ] && echo "CIBA has no browser: the mock approves after its scripted delay."
    echo
fi
if [ "$flow" = ciba ]; then
    # The "phone": mock-psc approves the next push after 2 s, as the chosen professional.
    mock_control "{\"ciba\":{\"outcome\":\"approve\",\"approve_after\":2}}" >/dev/null
fi

# The scripted browser (--auto, code flow) watches what the user sees for the address to open.
watch_output() {
    local line opened=""
    while IFS= read -r line; do
        printf '%s\n' "$line"
        if [ -n "$auto" ] && [ "$flow" = code ] && [ -z "$opened" ]; then
            local url
            url=$(grep -oE 'https://127\.0\.0\.1:[0-9]+/wallet/auth[^ ]*' <<<"$line" | head -n 1) || true
            if [ -n "$url" ]; then
                opened=1
                echo "[demo] scripted browser: approving as $auto"
                browser_login "$url" "$auto" >/dev/null || echo "[demo] the scripted browser failed"
            fi
        fi
    done
}

set +e
# pam_wrapper is preloaded into pamtester only: a wrapper loaded into stdbuf too would leave its
# copy of the service directory in /tmp when stdbuf execs.
PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$pamdir stdbuf -oL bash -c \
    'LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }libpam_wrapper.so" exec pamtester -v login "$1" authenticate acct_mgmt' \
    demo "$user" </dev/null 2>&1 | watch_output
rc=${PIPESTATUS[0]}
set -e

echo
if [ "$rc" = 0 ]; then
    echo "Result: $user is logged in with Pro Santé Connect."
else
    echo "Result: login refused (exit $rc; psc-authd said why above)."
fi
exit "$rc"
