#!/bin/bash
# pscctl's daemon and provider commands (design §1) against the real stack of
# tests/support/psc-stack.sh: status with and without psc-authd, sessions as root and refused as
# a test user, jwks refresh rate-limited and allowed, map for a mapped and an unmapped idNat,
# discover against mock-psc, and a CIBA login approved by mock-psc's script. Each case checks the
# exit status and the line an administrator reads.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../integration/integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

PSCCTL=${PSC_PSCCTL:?PSC_PSCCTL must name the pscctl binary}
OUT=""
RC=0

# ctl [--as UID] ARGS...: runs pscctl (with the test accounts), output in $OUT, status in $RC.
ctl() {
    local -a prefix=()
    if [ "${1:-}" = --as ]; then
        prefix=(setpriv --reuid="$2" --regid="$2" --clear-groups --)
        shift 2
    fi
    RC=0
    OUT=$("${prefix[@]}" env LD_PRELOAD=libnss_wrapper.so "$PSCCTL" "$@" 2>&1 </dev/null) || RC=$?
}

status_with_daemon() {
    ctl status --config "$PSC_CONFIG" && expect 0 "daemon: running, version" &&
        expect 0 "config: OK ($PSC_CONFIG" || return 1
    expect 0 "  configuration: $PSC_CONFIG $PSC_CONFIG.d/50-test.conf, loaded " &&
        expect 0 "  provider: ready, issuer $MOCK_ISSUER" || return 1
    grep -qE '^  discovery: loaded [0-9]+ s ago, next refresh in 5[0-9] min$' <<<"$OUT" ||
        fail "discovery line: $OUT" || return 1
    expect 0 "  signing keys: 1 key(s), loaded " && expect 0 "  listener: http://127.0.0.1:" ||
        return 1
    # Not a terminal: no colour, whatever NO_COLOR says.
    if grep -q $'\033' <<<"$OUT"; then fail "colour codes in piped output: $OUT"; fi
}

# The installed interface description says exactly what the daemon serves.
introspection_matches_xml() {
    local live=$STACK_DIR/introspect.xml out
    stack_busctl --timeout=5 introspect --xml-interface org.psclogin.Auth1 /org/psclogin/Auth1 \
        >"$live" || fail "introspection failed" || return 1
    out=$(python3 "$PSC_SOURCE_ROOT/tests/ctl/check_introspection.py" \
        "$PSC_SOURCE_ROOT/daemon/org.psclogin.Auth1.xml" "$live" 2>&1) || fail "$out"
}

# json_check PYTHON_EXPR...: each expression holds for d, the JSON document pscctl printed.
json_check() {
    python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
for expr in sys.argv[1:]:
    if not eval(expr):
        sys.exit("does not hold: %s\n%s" % (expr, json.dumps(d, indent=1)))
' "$@" <<<"$OUT" || fail "pscctl $CASE_NAME --json"
}

status_json() {
    must_start claire psc-code code 192.0.2.7 || return 1
    RC=0
    OUT=$(LD_PRELOAD=libnss_wrapper.so "$PSCCTL" status --json --config "$PSC_CONFIG" \
        2>/dev/null) || RC=$?
    [ "$RC" = 0 ] || fail "exit $RC: $OUT" || return 1
    json_check 'd["daemon"]["running"] is True' 'd["daemon"]["provider_ready"] is True' \
        'd["daemon"]["pending_by_flow"] == {"code": 1}' 'd["daemon"]["pending_logins"] == 1' \
        'd["daemon"]["discovery"]["loaded"] and d["daemon"]["discovery"]["failures"] == 0' \
        'd["daemon"]["discovery"]["last_error"] is None' \
        'd["daemon"]["discovery"]["next_refresh_in_seconds"] > 3500' \
        'd["daemon"]["signing_keys"]["keys"] == 1' \
        'd["daemon"]["signing_keys"]["age_seconds"] < 60' \
        'd["daemon"]["listener"].startswith("http://127.0.0.1:")' \
        'd["daemon"]["config_files"][0] == d["config"]["path"]' \
        'd["config"]["valid"] and d["config"]["changed_since_daemon_loaded"] is False' \
        'd["config"]["client_id"] == "'"$MOCK_CLIENT_ID"'"'
}

# On a terminal the verdicts are coloured; NO_COLOR (any non-empty value) and TERM=dumb turn it off.
status_colour_only_on_terminal() {
    local tty=$PSC_SOURCE_ROOT/tests/support/on-tty.py
    OUT=$(env -u NO_COLOR TERM=xterm LD_PRELOAD=libnss_wrapper.so "$tty" "$PSCCTL" status \
        --config "$PSC_CONFIG" 2>&1) || fail "status on a terminal failed: $OUT" || return 1
    grep -qF $'\033[32mrunning\033[0m' <<<"$OUT" || fail "no colour on a terminal: $OUT" ||
        return 1
    for env in NO_COLOR=1 TERM=dumb; do
        OUT=$(env "$env" LD_PRELOAD=libnss_wrapper.so "$tty" "$PSCCTL" status \
            --config "$PSC_CONFIG" 2>&1) || fail "status with $env failed: $OUT" || return 1
        grep -qF "daemon: running" <<<"$OUT" || fail "status with $env: $OUT" || return 1
        if grep -q $'\033' <<<"$OUT"; then fail "colour despite $env: $OUT"; return 1; fi
    done
}

