#!/bin/bash
# The outbound proxy: a provider that only a real HTTP CONNECT proxy (Debian's tinyproxy, on a
# loopback port) can reach. mock-psc listens on 127.0.0.1 but names itself psc.proxied.test in
# every URL and in its certificate; only the proxy resolves that name (nss_wrapper's hosts file),
# and it tunnels to the mock's port alone. Through it: discovery, JWKS, a code login with the
# token exchange under mTLS (the tunnel keeps TLS end to end, client certificate included) and
# extra_auth_params on the authorization request, a CIBA login, and the proxy taken from the
# environment. Without it (no_proxy naming the provider), with the proxy refusing the tunnel, or
# with the proxy down, the provider is unreachable: Unavailable with the transport's reason.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

PROXY_HOST=psc.proxied.test
PROXY_PID=""
PROXY_PORT=""
TINYPROXY=${TINYPROXY:-tinyproxy}

# proxy_start ALLOWED_PORT: tinyproxy that tunnels (CONNECT) to ALLOWED_PORT only. tinyproxy needs
# a fixed port: a free one is picked, and picked again if another process took it meanwhile.
proxy_start() {
    local i j port
    printf '127.0.0.1 %s\n' "$PROXY_HOST" >"$STACK_DIR/proxy-hosts"
    for ((i = 0; i < 5; i++)); do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        cat >"$STACK_DIR/tinyproxy.conf" <<EOF
Port $port
Listen 127.0.0.1
Timeout 30
MaxClients 64
LogLevel Info
ConnectPort $1
EOF
        # As root tinyproxy insists on dropping privileges.
        [ "$(id -u)" = 0 ] && printf 'User nobody\nGroup nogroup\n' >>"$STACK_DIR/tinyproxy.conf"
        : >"$STACK_DIR/proxy.log"
        env -u NSS_WRAPPER_PASSWD -u NSS_WRAPPER_GROUP LD_PRELOAD=libnss_wrapper.so \
            NSS_WRAPPER_HOSTS="$STACK_DIR/proxy-hosts" \
            "$TINYPROXY" -d -c "$STACK_DIR/tinyproxy.conf" >>"$STACK_DIR/proxy.log" 2>&1 &
        PROXY_PID=$!
        for ((j = 0; j < 100; j++)); do
            if grep -q 'Accepting connections' "$STACK_DIR/proxy.log"; then
                PROXY_PORT=$port
                return 0
            fi
            kill -0 "$PROXY_PID" 2>/dev/null || break
            sleep 0.05
        done
        proxy_stop
    done
    stack_die "tinyproxy did not start: $(tail -n 5 "$STACK_DIR/proxy.log")"
}

proxy_stop() {
    [ -n "$PROXY_PID" ] || return 0
    kill -TERM "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=""
    return 0
}

# How many tunnels to the provider the proxy has opened.
proxy_tunnels() {
    grep -c "CONNECT $PROXY_HOST:" "$STACK_DIR/proxy.log"
}

# The drop-in that points psc-authd at the proxy; $1: extra lines for [provider].
proxy_config() {
    stack_config_extra <<EOF
[provider]
https_proxy = http://127.0.0.1:$PROXY_PORT
extra_auth_params = kc_idp_hint=psc-proxied
$1

[service:psc-ciba]
flows = ciba
EOF
}

# Polls (5 s) until StartLogin is refused for WHY: the first provider fetch may still be running.
wait_not_ready() {
    local i
    for ((i = 0; i < 25; i++)); do
        expect_not_ready "$1" 2>/dev/null && { client_close; return 0; }
        client_close
        sleep 0.2
    done
    expect_not_ready "$1"
}

proxy_provider_loaded() {
    local n
    n=$(proxy_tunnels)
    [ "$n" -ge 1 ] || fail "discovery and JWKS did not go through the proxy ($n tunnels)"
}

