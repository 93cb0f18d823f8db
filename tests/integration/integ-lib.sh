# shellcheck shell=bash
# shellcheck disable=SC2034 # URL, DISPLAY_LINES, ... are for the scripts that source this file
# Shared by the integration scripts (sourced): the stack of tests/support/psc-stack.sh, the bus
# client (psc-bus-client) as a bash coproc, assertions, and the case runner.
#
#   client_start [--as UID | --euid UID] USER SERVICE FLOW [RHOST]
#                      starts a client and a login on its connection: sets LOGIN_ID, URL (the
#                      display's url), DISPLAY_LINES (all key=value lines); on a refused
#                      StartLogin REPLY holds the error line and LOGIN_ID is empty
#   client_login USER SERVICE FLOW [RHOST]
#                      another login on the running client's connection (same variables)
#   must_start ...     client_start that must succeed
#   client_open [--as UID | --euid UID]
#                      a client with no login (for `flows`, `own`, `use`)
#   client_cmd LINE    sends one command, reads its one-line answer into REPLY
#   client_close       quit (the connection leaves the bus); client_kill: SIGKILL
#   expect_done USER IDNAT [PROFESSION [AUTH_MODE]]   REPLY is that success
#   expect_error NAME REASON                           REPLY is org.psclogin.Auth1.Error.NAME with
#                                                      that reason token
#   expect_not_ready WHY
#                      StartLogin is refused Unavailable/provider_not_ready and the message
#                      names WHY (the reason of the last failed provider fetch)
#   wait_pending N     PendingLogins reaches N within 10 s
#   daemon_exit_clean  the last case of a stack: psc-authd exits 0 on SIGTERM, no sanitizer report
#   skip WHY           marks the case skipped (then return non-zero from it)
#   run_cases CASE...  runs each case function, prints `ok NAME` / `FAIL NAME` / `skip NAME (why)`;
#                      exits non-zero if any failed (run_some_cases: the same, without concluding)
# A case returns non-zero on the first failed check (each check explains itself on stderr).

set -u
# shellcheck source=../support/psc-stack.sh
. "$PSC_SOURCE_ROOT/tests/support/psc-stack.sh"

BUS_CLIENT=${PSC_BUS_CLIENT:-$PSC_BUILD_DIR/tests/integration/psc-bus-client}
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-60} # seconds to wait for any one answer of the client
CASE_NAME=""
CASE_SKIP=""
FAILED_CASES=()
CL_PID=""
REPLY=""
LOGIN_ID=""
URL=""
DISPLAY_LINES=""

fail() {
    echo "  [$CASE_NAME] $*" >&2
    return 1
}

# skip WHY; then return non-zero: the case is reported `skip NAME (WHY)`, not failed.
skip() {
    CASE_SKIP=$1
}

client_spawn() {
    local -a prefix=()
    case ${1:-} in
    --as)
        prefix=(setpriv --reuid="$2" --regid="$2" --clear-groups --)
        shift 2
        ;;
    --euid) # the real uid stays 0: the bus must go by the effective uid
        prefix=(setpriv --euid="$2" --egid="$2" --clear-groups --)
        shift 2
        ;;
    esac
    client_close
    coproc CLIENT { exec "${prefix[@]}" "$BUS_CLIENT" "$@" 2>>"$STACK_DIR/client.err"; }
    CL_PID=$CLIENT_PID
}

client_read() {
    REPLY=""
    [ -n "$CL_PID" ] && [ -n "${CLIENT[0]:-}" ] || { fail "no client running"; return 1; }
    if ! IFS= read -r -t "$CLIENT_TIMEOUT" REPLY <&"${CLIENT[0]}"; then
        if kill -0 "$CL_PID" 2>/dev/null; then
            fail "no answer from the client within ${CLIENT_TIMEOUT}s"
        else
            fail "the client exited: $(tail -n 2 "$STACK_DIR/client.err" 2>/dev/null)"
        fi
        return 1
    fi
}

client_open() {
    client_spawn "$@"
}