# A file of the configuration is newer than the daemon's copy: status says to reload.
status_config_changed() {
    ctl status --config "$PSC_CONFIG"
    grep -qF "changed since psc-authd loaded it" <<<"$OUT" && fail "stale note too early: $OUT"
    touch -d '+2 seconds' "$PSC_CONFIG.d/50-test.conf"
    ctl status --config "$PSC_CONFIG"
    expect 0 'note: changed since psc-authd loaded it; apply with "systemctl reload psc-authd"'
}

status_without_daemon() {
    stack_stop_daemon
    ctl status --config "$PSC_CONFIG"
    expect 3 "daemon: not running" || return 1
    DBUS_SYSTEM_BUS_ADDRESS=unix:path=$STACK_DIR/no-such-bus ctl status --config "$PSC_CONFIG"
    expect 3 "daemon: not reachable"
}

sessions_root_lists_pending() {
    must_start claire psc-code code 192.0.2.7 || return 1
    ctl sessions
    expect 0 "${LOGIN_ID:0:8}  claire" || return 1
    expect 0 "192.0.2.7" && expect 0 "1 login(s)" || return 1
    grep -qF -- "$LOGIN_ID" <<<"$OUT" && fail "the full login id is shown" || return 0
}

sessions_refused_non_root() {
    ctl --as 1001 sessions
    expect 1 "refused: caller_not_root"
}

jwks_refresh_rate_limited() {
    ctl jwks refresh
    expect 1 "refused: jwks_rate_limited"
}

jwks_refresh_refused_non_root() {
    ctl --as 1001 jwks refresh
    expect 1 "refused: caller_not_root"
}

map_mapped_idnat() {
    ctl map "$STACK_MEDECIN" --config "$PSC_CONFIG"
    expect 0 "claire (uid 1001): OK"
}

map_unmapped_idnat() {
    ctl map 810000000001 --config "$PSC_CONFIG"
    expect 1 "is not mapped to any local account"
}

map_system_account() {
    ctl map 810000000002 --config "$PSC_CONFIG"
    expect 1 "root: not managed: system_user"
}

# jctl ARGS...: pscctl with --json; standard output alone in $OUT.
jctl() {
    RC=0
    OUT=$(LD_PRELOAD=libnss_wrapper.so "$PSCCTL" "$@" --json 2>/dev/null </dev/null) || RC=$?
}

map_json() {
    jctl map "$STACK_MEDECIN" --config "$PSC_CONFIG"
    [ "$RC" = 0 ] || fail "exit $RC: $OUT" || return 1
    json_check 'd["source"] == {"kind": "map_file", "detail": "'"$PSC_MAP_FILE"'"}' \
        'd["accounts"] == [{"account": "claire", "usable": True, "uid": 1001}]' || return 1
    jctl map 810000000002 --config "$PSC_CONFIG"
    [ "$RC" = 1 ] || fail "exit $RC: $OUT" || return 1
    json_check 'd["accounts"][0]["account"] == "root" and d["accounts"][0]["usable"] is False' \
        'd["accounts"][0]["verdict"] == "not managed"' \
        'd["accounts"][0]["reason"] == "system_user"' || return 1
    jctl map 810000000001 --config "$PSC_CONFIG"
    [ "$RC" = 1 ] || fail "exit $RC: $OUT" || return 1
    json_check 'd["accounts"] == [] and d["idnat"] == "810000000001"'
}

discover_json() {
    jctl discover --config "$PSC_CONFIG"
    [ "$RC" = 0 ] || fail "exit $RC: $OUT" || return 1
    json_check 'd["ok"] is True and "error" not in d' \
        'd["metadata"]["issuer"] == "'"$MOCK_ISSUER"'"' \
        'd["discovery_source"].endswith("/.well-known/wallet-openid-configuration")' \
        'all(d["checks"][c]["outcome"] == "ok" for c in ("issuer", "psc_wallet_path", "algs", "jwks"))' \
        'len(d["keys"]) == 1 and d["keys"][0]["kty"] == "RSA" and d["keys"][0]["bits"] >= 2048'
}

map_bad_idnat() {
    ctl map 'not an idnat' --config "$PSC_CONFIG"
    expect 2 "invalid arguments"
}

discover_mock_psc() {
    ctl discover --config "$PSC_CONFIG"
    expect 0 "issuer                                   $MOCK_ISSUER" || return 1
    expect 0 "check issuer: OK" && expect 0 "check PSC wallet path: OK" || return 1
    expect 0 "check algs: OK (RS256" && expect 0 "check jwks: OK" && expect 0 "key kid="
}

