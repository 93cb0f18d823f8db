#!/bin/bash
# SSH end to end: the real OpenSSH client, on a pty, logs in to a real sshd on
# loopback whose PAM stack is examples/pam.d/sshd with pam_psc.so from the build, against the real
# psc-authd on a private bus and mock-psc. One case per run:
#
#   harness        pam_wrapper's pam_matrix (a password) instead of pam_psc: the harness works
#   ciba           [service:sshd] flows = ciba; the mock approves; Enter → the session prints claire
#   paste_back     flows = code; the test approves at the mock wallet as the médecin and pastes the
#                  address it was sent back to → claire
#   wrong_user     flows = code; the médecin (mapped to claire) approves a login asked for lucas →
#                  ssh fails; the daemon's log says mapping_other_user
#   timeout        [login] timeout = 10, CIBA never approved; Enter after the deadline → ssh fails
#                  within timeout + margin, the daemon logs the timeout, PendingLogins is back to 0
#   login_grace    the user never answers the prompt: sshd's LoginGraceTime (8 s, under the 60 s
#                  login timeout) ends the connection and kills its PAM child; the daemon sees the
#                  caller leave the bus and cancels the login (caller_left); PendingLogins is 0;
#                  Enter then ends ssh with 255
#   daemon_absent  psc-authd stopped: pam_psc shows "unavailable (daemon_unreachable)" and returns
#                  PAM_AUTHINFO_UNAVAIL; the example stack's break-glass pam_unix line then asks for
#                  a password, which cannot match (the test users' passwords are locked) → refused
#
# Exit 77 (skipped) only when not root or sshd is missing; anything else missing is a failure.
# shellcheck source-path=SCRIPTDIR
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CASE=${1:?usage: test_ssh.sh CASE}

skip() {
    echo "SKIP: $*"
    exit 77
}
fail() {
    echo "FAIL ($CASE): $*" >&2
    for f in "${SSH_DIR:-/nonexistent}/$DRIVE_NAME.out" "${SSH_DIR:-/nonexistent}/$DRIVE_NAME.err" \
        "${SSHD_LOG:-}" "${AUTHD_LOG:-}"; do
        [ -n "$f" ] && [ -s "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" | tr -d '\r' >&2; }
    done
    exit 1
}
# The user's view (the terminal) goes to the test log: what OpenSSH showed is the point.
pass() {
    if [ "$DRIVE_NAME" != none ] && [ -f "$SSH_DIR/$DRIVE_NAME.out" ]; then
        echo "--- what the ssh user saw ($DRIVE_NAME)"
        ssh_output "$DRIVE_NAME"
        echo "---"
    fi
    echo "PASS ($CASE): $*"
}

[ "$(id -u)" -eq 0 ] || skip "sshd's privilege separation needs root (CI runs as root)"
[ -x "${SSHD:-/usr/sbin/sshd}" ] || skip "${SSHD:-/usr/sbin/sshd} is missing (apt-get install openssh-server)"
[ -x "${PTY_DRIVE:-}" ] || fail "PTY_DRIVE is not set to the pty-drive binary"
command -v "${SSH:-ssh}" >/dev/null || fail "no ssh client (apt-get install openssh-client)"

# One set of accounts for sshd, the session and psc-authd: the test users plus sshd's privsep user.
# The test users' password field is "!" (locked, not shadowed): pam_unix's account check then
# needs no shadow entry (nss_wrapper does not wrap getspnam_r), and its break-glass auth line can
# accept no password at all.
export NSS_WRAPPER_PASSWD=$HERE/passwd NSS_WRAPPER_GROUP=$HERE/group
# A UTF-8 client, as users have (in the C locale OpenSSH prints "Santé" as "Sant\303\251"). pam_psc
# itself never sees it: sshd empties the PAM child's environment, so it shows both languages.
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset LC_MESSAGES
DRIVE_NAME=none

