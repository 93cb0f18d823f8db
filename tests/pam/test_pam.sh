#!/bin/bash
# pam_psc through the real libpam (pam-drive: pam_start_confdir, scripted conversation) against the
# real psc-authd on a private bus and mock-psc. The PAM services are the example stacks from
# examples/pam.d with only module paths rewritten: pam_psc.so → the build's module, and pam_unix.so
# (the break-glass line) → pam_wrapper's pam_matrix with a test password file, because pam_unix
# reads the real /etc/shadow, which a hermetic test must not use. A few cases that test module
# arguments (qr=, unknown arguments, env) use a small stack of their own, said so below.
# One case per run; each asserts the PAM code and what the user saw or what a log says.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CASE=${1:?usage: test_pam.sh CASE}

fail() {
    echo "FAIL ($CASE): $*" >&2
    for f in "${T:-/nonexistent}"/*.out "${T:-/nonexistent}"/*.err "${AUTHD_LOG:-}"; do
        [ -n "$f" ] && [ -s "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
    done
    exit 1
}
pass() { echo "PASS ($CASE): $*"; }

for v in PAM_PSC PAM_DRIVE PAM_MATRIX PSC_AUTHD MOCK_PSC; do
    [ -e "${!v:-}" ] || fail "$v is not set to an existing file"
done

# Both languages (no fr/en locale): the English half is what the assertions read.
export LANG=C LC_ALL=C
unset LC_MESSAGES LC_CTYPE

# shellcheck source=../support/psc-stack.sh
. "$HERE/../support/psc-stack.sh"

stack_init
T=$STACK_DIR/pam
CONF=$T/pam.d
PASSDB=$T/passdb
BREAK_GLASS_PW=break-glass-pw
mkdir -p "$CONF"
chmod -R 0755 "$T"
# libpam falls back to "other" for a missing service: deny.
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$CONF/other"
chmod 0644 "$CONF/other"

# --- helpers ---

# examples/pam.d/EXAMPLE as service EXAMPLE (or NAME), module paths rewritten.
example_service() { # EXAMPLE [NAME]
    local src=$PSC_SOURCE_ROOT/examples/pam.d/$1 dst=$CONF/${2:-$1}
    [ -f "$src" ] || fail "$src is missing"
    sed -E -e "s#(^|[[:space:]])pam_psc\.so#\1$PAM_PSC#" \
        -e "s#(^|[[:space:]])pam_unix\.so#\1$PAM_MATRIX passdb=$PASSDB#" "$src" >"$dst"
    grep -q "$PAM_PSC" "$dst" || fail "no pam_psc.so line in $src"
    chmod 0644 "$dst"
    # The local accounts pam_unix (pam_matrix) knows, with their break-glass password.
    local u
    for u in claire lucas sophie yann root; do
        break_glass_password "$u" "$BREAK_GLASS_PW" "${2:-$1}"
    done
}

# A service of the test's own (module-argument cases), from stdin; PAM_PSC replaces @PSC@.
own_service() { # NAME
    sed "s#@PSC@#$PAM_PSC#g" >"$CONF/$1"
    chmod 0644 "$CONF/$1"
}

# pam_matrix's password file: user:password:service.
break_glass_password() { # USER PASSWORD SERVICE
    printf '%s:%s:%s\n' "$1" "$2" "$3" >>"$PASSDB"
    chmod 0644 "$PASSDB"
}

start_stack() { # DROP-IN [mock-psc args...]
    local dropin=$1
    shift
    printf '%s\n' "$dropin" | stack_config_extra
    stack_start "$@"
    # Logins before the provider is loaded fail Unavailable (break-glass): never race it.
    stack_wait_ready
}

# Runs pam-drive in the background, answers come from a FIFO on fd $DRIVE_FD.
# Output: $T/NAME.out (conversation, results), $T/NAME.err (SYSLOG lines).
drive() { # NAME SERVICE USER [pam-drive args...]
    local name=$1 service=$2 user=$3
    shift 3
    OUT=$T/$name.out ERR=$T/$name.err
    mkfifo "$T/$name.in"
    chmod 0666 "$T/$name.in"
    ${DRIVE_AS:-} "$PAM_DRIVE" --confdir "$CONF" --service "$service" --user "$user" "$@" \
        <"$T/$name.in" >"$OUT" 2>"$ERR" &
    DRIVE_PID=$!
    exec {DRIVE_FD}>"$T/$name.in"
}

# An answer to a pam-drive that has already finished is dropped (no SIGPIPE for the script).
trap '' PIPE
answer() { [ -n "${DRIVE_FD:-}" ] && printf '%s\n' "$1" >&"$DRIVE_FD" 2>/dev/null; }
close_input() {
    [ -n "${DRIVE_FD:-}" ] && exec {DRIVE_FD}>&-
    DRIVE_FD=""
}

drive_wait() { # sets RC; never hangs longer than 90 s
    close_input
    local i
    for ((i = 0; i < 900; i++)); do
        kill -0 "$DRIVE_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$DRIVE_PID" 2>/dev/null && { kill "$DRIVE_PID"; fail "pam-drive hung"; }
    RC=0
    wait "$DRIVE_PID" || RC=$?
    # 0: every operation succeeded, 1: one failed; anything else (a sanitizer's report, a crash)
    # fails the test even when the PAM codes were right.
    grep -q 'Sanitizer' "$ERR" && fail "pam-drive reported a sanitizer error"
    [ "$RC" -le 1 ] || fail "pam-drive exited with $RC"
}

wait_out() { # ERE [SECONDS]: until $OUT has a matching line
    local i
    for ((i = 0; i < ${2:-30} * 10; i++)); do
        grep -qE "$1" "$OUT" && return 0
        kill -0 "$DRIVE_PID" 2>/dev/null || break
        sleep 0.1
    done
    grep -qE "$1" "$OUT" || fail "pam-drive never printed /$1/"
}

expect_out() { grep -qE "$1" "$OUT" || fail "${2:-output lacks /$1/}"; }
refute_out() { grep -qE "$1" "$OUT" && fail "${2:-output has /$1/}"; return 0; }
expect_syslog() { grep -qE "$1" "$ERR" || fail "${2:-the module did not log /$1/}"; }
expect_result() { expect_out "^RESULT $1 $2\$" "$1 did not return $2"; }

auth_url() { grep -oE 'https://127\.0\.0\.1:[0-9]+/wallet/auth[^ ]*' "$OUT" | head -n 1; }

pending_logins() {
    stack_busctl get-property org.psclogin.Auth1 /org/psclogin/Auth1 org.psclogin.Auth1 \
        PendingLogins | awk '{print $2}'
}
expect_nothing_pending() {
    local i
    for ((i = 0; i < 20; i++)); do
        [ "$(pending_logins)" = 0 ] && return 0
        sleep 0.1
    done
    fail "PendingLogins is $(pending_logins), not 0"
}

PROMPT_PASTE='^PROMPT: .*paste the address: $'
PROMPT_ENTER='^PROMPT: .*once approved: $'
SSH_RHOST=192.0.2.10
# The QR code's characters, as bytes (the C locale would not expand \u escapes).
FULL_BLOCK=$'\xe2\x96\x88' UPPER_HALF=$'\xe2\x96\x80' LOWER_HALF=$'\xe2\x96\x84'

# Paste-back over "SSH" (sshd stack, PAM_RHOST set) as IDNAT for USER; pam-drive's extra args.
paste_back() { # NAME USER IDNAT [pam-drive args...]
    local name=$1 user=$2 idnat=$3
    shift 3
    drive "$name" sshd "$user" --rhost "$SSH_RHOST" "$@"
    wait_out "$PROMPT_PASTE"
    local url back
    url=$(auth_url)
    [ -n "$url" ] || fail "no authorization URL before the prompt"
    back=$(browser_approve "$url" "$idnat") || fail "browser_approve failed"
    [ -n "$back" ] || fail "the mock wallet did not redirect"
    answer "$back"
    drive_wait
}

ciba_approve() { # the next CIBA request is approved after 1 s
    mock_control '{"ciba":{"outcome":"approve","approve_after":1}}' >/dev/null ||
        fail "mock_control failed"
}

# --- cases ---

case_code_paste_back() {
    example_service sshd
    start_stack $'[service:sshd]\nflows = code'
    paste_back paste claire "$STACK_MEDECIN" --ops auth,account
    expect_result auth PAM_SUCCESS
    expect_result account PAM_SUCCESS
    refute_out "$FULL_BLOCK" "a QR code was drawn over SSH (qr=auto)"
    expect_syslog 'authenticated claire \(idNat 810001234567, code'
    expect_nothing_pending
    pass "sshd stack: URL, paste-back prompt, address pasted → PAM_SUCCESS, account PAM_SUCCESS"
}

case_code_listener() {
    example_service login
    start_stack $'[service:login]\nflows = code'
    drive listener login claire --tty tty1 --ops auth,account
    wait_out '^https://127\.0\.0\.1:[0-9]+/wallet/auth'
    local url code
    url=$(auth_url)
    code=$(browser_login "$url" "$STACK_MEDECIN") || fail "browser_login failed"
    [ "$code" = 200 ] || fail "the daemon's listener answered $code"
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_result account PAM_SUCCESS
    expect_out 'Or scan this QR code:' "no QR code on a local terminal (qr=auto)"
    refute_out '^PROMPT' "pam_psc prompted on a local terminal (prompt=auto)"
    grep -q 'You can close this window' "$STACK_DIR/callback-page.html" ||
        fail "the listener's page is not the success page"
    pass "login stack: URL + QR, the browser reaches the listener → PAM_SUCCESS"
}

case_ciba() {
    example_service sudo
    start_stack $'[service:sudo]\nflows = ciba' --ciba-interval 1
    ciba_approve
    drive ciba sudo claire --ops auth,account
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_result account PAM_SUCCESS
    expect_out '^INFO: .*phone: >> [0-9]{2} <<$' "the binding code was not shown"
    expect_syslog 'authenticated claire .*ciba'
    expect_nothing_pending
    pass "sudo stack, CIBA: binding code $(grep -oE '>> [0-9]{2} <<' "$OUT" | head -n 1) → PAM_SUCCESS"
}

# Device grant (RFC 8628, a generic provider; PSC does not offer it): the console shows the address
# and the code to type; the user approves on the provider's device page.
case_device() {
    example_service login
    start_stack $'[provider]\nprofile = generic\nscopes = openid scope_all\nacr_values = eidas1
[mapping]\nidentity_claim = preferred_username\n[service:login]\nflows = device' --device-grant
    drive device login claire --ops auth,account
    wait_out 'Code to enter: '
    local url code out
    url=$(grep -oE 'https://127\.0\.0\.1:[0-9]+/wallet/device[^ ]*' "$OUT" | head -n 1)
    code=$(sed -nE 's/.*Code to enter: ([^ ]+).*/\1/p' "$OUT" | head -n 1)
    [ -n "$url" ] && [ -n "$code" ] || fail "no verification address or user code shown"
    out=$(curl -sS --cacert "$MOCK_CA_FILE" --data-urlencode "user_code=$code" \
        --data-urlencode "idnat=$STACK_MEDECIN" --data-urlencode "auth_mode=MOBILE" \
        --data-urlencode "action=approve" "$url") || fail "the device page did not answer"
    grep -qF "Done" <<<"$out" || fail "the device page did not accept the code: $out"
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_result account PAM_SUCCESS
    expect_syslog 'authenticated claire .*device'
    expect_nothing_pending
    pass "login stack, device grant: address and code $code shown → PAM_SUCCESS"
}