login_ciba_approved() {
    ciba_script '{"outcome":"approve","approve_after":2}' || return 1
    ctl login claire --service psc-ciba --flow ciba
    expect 0 "OK: user=claire idnat=$STACK_MEDECIN" && expect 0 "check that your phone shows" ||
        return 1
    # Not on a terminal: no progress lines, no colour.
    if grep -q "waiting\.\.\." <<<"$OUT"; then fail "progress lines off a terminal: $OUT"; fi
    if grep -q $'\033' <<<"$OUT"; then fail "colour off a terminal: $OUT"; fi
}

# On a terminal the wait shows its progress and the verdict is coloured.
login_ciba_on_terminal() {
    ciba_script '{"outcome":"approve","approve_after":2}' || return 1
    RC=0
    OUT=$(env -u NO_COLOR TERM=xterm LD_PRELOAD=libnss_wrapper.so \
        "$PSC_SOURCE_ROOT/tests/support/on-tty.py" "$PSCCTL" login claire --service psc-ciba \
        --flow ciba 2>&1) || RC=$?
    expect 0 "waiting... " && expect 0 $'\033[32mOK\033[0m: user=claire'
}

# --json: JSON Lines, the start (with the binding code) then the outcome; nothing else on stdout.
login_ciba_json() {
    ciba_script '{"outcome":"approve","approve_after":1}' || return 1
    RC=0
    OUT=$(LD_PRELOAD=libnss_wrapper.so "$PSCCTL" login claire --service psc-ciba --flow ciba \
        --json 2>/dev/null </dev/null) || RC=$?
    [ "$RC" = 0 ] || fail "exit $RC: $OUT" || return 1
    python3 -c '
import json, sys
events = [json.loads(line) for line in sys.stdin.read().splitlines()]
assert len(events) == 2, events
start, end = events
assert start["event"] == "started" and start["flow"] == "ciba", start
assert len(start["binding_code"]) == 2 and start["binding_code"].isdigit(), start
assert start["accepts_paste"] is False and start["expires_in"] > 0, start
assert end == {"event": "success", "user": "claire", "idnat": sys.argv[1],
               "profession": end["profession"], "auth_mode": end["auth_mode"]}, end
' "$STACK_MEDECIN" <<<"$OUT" || fail "login --json: $OUT"
}

login_refused_json() {
    RC=0
    OUT=$(LD_PRELOAD=libnss_wrapper.so "$PSCCTL" login claire --service psc-code --flow ciba \
        --json 2>/dev/null </dev/null) || RC=$?
    [ "$RC" = 1 ] || fail "exit $RC: $OUT" || return 1
    json_check 'd["event"] == "failed"' 'd["error"]["class"] == "invalid"' \
        'd["error"]["reason"] == "flow_not_allowed"'
}

sessions_json() {
    must_start claire psc-code code 192.0.2.7 || return 1
    RC=0
    OUT=$(LD_PRELOAD=libnss_wrapper.so "$PSCCTL" sessions --json 2>/dev/null) || RC=$?
    [ "$RC" = 0 ] || fail "exit $RC: $OUT" || return 1
    json_check 'len(d["logins"]) == 1' 'd["logins"][0]["id"] == "'"${LOGIN_ID:0:8}"'"' \
        'd["logins"][0]["user"] == "claire" and d["logins"][0]["rhost"] == "192.0.2.7"' \
        'd["logins"][0]["flow"] == "code" and d["logins"][0]["seconds_left"] > 0'
}

sessions_json_refused() {
    RC=0
    OUT=$(setpriv --reuid=1001 --regid=1001 --clear-groups -- env LD_PRELOAD=libnss_wrapper.so \
        "$PSCCTL" sessions --json 2>/dev/null) || RC=$?
    [ "$RC" = 1 ] || fail "exit $RC: $OUT" || return 1
    json_check 'd["error"] == {"class": "denied", "reason": "caller_not_root", "message": d["error"]["message"]}'
}

# The code flow with the browser's final address pasted on stdin (the paste-back of design §2.2).
login_code_pasted() {
    local fifo=$STACK_DIR/login-in out=$STACK_DIR/login-out url="" back i pid rc=0
    mkfifo "$fifo"
    LD_PRELOAD=libnss_wrapper.so "$PSCCTL" login claire --service psc-code <"$fifo" >"$out" 2>&1 &
    pid=$!
    exec 7>"$fifo"
    for ((i = 0; i < 100; i++)); do
        url=$(sed -n 's/^open: //p' "$out")
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || { exec 7>&-; wait "$pid"; fail "no address shown: $(cat "$out")"; return 1; }
    back=$(browser_approve "$url" "$STACK_MEDECIN") || { exec 7>&-; wait "$pid"; return 1; }
    printf '%s\n' "$back" >&7
    exec 7>&-
    wait "$pid" || rc=$?
    RC=$rc OUT=$(cat "$out")
    expect 0 "OK: user=claire idnat=$STACK_MEDECIN"
}