client_start() {
    local -a who=()
    case $1 in --as | --euid) who=("$1" "$2") && shift 2 ;; esac
    client_spawn "${who[@]}"
    client_login "$@"
}

# Another login on the running client's connection (the client then acts on that one).
client_login() {
    LOGIN_ID="" URL="" DISPLAY_LINES=""
    client_send "start $*" || return 1
    while client_read; do
        case $REPLY in
        ready) return 0 ;;
        error*) return 0 ;;
        login_id=*) LOGIN_ID=${REPLY#login_id=} ;;
        url=*) URL=${REPLY#url=} ;;
        esac
        DISPLAY_LINES+="$REPLY"$'\n'
    done
    return 1
}

# A login that must start: fails the case otherwise.
must_start() {
    client_start "$@" || return 1
    [ -n "$LOGIN_ID" ] || fail "StartLogin $* refused: $REPLY"
}

client_send() {
    [ -n "$CL_PID" ] && [ -n "${CLIENT[1]:-}" ] || { fail "no client running"; return 1; }
    printf '%s\n' "$1" 1>&"${CLIENT[1]}" 2>/dev/null || fail "the client is gone"
}

client_cmd() {
    client_send "$1" && client_read
}

display() {
    sed -n "s/^$1=//p" <<<"$DISPLAY_LINES"
}

client_close() {
    [ -n "$CL_PID" ] || return 0
    [ -n "${CLIENT[1]:-}" ] && printf 'quit\n' 1>&"${CLIENT[1]}" 2>/dev/null
    client_reap
}

client_kill() {
    [ -n "$CL_PID" ] || return 0
    { kill -KILL "$CL_PID" && wait "$CL_PID"; } 2>/dev/null
    client_reap
}

client_reap() {
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$CL_PID" 2>/dev/null || break
        sleep 0.1
    done
    { kill -KILL "$CL_PID" && wait "$CL_PID"; } 2>/dev/null
    CL_PID=""
    return 0
}

expect_done() {
    local want="done user=$1 idnat=$2"
    [ $# -ge 3 ] && want+=" profession=$3"
    [ $# -ge 4 ] && want+=" auth_mode=$4"
    case $REPLY in
    "$want" | "$want "*) return 0 ;;
    esac
    fail "expected '$want', got '$REPLY'"
}

# psc-authd's error text is "reason: message" (or the bare reason).
expect_error() {
    local want="error org.psclogin.Auth1.Error.$1 $2"
    case $REPLY in
    "$want" | "$want:"*) return 0 ;;
    esac
    fail "expected '$want', got '$REPLY'"
}

# expect RC TEXT: the last command run into $OUT/$RC (a test's pscctl wrapper) exited RC and
# printed a line containing TEXT.
expect() {
    [ "$RC" = "$1" ] || fail "exit $RC, expected $1; output:
$OUT" || return 1
    grep -qF -- "$2" <<<"$OUT" || fail "no \"$2\" in:
$OUT"
}

# expect_reply GLOB
expect_reply() {
    # shellcheck disable=SC2254 # $1 is a pattern on purpose
    case $REPLY in
    $1) return 0 ;;
    esac
    fail "expected '$1', got '$REPLY'"
}

expect_not_ready() {
    client_start claire login code || return 1
    [ -z "$LOGIN_ID" ] || fail "a login started without a provider" || return 1
    expect_error Unavailable provider_not_ready || return 1
    case $REPLY in *"$1"*) ;; *) fail "the message does not say $1: $REPLY" || return 1 ;; esac
}

pending_logins() {
    stack_busctl --timeout=5 get-property org.psclogin.Auth1 /org/psclogin/Auth1 \
        org.psclogin.Auth1 PendingLogins 2>/dev/null | sed -n 's/^u //p'
}

wait_pending() {
    local i n=""
    for ((i = 0; i < 100; i++)); do
        n=$(pending_logins)
        [ "$n" = "$1" ] && return 0
        sleep 0.1
    done
    fail "PendingLogins is '$n', expected $1"
}