case_ciba_prompt() {
    example_service polkit-1
    start_stack $'[service:polkit-1]\nflows = ciba' --ciba-interval 1
    mock_control '{"ciba":{"outcome":"approve","approve_after":6}}' >/dev/null ||
        fail "mock_control failed"
    drive ciba-prompt polkit-1 claire --ops auth
    # prompt=always: Enter at once (not approved yet: remaining time, prompt again), then Enter.
    local i answered=0
    for ((i = 0; i < 300; i++)); do
        grep -q '^RESULT' "$OUT" && break
        if [ "$(grep -cE "$PROMPT_ENTER" "$OUT")" -gt "$answered" ]; then
            answer ""
            answered=$((answered + 1))
        fi
        sleep 0.1
    done
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_out '^INFO: .*Waiting for approval \(' "no remaining-time line after an early Enter"
    [ "$(grep -cE "$PROMPT_ENTER" "$OUT")" -ge 2 ] || fail "no second prompt after an early Enter"
    pass "polkit-1 stack, CIBA with prompt=always: early Enter re-prompts, then PAM_SUCCESS"
}

case_daemon_absent_break_glass() {
    example_service sshd
    start_stack $'[service:sshd]\nflows = code'
    stack_stop_daemon
    drive absent sshd claire --rhost "$SSH_RHOST" --ops auth,account
    wait_out '^PROMPT_OFF: '
    answer "$BREAK_GLASS_PW"
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_result account PAM_SUCCESS
    expect_out '^ERROR: .*Pro Santé Connect unavailable \(daemon_unreachable\)' \
        "the user was not told the service is unavailable"
    refute_out "$PROMPT_ENTER|$PROMPT_PASTE" "pam_psc prompted without a daemon"
    expect_syslog 'daemon_unreachable'
    # The same line refuses a wrong password: it is pam_matrix (pam_unix) that decided.
    drive absent-wrong sshd claire --rhost "$SSH_RHOST"
    wait_out '^PROMPT_OFF: '
    answer 'wrong'
    drive_wait
    expect_result auth PAM_AUTH_ERR
    pass "daemon absent: PAM_AUTHINFO_UNAVAIL → break-glass password line decides"
}