login_unknown_service_flow_refused() {
    ctl login claire --service psc-code --flow ciba
    [ "$RC" = 1 ] || fail "exit $RC, expected 1: $OUT" || return 1
    expect 1 "FAILED: "
}

ciba_script() {
    local out
    out=$(mock_control "{\"ciba\":$1}") || fail "mock control failed" || return 1
    case $out in *'"error"'*) fail "mock refused $1: $out" || return 1 ;; esac
}

# A code-flow login as claire through the bus client and the listener; its outcome in REPLY.
code_login() {
    must_start claire psc-code code || return 1
    browser_login "$URL" "$STACK_MEDECIN" >/dev/null || fail "the browser did not get through" ||
        return 1
    client_cmd "wait 20000" || return 1
}

# The same, successful; TICKET is the session ticket of its outcome.
ticket_login() {
    code_login || return 1
    expect_done claire "$STACK_MEDECIN" || return 1
    TICKET=$(sed -n 's/.* ticket=\([^ ]*\).*/\1/p' <<<"$REPLY")
    [ -n "$TICKET" ] || fail "no session ticket in: $REPLY"
}

session_call() { # METHOD SIG ARGS...: as root, output in $OUT, status in $RC
    RC=0
    # "--": a ticket may begin with "-" (base64url), which busctl must not take for an option.
    OUT=$(stack_busctl --timeout=10 -- call org.psclogin.Auth1 /org/psclogin/Auth1 \
        org.psclogin.Auth1 "$@" 2>&1) || RC=$?
}

logouts_at_mock() {
    mock_control '{"log":true}' | grep -o '"endpoint":"logout"' | wc -l
}

# The PAM session's record: opened with its ticket, listed by `pscctl sessions`, ended at the
# provider by `pscctl logout` (root only), then closed.
sessions_open_list_logout() {
    ticket_login || return 1
    session_call OpenSession ss "$TICKET" c7
    [ "$RC" = 0 ] || fail "OpenSession: $OUT" || return 1
    session_call OpenSession ss "$TICKET" c7 # a ticket opens one session once
    [ "$RC" != 0 ] && grep -q "session_unknown" <<<"$OUT" || fail "reopened: $OUT" || return 1
    ctl sessions
    expect 0 "1 open session(s)" && expect 0 "$STACK_MEDECIN" && expect 0 "psc-code" || return 1
    grep -qF -- "$TICKET" <<<"$OUT" && fail "the ticket is shown: $OUT"
    jctl sessions
    json_check 'len(d["sessions"]) == 1' 'd["sessions"][0]["user"] == "claire"' \
        'd["sessions"][0]["logind_session"] == "c7"' \
        'd["sessions"][0]["ended_at_provider"] is False' || return 1
    ctl --as 1001 logout claire
    expect 1 "refused: caller_not_root" || return 1
    local before
    before=$(logouts_at_mock)
    ctl logout claire
    expect 0 ": ended at the provider" || return 1
    [ "$(logouts_at_mock)" = $((before + 1)) ] || fail "the provider saw no logout" || return 1
    ctl sessions
    expect 0 "(ended at the provider)" || return 1
    ctl logout claire
    expect 1 "session_unknown" || return 1
    session_call CloseSession s "$TICKET"
    [ "$RC" = 0 ] || fail "CloseSession: $OUT" || return 1
    ctl sessions
    expect 0 "0 open session(s)" || return 1
    grep -F 'PSC_EVENT="logout"' "$AUTHD_LOG" | grep -qF 'PSC_RESULT="success"' ||
        fail "the logout is not audited"
}

# The provider's end_session endpoint fails: the logout says so (exit 1, logout_refused, audited)
# and the session can still be closed.
logout_provider_error() {
    ticket_login || return 1
    session_call OpenSession ss "$TICKET" ""
    [ "$RC" = 0 ] || fail "OpenSession: $OUT" || return 1
    local out
    out=$(mock_control '{"fault":"logout_bad_hint","scope":"next"}')
    case $out in *'"error"'*) fail "mock refused the fault: $out" || return 1 ;; esac
    ctl logout claire
    expect 1 "FAILED: logout_refused: the provider's end_session_endpoint answered HTTP 400" ||
        return 1
    grep -F 'PSC_EVENT="logout"' "$AUTHD_LOG" | grep -qF 'PSC_REASON="logout_refused"' ||
        fail "the failed logout is not audited" || return 1
    session_call CloseSession s "$TICKET"
    [ "$RC" = 0 ] || fail "CloseSession after a failed logout: $OUT"
}