# shellcheck source=../support/psc-stack.sh
. "$HERE/../support/psc-stack.sh"
# shellcheck source=sshd-harness.sh
. "$HERE/sshd-harness.sh"

cleanup() {
    sshd_stop
    stack_stop
}

stack_and_sshd_init() {
    stack_init
    trap cleanup EXIT
    sshd_init
}

# examples/pam.d/sshd with the module path rewritten to the build's pam_psc.so.
pam_psc_service() {
    if [ -z "${PAM_PSC:-}" ] || [ ! -f "$PAM_PSC" ]; then fail "PAM_PSC is not set to pam_psc.so"; fi
    local example=$PSC_SOURCE_ROOT/examples/pam.d/sshd
    [ -f "$example" ] || fail "$example is missing"
    sed -E "s#(^|[[:space:]])([^[:space:]]*/)?pam_psc\.so#\1$PAM_PSC#" "$example" | sshd_pam_service
    grep -q "$PAM_PSC" "$SSH_DIR/pam.d/sshd" || fail "no pam_psc.so line in $example"
}

pending_logins() {
    stack_busctl get-property org.psclogin.Auth1 /org/psclogin/Auth1 org.psclogin.Auth1 \
        PendingLogins | awk '{print $2}'
}

wait_file() { # PATH SECONDS
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

# grep ARGS on what the ssh user saw in the last drive (no pipe: with pipefail, grep -q quitting
# early could fail the pipeline).
screen_has() {
    ssh_output "$DRIVE_NAME" >"$SSH_DIR/screen.txt"
    grep -q "$@" "$SSH_DIR/screen.txt"
}

expect_user_line() { # USER: the session printed exactly this user name on a line of its own
    screen_has -x "$1" || fail "the session did not print \"$1\""
}

# psc-authd's audit line (daemon/audit.hpp) for the end of claire's login.
ended_claire='PSC_EVENT="login_end" PAM_USER="claire"'

# The prompt pam_psc ends with over SSH (design §6): OpenSSH shows info text only with a prompt.
PROMPT_PASTE='paste the address: $'
PROMPT_ENTER='once approved: $'
PROMPT_CLOSE='Press Enter to close: $'

case_harness() {
    sshd_init
    trap sshd_stop EXIT
    printf 'claire:s3cret-pw:sshd\n' >"$SSH_DIR/passdb"
    sshd_pam_service <<EOF
auth     required /usr/lib/x86_64-linux-gnu/pam_wrapper/pam_matrix.so passdb=$SSH_DIR/passdb
account  required pam_permit.so
session  required pam_permit.so
EOF
    sshd_start
    ssh_drive good claire <<'EOF'
expect \(claire@127\.0\.0\.1\) Password: $
send s3cret-pw
eof
EOF
    ssh_wait || fail "the right password did not log in (exit $?)"
    expect_user_line claire
    ssh_drive bad claire <<'EOF'
expect Password: $
send wrong
eof
EOF
    local rc=0
    ssh_wait || rc=$?
    [ $rc -eq 255 ] || fail "a wrong password gave exit $rc, not ssh's 255"
    screen_has 'Permission denied' || fail "no \"Permission denied\""
    pass "sshd + pam_wrapper + pty-drive: right password in, wrong one out"
}

# Starts the whole stack with a drop-in, then sshd with the example PAM stack.
start_all() { # DROP-IN-TEXT [mock-psc args]
    local dropin=$1
    shift
    stack_and_sshd_init
    printf '%s\n' "$dropin" | stack_config_extra
    stack_start "$@"
    # GetFlows answers before the provider is loaded; a first login must not meet
    # provider_not_ready.
    stack_wait_ready
    pam_psc_service
    sshd_start
}

case_ciba() {
    start_all $'[service:sshd]\nflows = ciba' --ciba-interval 1
    mock_control '{"ciba":{"outcome":"approve","approve_after":1}}' >/dev/null ||
        fail "mock_control failed"
    ssh_drive ciba claire <<EOF
capture $SSH_DIR/binding phone[^0-9]*([0-9]{2})
expect $PROMPT_ENTER
wait-file $SSH_DIR/approved
send
eof
EOF
    wait_file "$SSH_DIR/binding" 30 || fail "no binding code before the prompt"
    # Enter once the phone said yes and the daemon's poll has fetched the tokens (pam_psc gives
    # the daemon a few seconds after Enter to finish the login).
    local i
    for ((i = 0; i < 200; i++)); do
        mock_control '{"polls":"last"}' | grep -q '"answer":"approved"' && break
        sleep 0.1
    done
    [ $i -lt 200 ] || fail "the daemon never got the CIBA tokens"
    : >"$SSH_DIR/approved"
    ssh_wait || fail "CIBA login failed (exit $?)"
    expect_user_line claire
    [ "$(pending_logins)" = 0 ] || fail "PendingLogins is not 0 after the login"
    pass "CIBA: binding code $(cat "$SSH_DIR/binding"), Enter, session as claire"
}

# Paste-back as IDNAT for USER; sets DRIVE status in RC.
paste_back_as() { # NAME USER IDNAT [SCRIPT LINES AFTER THE PASTE]
    local name=$1 user=$2 idnat=$3 after=${4:-}
    ssh_drive "$name" "$user" <<EOF
capture $SSH_DIR/$name.url (https://127\.0\.0\.1:[0-9]+/[^[:space:]]*)
expect $PROMPT_PASTE
send-file $SSH_DIR/$name.answer
$after
eof
EOF
    wait_file "$SSH_DIR/$name.url" 30 || fail "no authorization URL before the prompt"
    local back
    back=$(browser_approve "$(cat "$SSH_DIR/$name.url")" "$idnat") || fail "browser_approve failed"
    [ -n "$back" ] || fail "the mock wallet did not redirect"
    printf '%s\n' "$back" >"$SSH_DIR/$name.answer.tmp"
    mv "$SSH_DIR/$name.answer.tmp" "$SSH_DIR/$name.answer"
    PASTED_LEN=${#back}
    RC=0
    ssh_wait || RC=$?
}

case_paste_back() {
    start_all $'[service:sshd]\nflows = code'
    paste_back_as paste claire "$STACK_MEDECIN"
    [ $RC -eq 0 ] || fail "paste-back login failed (exit $RC)"
    expect_user_line claire
    [ "$(pending_logins)" = 0 ] || fail "PendingLogins is not 0 after the login"
    pass "paste-back: URL shown, ${PASTED_LEN}-byte address pasted, session as claire"
}

case_wrong_user() {
    start_all $'[service:sshd]\nflows = code'
    # The refusal's reason is shown with a last prompt (OpenSSH shows messages only with one).
    paste_back_as wrong lucas "$STACK_MEDECIN" "expect Access denied \\(mapping_other_user\\)
expect $PROMPT_CLOSE
send"
    [ $RC -eq 255 ] || fail "lucas logged in with claire's identity (exit $RC)"
    screen_has -x lucas && fail "a session ran as lucas"
    grep -q 'PSC_EVENT="login_end" PAM_USER="lucas".*PSC_REASON="mapping_other_user"' "$AUTHD_LOG" ||
        fail "the daemon log does not say mapping_other_user for lucas"
    [ "$(pending_logins)" = 0 ] || fail "PendingLogins is not 0 after the refusal"
    pass "the médecin cannot log in as lucas (mapping_other_user)"
}

case_timeout() {
    local limit=10 margin=10 # psc-authd's minimum login timeout is 10 s
    start_all $'[login]\ntimeout = '"$limit"$'\n[service:sshd]\nflows = ciba' --ciba-interval 1
    mock_control '{"ciba":{"outcome":"never"}}' >/dev/null || fail "mock_control failed"
    local t0=$SECONDS
    ssh_drive late claire <<EOF
expect $PROMPT_ENTER
wait-file $SSH_DIR/late
send
expect Sign-in timed out
expect $PROMPT_CLOSE
send
eof
EOF
    # The user comes back after the deadline and presses Enter.
    sleep $((limit + 1))
    : >"$SSH_DIR/late"
    RC=0
    ssh_wait || RC=$?
    local took=$((SECONDS - t0))
    [ $RC -eq 255 ] || fail "ssh did not fail after the timeout (exit $RC)"
    [ $took -le $((limit + margin)) ] || fail "ssh took $took s (limit $limit s + $margin s)"
    screen_has -x claire && fail "a session ran after the timeout"
    grep -q "$ended_claire"'.*PSC_RESULT="timeout"' "$AUTHD_LOG" ||
        fail "the daemon did not log claire's login as timed out"
    [ "$(pending_logins)" = 0 ] || fail "PendingLogins is not 0 after the timeout"
    pass "no approval: ssh refused after $took s, daemon login timed out, nothing pending"
}

case_login_grace() {
    local grace=8 margin=10
    # The daemon would wait a minute; sshd gives up first (LoginGraceTime below the login timeout).
    SSHD_LOGIN_GRACE=$grace
    start_all $'[login]\ntimeout = 60\n[service:sshd]\nflows = ciba' --ciba-interval 1
    mock_control '{"ciba":{"outcome":"never"}}' >/dev/null || fail "mock_control failed"
    local t0=$SECONDS
    ssh_drive gone claire <<EOF
expect $PROMPT_ENTER
timeout 60
wait-file $SSH_DIR/back
send
eof
EOF
    # sshd's grace alarm kills its PAM child; the daemon sees the caller leave the bus.
    local i
    for ((i = 0; i < (grace + margin) * 10; i++)); do
        grep -q "$ended_claire"'.*PSC_RESULT="cancelled"' "$AUTHD_LOG" && break
        sleep 0.1
    done
    local took=$((SECONDS - t0))
    grep -q "$ended_claire"'.*PSC_RESULT="cancelled" PSC_REASON="caller_left"' "$AUTHD_LOG" ||
        fail "the daemon did not cancel the login when sshd gave up"
    [ "$(pending_logins)" = 0 ] || fail "PendingLogins is not 0 after sshd gave up"
    # OpenSSH's client reads the prompt's answer from the terminal and does not watch the
    # connection meanwhile: it learns that sshd hung up only when the user presses Enter.
    : >"$SSH_DIR/back"
    RC=0
    ssh_wait || RC=$?
    [ $RC -eq 255 ] || fail "ssh did not fail after LoginGraceTime (exit $RC)"
    screen_has -x claire && fail "a session ran after LoginGraceTime"
    pass "no answer: sshd gave up at LoginGraceTime, the daemon cancelled the login after $took s"
}

case_daemon_absent() {
    start_all $'[service:sshd]\nflows = ciba'
    stack_stop_daemon
    # examples/pam.d/sshd: pam_psc answers PAM_AUTHINFO_UNAVAIL (authinfo_unavail=ignore), so the
    # break-glass pam_unix line asks for a password; the test users' passwords are locked ("!").
    ssh_drive absent claire <<'EOF'
expect unavailable \(daemon_unreachable\)
expect Password: $
send not-the-password
eof
EOF
    RC=0
    ssh_wait || RC=$?
    [ $RC -eq 255 ] || fail "ssh did not fail without the daemon (exit $RC)"
    screen_has 'once approved' && fail "pam_psc prompted without a daemon"
    screen_has -x claire && fail "a session ran without the daemon"
    grep -q 'Failed keyboard-interactive/pam for claire' "$SSHD_LOG" ||
        fail "sshd did not log the failed break-glass attempt"
    pass "daemon absent: pam_psc says unavailable, the break-glass password prompt follows, refused"
}

case "$CASE" in
harness | ciba | paste_back | wrong_user | timeout | login_grace | daemon_absent) "case_$CASE" ;;
*) fail "unknown case $CASE" ;;
esac