proxy_code_login_mtls() {
    local before after status
    before=$(proxy_tunnels)
    must_start claire login code || return 1
    case $URL in
    "https://$PROXY_HOST:"*) ;;
    *) fail "the wallet address does not name the proxied provider: $URL" || return 1 ;;
    esac
    case $URL in
    *"&kc_idp_hint=psc-proxied"*) ;;
    *) fail "extra_auth_params missing from the authorization request: $URL" || return 1 ;;
    esac
    status=$(browser_login "$URL" "$STACK_MEDECIN") || return 1
    [ "$status" = 200 ] || fail "callback answered $status" || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 || return 1
    after=$(proxy_tunnels)
    [ "$after" -gt "$before" ] || fail "the token exchange did not go through the proxy" || return 1
    [ "$(mock_requests token)" -ge 1 ] || fail "mock-psc saw no token request"
}

# (The tunnel opened for the token exchange may carry these requests too: the count of tunnels
# need not grow. The provider has no other way in: see proxy_bypassed_unreachable.)
proxy_ciba_login() {
    must_start claire psc-ciba ciba || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 MOBILE || return 1
    [ "$(mock_requests ciba)" -ge 1 ] || fail "mock-psc saw no CIBA request"
}

# no_proxy naming the provider: psc-authd connects directly and cannot even resolve the name.
proxy_bypassed_unreachable() {
    # Connecting directly means resolving the name in psc-authd, where nss_wrapper (preloaded for
    # the test accounts) dlopens libc with RTLD_DEEPBIND, which a sanitizer runtime refuses.
    if ldd "$PSC_AUTHD" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        skip "sanitizer build: psc-authd cannot resolve names under nss_wrapper; the plain build runs it"
        return 1
    fi
    proxy_config "no_proxy = $PROXY_HOST"
    stack_stop_daemon
    stack_start_daemon
    wait_not_ready http_connect
}

# A proxy that does not tunnel to the provider's port answers CONNECT with 403.
proxy_refuses_tunnel() {
    proxy_stop
    proxy_start 1
    proxy_config ""
    stack_stop_daemon
    stack_start_daemon
    wait_not_ready http_proxy || return 1
    # The journal has the whole story (the bus error is capped at 200 characters).
    grep -q 'discovery document could not be loaded: http_proxy: .*the proxy refused to open a tunnel (HTTP 403 to CONNECT)' "$AUTHD_LOG" ||
        fail "the log does not say the proxy refused: $(grep -m1 http_proxy "$AUTHD_LOG")"
}

proxy_down() {
    proxy_stop
    stack_stop_daemon
    stack_start_daemon
    wait_not_ready http_proxy
}

# No https_proxy key: psc-authd takes HTTPS_PROXY from its environment (a systemd drop-in's
# Environment=), and logs in through it.
proxy_from_environment() {
    proxy_start "$MOCK_PORT"
    stack_config_extra <<EOF
[service:psc-ciba]
flows = ciba
EOF
    stack_stop_daemon
    export HTTPS_PROXY=127.0.0.1:$PROXY_PORT
    stack_start_daemon
    unset HTTPS_PROXY
    stack_wait_ready
    must_start claire psc-ciba ciba || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 MOBILE
}

stack_init
stack_start_mock --public-host "$PROXY_HOST" --ciba-interval 1
MOCK_PORT=${MOCK_BASE_URL##*:}
STACK_CURL_ARGS=(--resolve "$PROXY_HOST:$MOCK_PORT:127.0.0.1")
proxy_start "$MOCK_PORT"
trap 'proxy_stop; stack_stop' EXIT
stack_write_config
proxy_config ""
stack_start_bus
stack_start_daemon
stack_wait_ready
run_cases proxy_provider_loaded proxy_code_login_mtls proxy_ciba_login \
    proxy_bypassed_unreachable proxy_refuses_tunnel proxy_down proxy_from_environment \
    daemon_exit_clean