# Another uid cannot open (nor close) the session of a login it did not start; no ticket, no
# session.
sessions_refused() {
    ticket_login || return 1
    RC=0
    OUT=$(setpriv --reuid=1001 --regid=1001 --clear-groups -- busctl \
        --address="$DBUS_SYSTEM_BUS_ADDRESS" --timeout=10 -- call org.psclogin.Auth1 \
        /org/psclogin/Auth1 org.psclogin.Auth1 OpenSession ss "$TICKET" "" 2>&1) || RC=$?
    [ "$RC" != 0 ] && grep -q "session_not_yours" <<<"$OUT" || fail "another uid opened it: $OUT" ||
        return 1
    session_call OpenSession ss "not-a-ticket" ""
    [ "$RC" != 0 ] && grep -q "session_unknown" <<<"$OUT" || fail "a forged ticket: $OUT" ||
        return 1
    session_call CloseSession s "$TICKET" # never opened
    [ "$RC" != 0 ] && grep -q "session_unknown" <<<"$OUT" || fail "closed unopened: $OUT" ||
        return 1
    # Logout names a user or a session id, never both, never neither (pscctl cannot send that;
    # a raw bus call can).
    session_call Logout ss "" ""
    [ "$RC" != 0 ] && grep -q "logout_args" <<<"$OUT" || fail "Logout(\"\", \"\"): $OUT" || return 1
    session_call Logout ss claire some-id
    [ "$RC" != 0 ] && grep -q "logout_args" <<<"$OUT" || fail "Logout(user, id): $OUT"
}

jwks_refresh_ok() {
    sleep 1.2
    ctl jwks refresh
    expect 0 "OK"
}

# The provider goes away: a refresh fails, what was loaded is kept, and status shows the failure,
# the retry and the error.
status_provider_failure() {
    stack_stop_mock
    sleep 1.2
    ctl jwks refresh
    expect 1 "http_connect" || return 1
    ctl status --config "$PSC_CONFIG"
    expect 0 "  provider: ready" && expect 0 "  discovery: loaded " &&
        expect 0 ", 1 failed load(s), retrying in " &&
        expect 0 "    last error: http_connect: $MOCK_DISCOVERY_URL"
}

# Restarted while the provider is down: not ready, logins cannot start, and status exits 1.
status_provider_not_ready() {
    stack_stop_daemon
    stack_start_daemon
    local i
    for ((i = 0; i < 50; i++)); do
        ctl status --json --config "$PSC_CONFIG"
        grep -q '"failures":[1-9]' <<<"$OUT" && break
        sleep 0.1
    done
    OUT=$(sed '/^note: not running as root/d' <<<"$OUT")
    [ "$RC" = 1 ] || fail "exit $RC, expected 1: $OUT" || return 1
    json_check 'd["daemon"]["provider_ready"] is False' \
        'd["daemon"]["discovery"]["loaded"] is False' \
        'd["daemon"]["discovery"]["loaded_at"] is None' \
        'd["daemon"]["discovery"]["last_error"].startswith("http_connect: ")' \
        'd["daemon"]["discovery"]["next_refresh_in_seconds"] <= 5' \
        'd["daemon"]["signing_keys"]["loaded"] is False' || return 1
    ctl status --config "$PSC_CONFIG"
    expect 1 "  provider: NOT READY (logins cannot start)" &&
        expect 1 "  discovery: not loaded, 1 failed load(s), retrying in "
}

# psc-authd restarted on the current configuration (after stack_config_extra), ready again.
restart_daemon() {
    stack_stop_daemon
    stack_start_daemon
    stack_wait_ready
}

# ---- Encrypted ID tokens (JWE): mock-psc signs, then encrypts to the client's public key ----

# The RP's decryption key, made at test time: a PEM and the same key as a JWK with a kid.
make_decryption_key() {
    ENC_DIR=$(mktemp -d /tmp/psc-enc.XXXXXX) || return 1
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$ENC_DIR/enc.pem" \
        2>/dev/null || return 1
    openssl pkey -in "$ENC_DIR/enc.pem" -pubout -out "$ENC_DIR/enc.pub.pem" || return 1
    python3 "$PSC_SOURCE_ROOT/tests/support/pem-to-jwk.py" "$ENC_DIR/enc.pem" rp-enc-1 \
        >"$ENC_DIR/enc.jwk" || return 1
    chmod 0600 "$ENC_DIR/enc.pem" "$ENC_DIR/enc.jwk"
}

# enc_fault FAULT REASON: a listener login with mock-psc's FAULT armed ends in Invalid REASON.
enc_fault() {
    local out
    out=$(mock_control "{\"fault\":\"$1\",\"scope\":\"next\"}")
    case $out in *'"error"'*) fail "mock refused $1: $out" || return 1 ;; esac
    code_login || return 1
    expect_error Invalid "$2"
}

# An encrypted ID token (and an encrypted signed UserInfo) logs in; the session's logout sends
# the inner signed token as id_token_hint, which mock-psc verifies like Keycloak (it could not
# read the encrypted one: the logout would be refused).
encrypted_login_logout() {
    local out
    out=$(mock_control '{"fault":"userinfo_signed_jwt","scope":"next"}')
    case $out in *'"error"'*) fail "mock refused the fault: $out" || return 1 ;; esac
    ticket_login || return 1
    session_call OpenSession ss "$TICKET" c9
    [ "$RC" = 0 ] || fail "OpenSession: $OUT" || return 1
    ctl logout claire
    expect 0 ": ended at the provider" || return 1
    session_call CloseSession s "$TICKET"
    [ "$RC" = 0 ] || fail "CloseSession: $OUT"
}
encrypted_wrong_kid() { enc_fault id_token_encryption_wrong_kid jwe_unknown_kid; }
encrypted_bad_tag() { enc_fault id_token_encryption_bad_tag jwe_decrypt; }
encrypted_unsigned() { enc_fault id_token_encrypted_unsigned jwe_not_signed; }
# The same provider, the daemon restarted without id_token_decryption_key: refused, never read.
encrypted_without_key() {
    stack_config_extra <<EOF
[service:psc-code]
flows = code
EOF
    restart_daemon
    code_login || return 1
    expect_error Invalid jwe_no_key
}