# The audit line psc-authd wrote for the end of this login (the stderr sink's format).
audit_end_line() {
    grep -F "PSC_EVENT=\"login_end\"" "$AUTHD_LOG" | grep -F "PSC_LOGIN_ID=\"$1\"" | tail -n 1
}

# Waits (5 s) for the daemon's log to show that login ending with that result and reason.
expect_audit_end() {
    local id=$1 result=$2 reason=$3 i line=""
    for ((i = 0; i < 50; i++)); do
        line=$(audit_end_line "$id")
        case $line in
        *"PSC_RESULT=\"$result\" PSC_REASON=\"$reason\""*) return 0 ;;
        esac
        sleep 0.1
    done
    fail "no login_end $result/$reason for $id in the daemon's log (last: '$line')"
}

# Does psc-authd offer this flow to this service? 0 yes, 1 no, 2 GetFlows itself failed.
flow_offered() {
    local out
    out=$(stack_busctl --timeout=5 call org.psclogin.Auth1 /org/psclogin/Auth1 \
        org.psclogin.Auth1 GetFlows s "$1" 2>&1) || { fail "GetFlows failed: $out"; return 2; }
    grep -qw "\"$2\"" <<<"$out"
}

stack_restart_daemon() {
    stack_stop_daemon
    stack_start_daemon
    stack_wait_ready
}

# The last case of every stack: psc-authd stops cleanly on SIGTERM (status 0), and no sanitizer
# (ASan/UBSan/LSan builds) reported anything from any daemon run of this stack (its log is
# appended to across restarts), from mock-psc or from the clients.
daemon_exit_clean() {
    local rc=0 logs
    if [ -n "${AUTHD_PID:-}" ]; then
        kill -TERM "$AUTHD_PID" 2>/dev/null
        wait "$AUTHD_PID" || rc=$?
        AUTHD_PID=""
    fi
    [ $rc -eq 0 ] || fail "psc-authd exited with status $rc on SIGTERM" || return 1
    logs=$(grep -l -E 'Sanitizer|runtime error:' "$AUTHD_LOG" "$MOCK_LOG" \
        "$STACK_DIR/client.err" 2>/dev/null)
    [ -z "$logs" ] || fail "sanitizer reports in: $logs
$(grep -h -A12 -E 'Sanitizer|runtime error:' $logs | head -n 40)"
}

run_case() {
    CASE_NAME=$1
    CASE_SKIP=""
    local t0=$SECONDS rc=0
    "$1" || rc=1
    client_close
    if [ $rc -eq 0 ] && [ -n "${AUTHD_PID:-}" ] && kill -0 "$AUTHD_PID" 2>/dev/null; then
        wait_pending 0 || rc=1 # no case may leave a login behind
    fi
    if [ $rc -ne 0 ] && [ -n "$CASE_SKIP" ]; then
        echo "skip $1 ($CASE_SKIP)"
    elif [ $rc -ne 0 ]; then
        echo "FAIL $1"
        FAILED_CASES+=("$1")
        [ -n "${AUTHD_LOG:-}" ] && [ -f "$AUTHD_LOG" ] && tail -n 5 "$AUTHD_LOG" | sed 's/^/  authd: /' >&2
    else
        echo "ok $1 ($((SECONDS - t0)) s)"
    fi
    if [ -n "${MOCK_PID:-}" ]; then
        mock_control '{"reset":true}' >/dev/null 2>&1
    fi
    return 0
}

CASES_RUN=0

# Runs cases without concluding (a script that changes stacks between groups of cases).
run_some_cases() {
    local c
    for c in "$@"; do
        run_case "$c"
        CASES_RUN=$((CASES_RUN + 1))
    done
}

run_cases() {
    run_some_cases "$@"
    if [ ${#FAILED_CASES[@]} -gt 0 ]; then
        echo "${#FAILED_CASES[@]} of $CASES_RUN failed: ${FAILED_CASES[*]}"
        exit 1
    fi
    echo "all $CASES_RUN cases passed (or skipped as reported)"
}