case_denied_no_break_glass() {
    example_service sshd
    start_stack $'[service:sshd]\nflows = code\n[mapping]\ndeny_categories = E'
    paste_back denied lucas "$STACK_STUDENT" --ops auth,account
    expect_result auth PAM_PERM_DENIED
    expect_out '^ERROR: .*Access denied \(category_denied\)' "the denial was not shown"
    refute_out '^PROMPT_OFF' "the break-glass line was reached after a denial"
    refute_out '^RESULT account' "the stack went on after a denial"
    grep -q 'category_denied' "$AUTHD_LOG" || fail "the daemon did not log category_denied"
    pass "student (category E) as lucas → PAM_PERM_DENIED, break-glass not reached"
}

# Accounts psc-login does not manage — an unmapped local user (yann), root, sophie once her map
# line is gone — go straight to the password line: no address, no QR code, no prompt of pam_psc,
# nothing started in the daemon, nothing sent to the provider.
case_unmanaged_passes_to_password() {
    stack_map "$STACK_MEDECIN claire" "$STACK_STUDENT lucas"
    start_stack $'[service:gdm-password]\nflows = code ciba'
    local before who last=""
    before=$(mock_requests ciba)
    for who in "gdm-password sophie" "gdm-password yann" "gdm-password root" "sshd root" "sshd yann"; do
        local service=${who% *} user=${who#* }
        # pam_matrix reads the first line of a user: one service's passwords at a time.
        if [ "$service" != "$last" ]; then
            : >"$PASSDB"
            example_service "$service"
            last=$service
        fi
        drive "unmanaged-$service-$user" "$service" "$user" --rhost "$SSH_RHOST" --ops auth,account
        wait_out '^PROMPT_OFF: '
        answer "$BREAK_GLASS_PW"
        drive_wait
        expect_result auth PAM_SUCCESS
        expect_result account PAM_SUCCESS
        refute_out '^INFO|^ERROR|^PROMPT: ' "pam_psc spoke to $user ($service), whom it does not manage"
        [ "$(grep -c '^PROMPT' "$OUT")" = 1 ] || fail "more than the password prompt for $user"
        expect_syslog 'not a psc-login account, passed on'
    done
    expect_nothing_pending
    [ "$(mock_requests ciba)" = "$before" ] || fail "the provider heard of an unmanaged account"
    grep -q 'PSC_REASON="user_unmapped"' "$AUTHD_LOG" && fail "GetUserFlows should not log a login"
    pass "unmapped users and root reach the password line at once (gdm-password, sshd)"
}

# The authorization response comes through the browser or the paste: whatever it says — even the
# provider's own "server_error" or "temporarily_unavailable" — it is the user's input, so it ends
# the login as a refusal and never opens the break-glass line.
# forged_response URL PARAMS: the redirect_uri of URL with its state and iss, plus PARAMS.
forged_response() {
    local url=$1 params=$2 redirect state iss
    redirect=$(sed -nE 's/.*[?&]redirect_uri=([^&]*).*/\1/p' <<<"$url" | sed 's/%3A/:/g; s/%2F/\//g')
    state=$(sed -nE 's/.*[?&]state=([^&]*).*/\1/p' <<<"$url")
    iss=$(printf '%s' "$MOCK_ISSUER" | sed 's/:/%3A/g; s/\//%2F/g')
    printf '%s?%s&state=%s&iss=%s\n' "$redirect" "$params" "$state" "$iss"
}

case_user_input_never_break_glass() {
    example_service sshd
    example_service login
    start_stack $'[service:sshd]\nflows = code\n[service:login]\nflows = code'
    local err
    for err in server_error temporarily_unavailable access_denied invalid_request; do
        drive "paste-$err" sshd claire --rhost "$SSH_RHOST"
        wait_out "$PROMPT_PASTE"
        answer "$(forged_response "$(auth_url)" "error=$err&error_description=down")"
        drive_wait
        refute_out '^PROMPT_OFF' "a pasted error=$err reached the password line"
        refute_out '^RESULT auth PAM_AUTHINFO_UNAVAIL$' "a pasted error=$err was an outage"
        grep -qE '^RESULT auth PAM_(AUTH_ERR|PERM_DENIED)$' "$OUT" ||
            fail "a pasted error=$err did not end as a refusal"
    done
    # The same answer reaching the listener from a browser (the console stack).
    drive listener-error login claire --tty tty1
    wait_out '^https://127\.0\.0\.1:[0-9]+/wallet/auth'
    curl -sS -o /dev/null "$(forged_response "$(auth_url)" "error=server_error")" ||
        fail "the listener did not answer"
    drive_wait
    expect_result auth PAM_AUTH_ERR
    refute_out '^PROMPT_OFF' "a listener error=server_error reached the password line"
    expect_out 'authorization_server_error'
    # A replayed address (an earlier login's) and junk at the prompt are refused; the login goes
    # on, and ends without the password line.
    drive replay sshd claire --rhost "$SSH_RHOST"
    wait_out "$PROMPT_PASTE"
    local first back
    first=$(auth_url)
    back=$(browser_approve "$first" "$STACK_MEDECIN") || fail "browser_approve failed"
    answer "$back"
    wait_out '^RESULT auth PAM_SUCCESS$'
    drive_wait
    drive replay-again sshd claire --rhost "$SSH_RHOST"
    wait_out "$PROMPT_PASTE"
    answer "$back"
    answer $'\xff\xfe not even UTF-8'
    answer "https://evil.example/callback?code=x&state=y"
    wait_out "Address refused" 10
    close_input
    drive_wait
    expect_result auth PAM_CONV_ERR
    refute_out '^PROMPT_OFF' "junk at the prompt reached the password line"
    pass "error= (server_error, temporarily_unavailable, ...) pasted or on the listener, a replayed address, junk: refusals, never the password line"
}

# The pam-auth-update profile (pam-configs/psc), enabled by the real pam-auth-update in a private
# mount namespace over copies of /etc/pam.d, /usr/share/pam-configs and /var/lib/pam (the host's
# files are never touched), then driven through the generated common-auth and common-account with
# only module paths rewritten: root and an unmapped user keep their passwords, a managed user logs
# in with Pro Santé Connect, a denial never reaches the password, an outage does.
case_pam_auth_update_profile() {
    local ns=$T/ns
    mkdir -p "$ns"
    cp -a /etc/pam.d "$ns/pam.d"
    cp -a /usr/share/pam-configs "$ns/pam-configs"
    mkdir -p "$ns/var-lib-pam"
    [ -d /var/lib/pam ] && cp -a /var/lib/pam/. "$ns/var-lib-pam/"
    cp "$PSC_SOURCE_ROOT/pam-configs/psc" "$ns/pam-configs/psc"
    unshare -m --propagation private sh -c "
        mount --bind '$ns/pam.d' /etc/pam.d && mount --bind '$ns/pam-configs' /usr/share/pam-configs &&
        mount --bind '$ns/var-lib-pam' /var/lib/pam &&
        DEBIAN_FRONTEND=noninteractive pam-auth-update --enable psc" >"$T/pam-auth-update.log" 2>&1 ||
        fail "pam-auth-update failed: $(cat "$T/pam-auth-update.log")"
    grep -q 'pam_psc.so' "$ns/pam.d/common-auth" || fail "the profile is not in common-auth"
    grep -qE 'user_unknown=ignore' "$ns/pam.d/common-auth" || fail "common-auth does not pass user_unknown on"
    # libpam resolves @include in /etc/pam.d even with pam_start_confdir: the service holds the
    # generated lines themselves, as "@include common-auth" + "@include common-account" would.
    cat "$ns/pam.d/common-auth" "$ns/pam.d/common-account" |
        sed -E -e "s#(^|[[:space:]])pam_psc\.so#\1$PAM_PSC#" \
            -e "s#(^|[[:space:]])pam_unix\.so#\1$PAM_MATRIX passdb=$PASSDB#" >"$CONF/profile-login"
    chmod 0644 "$CONF/profile-login"
    local u
    for u in claire lucas root yann; do break_glass_password "$u" "$BREAK_GLASS_PW" profile-login; done
    start_stack $'[service:profile-login]\nflows = ciba\ndeny_categories = E' --ciba-interval 1

    for u in root yann; do
        drive "profile-$u" profile-login "$u" --ops auth,account
        wait_out '^PROMPT_OFF: '
        answer "$BREAK_GLASS_PW"
        drive_wait
        expect_result auth PAM_SUCCESS
        expect_result account PAM_SUCCESS
        refute_out '^INFO|^ERROR' "pam_psc spoke to $u"
    done
    ciba_approve
    drive profile-claire profile-login claire --ops auth,account
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_result account PAM_SUCCESS
    refute_out '^PROMPT_OFF' "claire was asked for a password"
    expect_out '^INFO: .*phone: >> [0-9]{2} <<$' "no CIBA binding code for claire"
    ciba_approve
    drive profile-lucas profile-login lucas --ops auth
    drive_wait
    expect_result auth PAM_PERM_DENIED
    refute_out '^PROMPT_OFF' "a denial reached the password line"
    stack_stop_daemon
    drive profile-outage profile-login claire --ops auth,account
    wait_out '^PROMPT_OFF: '
    answer "$BREAK_GLASS_PW"
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_result account PAM_SUCCESS
    pass "pam-auth-update --enable psc: root and yann keep their passwords, claire by CIBA, lucas denied without the password line, outage → password"
}

# psc-authd killed (or the bus restarted) in the middle of a login: pam_psc answers
# PAM_AUTHINFO_UNAVAIL (an outage; never success), psc-authd exits non-zero when it loses the bus
# (so systemd restarts it), and a restarted daemon serves new logins.
case_daemon_dies_mid_login() {
    own_service only-psc <<'EOF'
auth required @PSC@ flows=ciba
EOF
    start_stack $'[service:only-psc]\nflows = ciba' --ciba-interval 1
    mock_control '{"ciba":{"outcome":"never"}}' >/dev/null || fail "mock_control failed"
    drive killed only-psc claire
    wait_out 'phone: >> [0-9]{2} <<'
    kill -KILL "$AUTHD_PID"
    wait "$AUTHD_PID" 2>/dev/null
    AUTHD_PID=""
    drive_wait
    expect_result auth PAM_AUTHINFO_UNAVAIL
    expect_syslog 'daemon_unreachable'
    # A restarted daemon serves the next login.
    stack_start_daemon
    stack_wait_ready
    ciba_approve
    drive after-restart only-psc claire
    drive_wait
    expect_result auth PAM_SUCCESS
    # The bus itself goes away mid-login: the same answer, and psc-authd exits with 1.
    mock_control '{"ciba":{"outcome":"never"}}' >/dev/null || fail "mock_control failed"
    drive bus-gone only-psc claire
    wait_out 'phone: >> [0-9]{2} <<'
    kill -TERM "$BUS_PID"
    wait "$BUS_PID" 2>/dev/null
    BUS_PID=""
    drive_wait
    expect_result auth PAM_AUTHINFO_UNAVAIL
    local rc=0
    wait "$AUTHD_PID" || rc=$?
    AUTHD_PID=""
    [ "$rc" = 1 ] || fail "psc-authd exited with $rc after losing the bus, not 1"
    grep -q 'Failed to stay on the system bus' "$AUTHD_LOG" || fail "psc-authd did not say why"
    pass "daemon killed / bus gone mid-login → PAM_AUTHINFO_UNAVAIL; psc-authd exits 1 without a bus; a restarted daemon serves"
}

case_conv_error() {
    example_service sshd
    start_stack $'[service:sshd]\nflows = code'
    drive conv sshd claire --rhost "$SSH_RHOST"
    wait_out "$PROMPT_PASTE"
    [ "$(pending_logins)" = 1 ] || fail "no pending login while the prompt is up"
    close_input # the application's conversation fails, as on Ctrl-C
    drive_wait
    expect_result auth PAM_CONV_ERR
    expect_syslog 'Failed to converse'
    expect_syslog 'login cancelled: conversation failed'
    expect_nothing_pending
    grep -qE 'PSC_RESULT="?cancelled' "$AUTHD_LOG" || fail "the daemon did not log a cancellation"
    pass "conversation failure → CancelLogin (PendingLogins 0) → PAM_CONV_ERR"
}

case_mapping_other_user() {
    example_service sshd
    start_stack $'[service:sshd]\nflows = code'
    paste_back other lucas "$STACK_MEDECIN"
    expect_result auth PAM_PERM_DENIED
    refute_out '^PROMPT_OFF' "the break-glass line was reached"
    grep -q 'mapping_other_user' "$AUTHD_LOG" || fail "the daemon log does not say mapping_other_user"
    expect_out 'mapping_other_user'
    pass "the médecin (claire's idNat) asking for lucas → PAM_PERM_DENIED"
}

case_account_other_user() {
    example_service sshd
    start_stack $'[service:sshd]\nflows = code'
    paste_back switch claire "$STACK_MEDECIN" --ops auth,account --switch-user lucas
    expect_result auth PAM_SUCCESS
    expect_result account PAM_PERM_DENIED
    expect_syslog 'authenticated as "claire", not "lucas"'
    pass "auth as claire, PAM_USER switched to lucas → account PAM_PERM_DENIED"
}

case_non_root() {
    example_service su
    start_stack $'[service:su]\nflows = ciba' --ciba-interval 1
    DRIVE_AS="setpriv --reuid=1001 --regid=1001 --clear-groups"
    ciba_approve
    drive self su claire --ops auth,account
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_result account PAM_SUCCESS
    drive other su lucas
    drive_wait
    expect_result auth PAM_PERM_DENIED
    expect_out '^ERROR: .*Access denied \(caller_not_user\)'
    pass "uid 1001 (claire) authenticates claire, is refused lucas (caller_not_user)"
}

case_symbols() {
    local syms
    syms=$(nm -D --defined-only "$PAM_PSC" | awk '{print $3}' | sort | tr '\n' ' ')
    [ "$syms" = "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_close_session pam_sm_open_session pam_sm_setcred " ] ||
        fail "exported symbols: $syms"
    local needed
    needed=$(readelf -d "$PAM_PSC" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    case $needed in *json* | *ssl* | *crypto* | *curl* | *microhttpd*)
        fail "the module links more than a D-Bus client needs: $needed" ;;
    esac
    # It loads with every symbol resolved (RTLD_NOW), as libpam does, and the entry points work
    # without a daemon: pam-drive with a one-line stack and no bus at all.
    printf 'auth required %s\naccount required %s account=require\n' "$PAM_PSC" "$PAM_PSC" |
        own_service nobus
    DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/no-bus drive nobus nobus claire
    drive_wait
    expect_result auth PAM_AUTHINFO_UNAVAIL
    drive nobus-account nobus claire --ops account
    drive_wait
    expect_result account PAM_PERM_DENIED
    pass "exports only pam_sm_* ($needed); no bus → PAM_AUTHINFO_UNAVAIL; account=require → denied"
}

case_unknown_args() {
    own_service args <<'EOF'
auth    required @PSC@ bogus=1 qr=sideways flows=ciba nullok
account required @PSC@ also_unknown
EOF
    start_stack $'[service:args]\nflows = ciba code' --ciba-interval 1
    ciba_approve
    drive args args claire --ops auth,account
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_result account PAM_SUCCESS
    refute_out '^PROMPT' "flows=ciba should leave one flow and no menu"
    expect_syslog 'unknown argument "bogus=1" ignored'
    expect_syslog 'unknown argument "nullok" ignored'
    expect_syslog 'bad value in argument "qr=sideways"'
    expect_syslog 'unknown argument "also_unknown" ignored'
    pass "unknown arguments logged and ignored; the login works"
}

case_qr_on() {
    own_service qr-on <<'EOF'
auth required @PSC@ qr=on
EOF
    start_stack $'[service:qr-on]\nflows = code'
    # A UTF-8 locale: half blocks, two module rows per line.
    LC_ALL=C.UTF-8 drive qr-on qr-on claire --rhost "$SSH_RHOST"
    wait_out "$PROMPT_PASTE"
    close_input
    drive_wait
    expect_result auth PAM_CONV_ERR
    expect_out 'Or scan this QR code:' "qr=on drew no QR code over SSH"
    expect_out "^($FULL_BLOCK)+\$" "no full-block quiet zone line"
    expect_out "$UPPER_HALF" "no half block"
    # The C locale: the ASCII fallback, "##" per light module.
    drive qr-ascii qr-on claire --rhost "$SSH_RHOST"
    wait_out "$PROMPT_PASTE"
    close_input
    drive_wait
    expect_out '^(##)+$' "no ASCII quiet zone line in the C locale"
    refute_out "$FULL_BLOCK" "UTF-8 blocks in the C locale"
    expect_nothing_pending
    pass "qr=on over SSH: the QR code is drawn (UTF-8 half blocks; ASCII in the C locale)"
}

case_qr_off() {
    own_service qr-off <<'EOF'
auth required @PSC@ qr=off timeout=5
EOF
    start_stack $'[service:qr-off]\nflows = code'
    drive qr-off qr-off claire
    drive_wait
    expect_result auth PAM_AUTH_ERR
    expect_out '^https://127\.0\.0\.1:[0-9]+/wallet/auth' "no URL"
    refute_out "QR code|$FULL_BLOCK|$UPPER_HALF|$LOWER_HALF" "qr=off drew a QR code"
    expect_out '^ERROR: .*timed out \(pam_timeout\)' "timeout=5 did not end the wait"
    expect_nothing_pending
    pass "qr=off on a local terminal: URL only; timeout=5 → PAM_AUTH_ERR, login cancelled"
}

case_session_env() {
    own_service env <<'EOF'
auth    required @PSC@ flows=ciba
account required @PSC@
session required @PSC@ env
EOF
    start_stack $'[service:env]\nflows = ciba' --ciba-interval 1
    ciba_approve
    drive env env claire --ops auth,account,session,close
    drive_wait
    expect_result session PAM_SUCCESS
    expect_out '^ENV PSC_IDNAT=810001234567$'
    expect_out '^ENV PSC_PROFESSION=10$'
    # PAM_USER lost after auth: the session fails (nothing exported), it does not pretend.
    ciba_approve
    drive env-nouser env claire --ops auth,session --switch-user -
    drive_wait
    expect_result auth PAM_SUCCESS
    expect_result session PAM_SESSION_ERR
    refute_out '^ENV PSC_'
    expect_syslog 'no PAM_USER'
    pass "session env: PSC_IDNAT and PSC_PROFESSION exported; PAM_USER lost → PAM_SESSION_ERR"
}

# The session of a psc-login authentication is recorded while it is open (ListSessions), and with
# logout_on_session_close its end ends the PSC session too (mock-psc's end_session endpoint with
# the ID token as id_token_hint); every step is audited.
sessions_listed() {
    stack_busctl --timeout=5 call org.psclogin.Auth1 /org/psclogin/Auth1 org.psclogin.Auth1 \
        ListSessions
}

logouts_at_mock() {
    mock_control '{"log":true}' | grep -o '"endpoint":"logout"' | wc -l
}

case_session_record() {
    own_service rec <<'EOF'
auth    required @PSC@ flows=ciba
account required @PSC@
session required @PSC@
EOF
    start_stack $'[service:rec]\nflows = ciba\nlogout_on_session_close = yes' --ciba-interval 1
    ciba_approve
    [ "$(logouts_at_mock)" = 0 ] || fail "logout before anything happened"
    drive rec rec claire --ops auth,account,session,hold,close
    local i listed=""
    for ((i = 0; i < 300; i++)); do
        grep -q '^HOLD$' "$OUT" && break
        sleep 0.1
    done
    expect_result session PAM_SUCCESS
    listed=$(sessions_listed)
    grep -q '"claire" "810001234567" "rec"' <<<"$listed" ||
        fail "the open session is not listed: $listed"
    grep -q 'eyJ' <<<"$listed" && fail "ListSessions shows a token: $listed"
    answer go
    drive_wait
    expect_result close PAM_SUCCESS
    listed=$(sessions_listed)
    [ "$listed" = "a(sssssssbt) 0" ] || fail "the closed session is still listed: $listed"
    for ((i = 0; i < 50; i++)); do
        [ "$(logouts_at_mock)" = 1 ] && break
        sleep 0.1
    done
    [ "$(logouts_at_mock)" = 1 ] || fail "no logout at the provider after the session closed"
    for ev in session_open session_close logout; do
        grep -F "PSC_EVENT=\"$ev\"" "$AUTHD_LOG" | grep -qF 'PSC_RESULT="success"' ||
            fail "no $ev success in the daemon's log"
    done
    # A second close of the same handle's session: the ticket is spent, the module says so.
    ciba_approve
    drive rec2 rec claire --ops auth,session,close,close
    drive_wait
    expect_result close PAM_SESSION_ERR
    expect_syslog 'session_unknown'
    # PAM_USER lost between open and close: the close fails (logged), it does not pretend.
    ciba_approve
    drive rec3 rec claire --ops auth,session,unset-user,close
    drive_wait
    expect_result session PAM_SUCCESS
    expect_result close PAM_SESSION_ERR
    expect_syslog 'Failed to close the session: no PAM_USER'
    pass "session recorded while open, listed without its token; closing it logs out at the provider"
}

"case_$CASE"