# ---- Back-channel logout: mock-psc mints logout tokens, curl posts them to the listener ----

FAKE_LOGIND=${PSC_FAKE_LOGIND:?PSC_FAKE_LOGIND must name the fake-logind binary}

start_fake_logind() {
    LOGIND_CALLS=$STACK_DIR/logind-calls
    : >"$LOGIND_CALLS"
    "$FAKE_LOGIND" "$LOGIND_CALLS" >"$STACK_DIR/fake-logind.out" 2>&1 &
    LOGIND_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q ready "$STACK_DIR/fake-logind.out" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "fake-logind did not start: $(cat "$STACK_DIR/fake-logind.out")"
}

backchannel_url() {
    ctl status --json --config "$PSC_CONFIG"
    BCL_URL=$(python3 -c '
import json, re, sys
t = sys.stdin.read()
d = json.loads(t[t.index("{"):])
print(re.match(r"https?://[^/]+", d["daemon"]["listener"]).group(0) + "/backchannel_logout")' \
        <<<"$OUT")
    [ -n "$BCL_URL" ] || fail "no listener address in: $OUT"
}

# post_logout TOKEN [CURL_ARGS...]: HTTP status in CODE, body in BODY.
post_logout() {
    local token=$1
    shift
    BODY=$(curl -sS -w '\n%{http_code}' "$@" --data-urlencode "logout_token=$token" "$BCL_URL")
    CODE=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
}

mint_logout() { # [FAULT]: a logout token for claire's latest session, in LOGOUT_TOKEN
    local out
    out=$(mock_control "{\"logout_token\":{\"idnat\":\"$STACK_MEDECIN\",\"fault\":\"${1:-}\"}}")
    LOGOUT_TOKEN=$(sed -n 's/.*"logout_token":"\([^"]*\)".*/\1/p' <<<"$out")
    [ -n "$LOGOUT_TOKEN" ] || fail "mock-psc gave no logout token: $out"
}

expect_refused_400() { # REASON: the last post was refused with REASON, and nothing was called
    [ "$CODE" = 400 ] || fail "HTTP $CODE, expected 400: $BODY" || return 1
    grep -qF "\"error_description\":\"$1\"" <<<"$BODY" || fail "no $1 in: $BODY" || return 1
    grep -F 'PSC_EVENT="backchannel_logout"' "$AUTHD_LOG" | grep -qF "PSC_REASON=\"$1\"" ||
        fail "the refusal ($1) is not audited"
}

open_session() { # LOGIND_ID: a login as claire and its PAM session opened
    ticket_login || return 1
    session_call OpenSession ss "$TICKET" "$1"
    [ "$RC" = 0 ] || fail "OpenSession: $OUT"
}

# The provider ends claire's session: the daemon locks her logind session, marks the record
# ended, audits it; the same token again is a replay.
backchannel_lock() {
    open_session c21 || return 1
    backchannel_url || return 1
    mint_logout || return 1
    post_logout "$LOGOUT_TOKEN"
    [ "$CODE" = 200 ] && [ -z "$BODY" ] || fail "HTTP $CODE: $BODY" || return 1
    local i
    for ((i = 0; i < 50; i++)); do
        grep -qx "LockSession c21" "$LOGIND_CALLS" && break
        sleep 0.1
    done
    grep -qx "LockSession c21" "$LOGIND_CALLS" || fail "logind was not asked: $(cat "$LOGIND_CALLS")" ||
        return 1
    ctl sessions
    expect 0 "(ended at the provider)" || return 1
    grep -F 'PSC_EVENT="backchannel_logout"' "$AUTHD_LOG" | grep -F 'PSC_RESULT="success"' |
        grep -qF 'USER="claire"' || fail "the back-channel logout is not audited" || return 1
    post_logout "$LOGOUT_TOKEN"
    expect_refused_400 logout_token_replayed || return 1
    mint_logout replay_jti || return 1
    post_logout "$LOGOUT_TOKEN"
    expect_refused_400 logout_token_replayed || return 1
    session_call CloseSession s "$TICKET"
}

# Forged or malformed logout tokens: 400 with the reason, audited, no logind call.
backchannel_refusals() {
    open_session c22 || return 1
    backchannel_url || return 1
    : >"$LOGIND_CALLS"
    mint_logout no_events && post_logout "$LOGOUT_TOKEN" && expect_refused_400 logout_token_events ||
        return 1
    mint_logout with_nonce && post_logout "$LOGOUT_TOKEN" && expect_refused_400 logout_token_nonce ||
        return 1
    mint_logout bad_signature && post_logout "$LOGOUT_TOKEN" &&
        expect_refused_400 jws_bad_signature || return 1
    mint_logout || return 1
    post_logout "$LOGOUT_TOKEN" -H 'Content-Type: text/plain'
    expect_refused_400 backchannel_content_type || return 1
    post_logout "" && expect_refused_400 backchannel_no_token || return 1
    # Twice the parameter: refused, never "the first one".
    BODY=$(curl -sS -w '\n%{http_code}' --data "logout_token=a&logout_token=b" "$BCL_URL")
    CODE=${BODY##*$'\n'} BODY=${BODY%$'\n'*}
    expect_refused_400 backchannel_no_token || return 1
    # Only POST, only on its path; the callback path takes no POST.
    [ "$(curl -sS -o /dev/null -w '%{http_code}' "$BCL_URL")" = 404 ] || fail "GET answered" ||
        return 1
    [ "$(curl -sS -o /dev/null -w '%{http_code}' --data x=y "${BCL_URL%/*}/callback")" = 405 ] ||
        fail "POST /callback answered" || return 1
    # A body over 32 KiB is read to its end but not kept: 400.
    post_logout "$(head -c 40000 /dev/zero | tr '\0' a)"
    [ "$CODE" = 400 ] && grep -q "body too large" <<<"$BODY" || fail "HTTP $CODE: $BODY" ||
        return 1
    # Past four times the cap the connection is dropped without an answer.
    CODE=$(head -c 200000 /dev/zero | tr '\0' a | curl -s -o /dev/null -w '%{http_code}' \
        --data-binary @- -H 'Content-Type: application/x-www-form-urlencoded' "$BCL_URL")
    [ "$CODE" = 000 ] || fail "an oversized body got HTTP $CODE" || return 1
    [ ! -s "$LOGIND_CALLS" ] || fail "logind was called: $(cat "$LOGIND_CALLS")" || return 1
    # The valid token still works afterwards.
    post_logout "$LOGOUT_TOKEN"
    [ "$CODE" = 200 ] || fail "HTTP $CODE: $BODY" || return 1
    session_call CloseSession s "$TICKET"
}

# A session opened without a logind id is ended at the provider but cannot be locked: said so.
backchannel_no_logind_session() {
    open_session "" || return 1
    backchannel_url || return 1
    mint_logout sub_only || return 1
    post_logout "$LOGOUT_TOKEN"
    [ "$CODE" = 200 ] || fail "HTTP $CODE: $BODY" || return 1
    local i
    for ((i = 0; i < 30; i++)); do
        grep -qF 'PSC_REASON="backchannel_no_logind_session"' "$AUTHD_LOG" && break
        sleep 0.1
    done
    grep -qF 'PSC_REASON="backchannel_no_logind_session"' "$AUTHD_LOG" ||
        fail "not audited as unlockable" || return 1
    session_call CloseSession s "$TICKET"
}

# backchannel_logout_action = terminate; a token naming only the person (sub) ends each of her
# sessions.
backchannel_terminate() {
    stack_config_extra <<EOF
[callback]
backchannel_logout_action = terminate

[service:psc-code]
flows = code
EOF
    restart_daemon
    : >"$LOGIND_CALLS"
    open_session c31 || return 1
    local first=$TICKET
    open_session c32 || return 1
    backchannel_url || return 1
    mint_logout sub_only || return 1
    post_logout "$LOGOUT_TOKEN"
    [ "$CODE" = 200 ] || fail "HTTP $CODE: $BODY" || return 1
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(wc -l <"$LOGIND_CALLS")" = 2 ] && break
        sleep 0.1
    done
    grep -qx "TerminateSession c31" "$LOGIND_CALLS" && grep -qx "TerminateSession c32" "$LOGIND_CALLS" ||
        fail "logind calls: $(cat "$LOGIND_CALLS")" || return 1
    session_call CloseSession s "$first"
    session_call CloseSession s "$TICKET"
}

# The provider rotated its signing key: the first logout token with the new kid waits for one
# JWKS refetch and ends the session. Rotated again within jwks_refetch_interval: no refetch is
# allowed yet, so it is refused at once (jws_unknown_kid). A refetch that fails refuses the token
# with the fetch's reason and nothing is done; the next one, past the interval, is honoured.
backchannel_key_rotation() {
    open_session c51 || return 1
    backchannel_url || return 1
    : >"$LOGIND_CALLS"
    sleep 1.2 # past [limits] jwks_refetch_interval = 1 s since the last JWKS fetch
    local before i
    before=$(mock_requests certs)
    mint_logout rotate_key && post_logout "$LOGOUT_TOKEN" || return 1
    [ "$CODE" = 200 ] || fail "the first token after the rotation: HTTP $CODE: $BODY" || return 1
    [ "$(mock_requests certs)" = $((before + 1)) ] || fail "not one JWKS refetch" || return 1
    for ((i = 0; i < 50; i++)); do
        grep -qx "LockSession c51" "$LOGIND_CALLS" && break
        sleep 0.1
    done
    grep -qx "LockSession c51" "$LOGIND_CALLS" || fail "logind was not asked" || return 1
    : >"$LOGIND_CALLS"
    # A second rotation at once: refused without waiting, and no fetch.
    mint_logout rotate_key && post_logout "$LOGOUT_TOKEN" && expect_refused_400 jws_unknown_kid ||
        return 1
    [ "$(mock_requests certs)" = $((before + 1)) ] || fail "a refetch within the interval" ||
        return 1
    # Past the interval the provider's keys cannot be fetched: the fetch's reason, nothing done.
    sleep 1.2
    mock_control '{"fault":"http_503","scope":"next","endpoint":"certs"}' >/dev/null || return 1
    post_logout "$LOGOUT_TOKEN" && expect_refused_400 http_status || return 1
    sleep 0.3
    [ ! -s "$LOGIND_CALLS" ] || fail "acted on a refused token: $(cat "$LOGIND_CALLS")" || return 1
    sleep 1.2
    post_logout "$LOGOUT_TOKEN"
    [ "$CODE" = 200 ] || fail "after a good refetch: HTTP $CODE: $BODY" || return 1
    session_call CloseSession s "$TICKET"
}

# A provider without end_session_endpoint (the fourth stack's mock-psc): pscctl logout says so
# for the session and exits 1; the session stays open and can be closed.
logout_no_endpoint() {
    open_session c41 || return 1
    ctl logout claire
    expect 1 "logout_no_endpoint" || return 1
    session_call CloseSession s "$TICKET"
    [ "$RC" = 0 ] || fail "CloseSession: $OUT"
}

# backchannel_logout_action = none (the default): the path is not served (501).
backchannel_disabled() {
    backchannel_url || return 1
    post_logout "x.y.z"
    [ "$CODE" = 501 ] || fail "HTTP $CODE, expected 501: $BODY"
}

stack_init
stack_map "$STACK_MEDECIN claire" "$STACK_STUDENT lucas" "$STACK_PHARMACIEN sophie" \
    "810000000002 root"
stack_config_extra <<EOF
[service:psc-ciba]
flows = ciba

[service:psc-code]
flows = code
EOF
stack_start --ciba-interval 1
stack_wait_ready
run_some_cases jwks_refresh_rate_limited jwks_refresh_refused_non_root status_with_daemon \
    introspection_matches_xml status_json status_colour_only_on_terminal sessions_root_lists_pending sessions_refused_non_root map_mapped_idnat map_unmapped_idnat \
    sessions_json sessions_json_refused map_system_account map_json map_bad_idnat \
    discover_mock_psc discover_json \
    login_ciba_approved login_ciba_on_terminal login_ciba_json login_refused_json \
    login_code_pasted login_unknown_service_flow_refused sessions_open_list_logout sessions_refused \
    logout_provider_error \
    status_config_changed status_without_daemon
stack_stop

# A second stack whose refresh rate limit is 1 s: a refresh after it is allowed.
stack_init
stack_config_extra <<EOF
[limits]
jwks_refetch_interval = 1s
EOF
stack_start
stack_wait_ready
run_cases jwks_refresh_ok status_provider_failure status_provider_not_ready
stack_stop

# A third stack: mock-psc encrypts ID tokens and signed UserInfo (RSA-OAEP-256, A256GCM) to a
# key the test made, kid rp-enc-1; the daemon decrypts with the JWK form of that key.
make_decryption_key || fail "cannot make the decryption key"
stack_init
trap 'stack_stop; rm -rf "$ENC_DIR"' EXIT
trap 'stack_stop; rm -rf "$ENC_DIR"' EXIT
stack_config_extra <<EOF
[provider]
id_token_decryption_key = $ENC_DIR/enc.jwk

[service:psc-code]
flows = code
EOF
stack_start --encrypt-to "$ENC_DIR/enc.pub.pem" --encrypt-kid rp-enc-1
stack_wait_ready
run_some_cases encrypted_login_logout encrypted_wrong_kid encrypted_bad_tag encrypted_unsigned \
    encrypted_without_key backchannel_disabled
stack_stop
rm -rf "$ENC_DIR"

# A fourth stack: back-channel logout with a stand-in logind on the bus; this provider has no
# end_session_endpoint.
stack_init
stack_config_extra <<EOF
[callback]
backchannel_logout_action = lock

[service:psc-code]
flows = code

[limits]
jwks_refetch_interval = 1s
EOF
stack_start --no-end-session
stack_wait_ready
trap 'kill "${LOGIND_PID:-}" 2>/dev/null; stack_stop' EXIT
start_fake_logind
run_cases backchannel_lock backchannel_refusals backchannel_no_logind_session \
    backchannel_key_rotation backchannel_terminate logout_no_endpoint
kill "$LOGIND_PID" 2>/dev/null
