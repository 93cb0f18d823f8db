#!/bin/bash
# One daemon for a whole bastion (design §9): max_pending logins held open at once on a dbus-daemon
# with the stock system-bus limits (512 match rules per connection: a rule per login once killed
# psc-authd at about 510 pending logins), the daemon alive and answering throughout, the limit
# answered Busy, and everything released when the callers go.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

MAX=1024

capacity_max_pending_held_open() {
    # Two connections of 512 logins each, held open while we look: each client reads its
    # commands from a FIFO we keep open, and quits (leaving the bus) when we close it.
    local i f
    local -a pids=() fds=()
    for f in "$STACK_DIR/c1" "$STACK_DIR/c2"; do
        mkfifo "$f"
        "$BUS_CLIENT" <"$f" >"$f.out" 2>&1 &
        pids+=($!)
        exec {fd}>"$f"
        fds+=("$fd")
        for ((i = 0; i < MAX / 2; i++)); do
            printf 'start claire login code 198.51.100.%d\n' $((i % 250))
        done >&"$fd"
    done
    local n=0
    for ((i = 0; i < 600; i++)); do
        n=$(pending_logins)
        [ "$n" = "$MAX" ] && break
        kill -0 "$AUTHD_PID" 2>/dev/null || { fail "psc-authd died at $n pending logins"; break; }
        sleep 0.1
    done
    [ "$n" = "$MAX" ] || fail "PendingLogins reached $n, not $MAX" || return 1
    kill -0 "$AUTHD_PID" 2>/dev/null || fail "psc-authd is gone" || return 1
    # Alive and answering: properties, a flow list, and a Busy refusal for one more.
    stack_busctl get-property org.psclogin.Auth1 /org/psclogin/Auth1 org.psclogin.Auth1 \
        Version >/dev/null || fail "psc-authd does not answer" || return 1
    client_start lucas login code 203.0.113.1 || return 1
    [ -z "$LOGIN_ID" ] || fail "a remote login beyond max_pending started" || return 1
    expect_error Busy too_many_logins || return 1
    # The local seat has its own budget: a console login still starts.
    client_login lucas login code || return 1
    [ -n "$LOGIN_ID" ] || fail "the local seat was refused: $REPLY" || return 1
    client_close
    for fd in "${fds[@]}"; do exec {fd}>&-; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    wait_pending 0 || return 1
    grep -c 'PSC_REASON="caller_left"' "$AUTHD_LOG" | grep -qE '^[0-9]{3,}' ||
        fail "the callers' departure did not cancel their logins"
}

stack_init
stack_config_extra <<EOF
[login]
max_pending = $MAX
max_pending_per_user = $MAX
max_pending_per_source = $MAX
EOF
stack_start
stack_wait_ready
run_cases capacity_max_pending_held_open daemon_exit_clean
