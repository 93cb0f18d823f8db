#!/bin/bash
# The provider unreachable or wrong (design §3, fail closed): a discovery URL that answers 404
# (discovery_not_found), the provider going down between StartLogin and the callback (the token
# exchange fails), and the daemon started while the provider is down. Every one ends in
# org.psclogin.Auth1.Error.Unavailable with the transport's reason, the daemon keeps answering on
# the bus, and nothing is accepted.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

provider_wrong_discovery_url() {
    printf '[provider]\ndiscovery_url = %s/.well-known/no-such-document\n' "$MOCK_ISSUER" \
        >"$STACK_DIR/psc-login.conf.d/60-wrong-url.conf"
    chmod 0644 "$STACK_DIR/psc-login.conf.d/60-wrong-url.conf"
    stack_stop_daemon
    stack_start_daemon
    sleep 1 # the first (failing) discovery fetch
    local rc=0
    expect_not_ready discovery_not_found || rc=1
    client_close
    rm -f "$STACK_DIR/psc-login.conf.d/60-wrong-url.conf"
    stack_restart_daemon
    return $rc
}

# RefreshProvider (root, pscctl's future `jwks refresh`). The start-up fetch counts against the
# JWKS rate limit (jwks_refetch_interval), so a refresh right after start is refused Busy; with a
# 1 s interval it fetches again, and a second call within the interval is refused by the bus layer.
refresh() {
    stack_busctl call org.psclogin.Auth1 /org/psclogin/Auth1 org.psclogin.Auth1 RefreshProvider 2>&1
}
provider_admin_refresh() {
    local out rc=0
    out=$(refresh) && { fail "refresh right after start accepted"; return 1; }
    case $out in *jwks_rate_limited*) ;; *) fail "not refused by the JWKS limit: $out"; return 1 ;; esac
    printf '[limits]\njwks_refetch_interval = 1s\n' >"$STACK_DIR/psc-login.conf.d/60-refresh.conf"
    chmod 0644 "$STACK_DIR/psc-login.conf.d/60-refresh.conf"
    stack_restart_daemon
    sleep 1.2
    out=$(refresh) || { fail "RefreshProvider failed: $out"; rc=1; }
    if [ $rc = 0 ]; then
        out=$(refresh) && { fail "a second refresh within the interval was accepted"; rc=1; }
        case $out in *refresh_rate_limited* | *jwks_rate_limited*) ;; *) fail "not rate-limited: $out"; rc=1 ;; esac
    fi
    [ $rc = 0 ] && { must_start claire login code || rc=1; }
    client_close
    rm -f "$STACK_DIR/psc-login.conf.d/60-refresh.conf"
    stack_restart_daemon
    return $rc
}

# The provider is fine at StartLogin and at the wallet, then gone when the daemon redeems the code.
provider_down_mid_login() {
    must_start claire login code || return 1
    local back
    back=$(browser_approve "$URL" "$STACK_MEDECIN") || return 1
    stack_stop_mock
    curl -sS -o "$STACK_DIR/callback-page.html" "$back" || return 1
    client_cmd "wait 20000" && expect_error Unavailable http_connect || return 1
    expect_audit_end "$LOGIN_ID" unavailable http_connect
}

# Needs the mock stopped (provider_down_mid_login ran first).
provider_down_at_start() {
    [ -z "${MOCK_PID:-}" ] || stack_stop_mock
    stack_stop_daemon
    stack_start_daemon
    sleep 1
    expect_not_ready http_connect || return 1
    client_close
    # Still on the bus, still refusing: the retry timer keeps failing closed.
    sleep 1
    expect_not_ready http_connect || return 1
    client_cmd "flows login" && expect_reply "flows code*"
}

stack_init
stack_start
stack_wait_ready
run_cases provider_admin_refresh provider_wrong_discovery_url provider_down_mid_login provider_down_at_start \
    daemon_exit_clean
