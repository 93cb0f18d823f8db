# shellcheck shell=bash
# A whole psc-login stack on loopback, for shell tests and the demo: mock-psc (TLS, port 0), a
# private dbus-daemon whose config includes the project's own policy file, and the real psc-authd
# with a generated configuration and map file. Test accounts come from nss_wrapper
# (tests/data/nss/passwd): claire 1001, lucas 1002, sophie 1003.
#
# Source it, then:
#   stack_init                        temp dir $STACK_DIR (mode 0755, so test users reach the bus),
#                                     cleanup of everything on EXIT
#   stack_map "IDNAT user" ...        map file lines (default: médecin→claire, student→lucas,
#                                     pharmacien→sophie)
#   stack_config_extra <<EOF          a drop-in (psc-login.conf.d/50-test.conf) read after the
#   [login]                           generated config; call before stack_start
#   EOF
#   stack_start [mock-psc args...]    mock-psc, bus, psc-authd; exports DBUS_SYSTEM_BUS_ADDRESS;
#                                     returns once the daemon owns its name: call stack_wait_ready
#                                     before the first login
#   stack_busctl ARGS...              busctl on the private bus
#   mock_control JSON                 POST to mock-psc's control endpoint (faults, CIBA scripts)
#   mock_requests ENDPOINT            how many requests mock-psc answered on ENDPOINT
#   browser_approve URL IDNAT [MODE]  the scripted browser approves at the mock wallet as IDNAT
#                                     (MODE CARD|MOBILE) and prints the address it is sent back to,
#                                     without visiting it (what a user pastes back)
#   browser_login URL IDNAT [MODE]    the same, then visits that address (the daemon's listener);
#                                     the page lands in $STACK_DIR/callback-page.html
#   browser_form_approve URL IDNAT [MODE [ACTION]]
#                                     the same as browser_approve, but as a user would: loads the
#                                     wallet's login page and posts its form (idNat typed in, MODE
#                                     CARD|MOBILE ticked, ACTION approve|cancel pressed)
#   browser_form_login URL IDNAT [MODE [ACTION]]
#                                     browser_form_approve, then visits the address (as browser_login)
#   stack_wait_ready                  waits (10 s) until psc-authd has loaded the provider (its
#                                     ProviderReady property)
#   stack_stop_mock                   stops mock-psc (the provider goes down; the stack stays, and
#                                     psc-authd may be restarted: its CA and client certificate are
#                                     kept in $STACK_DIR)
#   stack_stop_daemon / stack_start_daemon
#   stack_stop                        stops everything, removes $STACK_DIR (also run on EXIT)
#
# STACK_NO_MAP_FILE=1: the generated config names no map_file (a drop-in sets another source).
# STACK_CURL_ARGS: extra arguments for every curl that talks to mock-psc (the scripted browser,
# mock_control), e.g. --resolve for a mock started with --public-host.
#
# After stack_start: MOCK_BASE_URL MOCK_ISSUER MOCK_DISCOVERY_URL MOCK_CA_FILE MOCK_CLIENT_ID
# MOCK_CLIENT_SECRET MOCK_CLIENT_CERT MOCK_CLIENT_KEY MOCK_CONTROL_URL MOCK_CONTROL_TOKEN MOCK_PID,
# AUTHD_PID, AUTHD_LOG (psc-authd's stderr), MOCK_LOG, BUS_PID, PSC_CONFIG, PSC_MAP_FILE,
# NSS_WRAPPER_PASSWD/GROUP (exported, without LD_PRELOAD: add it where a process needs the users).
#
# Binaries: $PSC_AUTHD and $MOCK_PSC (meson passes them), else $PSC_BUILD_DIR (default build/).

PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PSC_BUILD_DIR=${PSC_BUILD_DIR:-$PSC_SOURCE_ROOT/build}
PSC_AUTHD=${PSC_AUTHD:-$PSC_BUILD_DIR/daemon/psc-authd}
MOCK_PSC=${MOCK_PSC:-$PSC_BUILD_DIR/tests/mock-psc/mock-psc}
export NSS_WRAPPER_PASSWD=${NSS_WRAPPER_PASSWD:-$PSC_SOURCE_ROOT/tests/data/nss/passwd}
export NSS_WRAPPER_GROUP=${NSS_WRAPPER_GROUP:-$PSC_SOURCE_ROOT/tests/data/nss/group}
# Sanitizer builds: nss_wrapper is preloaded ahead of ASan's runtime in the daemon and the test
# clients, which ASan refuses unless told it is fine — whatever else the caller asked for (meson
# sets ASAN_OPTIONS itself when the environment has none).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
# libldap resolves even a numeric server address through getaddrinfo, which nss_wrapper forwards
# to a libc it dlopens with RTLD_DEEPBIND — refused by ASan. Without deep binding it is the same.
export NSS_WRAPPER_DISABLE_DEEPBIND=1

STACK_CURL_ARGS=()
STACK_MEDECIN=810001234567
STACK_PHARMACIEN=810002345678
STACK_STUDENT=899900045871

stack_die() {
    echo "psc-stack: $*" >&2
    for f in "${MOCK_LOG:-}" "${AUTHD_LOG:-}" "${STACK_DIR:-/nonexistent}/bus.log"; do
        [ -n "$f" ] && [ -s "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}

stack_init() {
    STACK_DIR=$(mktemp -d /tmp/psc-stack.XXXXXX) || stack_die "mktemp failed"
    chmod 0755 "$STACK_DIR"
    mkdir -p "$STACK_DIR/psc-login.conf.d"
    PSC_CONFIG=$STACK_DIR/psc-login.conf
    PSC_MAP_FILE=$STACK_DIR/users.map
    stack_map "$STACK_MEDECIN claire" "$STACK_STUDENT lucas" "$STACK_PHARMACIEN sophie"
    trap stack_stop EXIT
}

stack_map() {
    printf '# test map (psc-stack.sh)\n' >"$PSC_MAP_FILE"
    printf '%s\n' "$@" >>"$PSC_MAP_FILE"
    chmod 0644 "$PSC_MAP_FILE"
}

stack_config_extra() {
    cat >"$STACK_DIR/psc-login.conf.d/50-test.conf"
    chmod 0644 "$STACK_DIR/psc-login.conf.d/50-test.conf"
}

# One string member of mock-psc's one-line JSON state (values carry no quotes or escapes).
stack_json_get() {
    sed -n "s/.*\"$2\":\"\\([^\"]*\\)\".*/\\1/p" "$1"
}

stack_start_mock() {
    MOCK_LOG=$STACK_DIR/mock-psc.log
    : >"$MOCK_LOG"
    local state=$STACK_DIR/mock-state.json
    "$MOCK_PSC" --state-file "$state" --exit-with-parent --redirect-loopback-any-port "$@" \
        >>"$MOCK_LOG" 2>&1 &
    MOCK_PID=$!
    local i
    for ((i = 0; i < 200; i++)); do
        [ -s "$state" ] && break
        kill -0 "$MOCK_PID" 2>/dev/null || stack_die "mock-psc exited at start"
        sleep 0.05
    done
    [ -s "$state" ] || stack_die "mock-psc did not start in 10 s"
    MOCK_BASE_URL=$(stack_json_get "$state" base_url)
    MOCK_ISSUER=$(stack_json_get "$state" issuer)
    MOCK_DISCOVERY_URL=$(stack_json_get "$state" discovery_url)
    MOCK_CA_FILE=$(stack_json_get "$state" ca_file)
    MOCK_CLIENT_ID=$(stack_json_get "$state" client_id)
    MOCK_CLIENT_SECRET=$(stack_json_get "$state" client_secret)
    MOCK_CLIENT_CERT=$(stack_json_get "$state" client_cert)
    MOCK_CLIENT_KEY=$(stack_json_get "$state" client_key)
    MOCK_CONTROL_URL=$(stack_json_get "$state" control_url)
    MOCK_CONTROL_TOKEN=$(stack_json_get "$state" control_token)
}

# The PSC sandbox profile pointed at mock-psc, with mTLS as PSC requires.
stack_write_config() {
    cat >"$PSC_CONFIG" <<EOF
# Generated by tests/support/psc-stack.sh
[provider]
profile = psc-sandbox
issuer = $MOCK_ISSUER
discovery_url = $MOCK_DISCOVERY_URL
client_id = $MOCK_CLIENT_ID
token_auth_method = tls_client_auth
tls_client_cert = $MOCK_CLIENT_CERT
tls_client_key = $MOCK_CLIENT_KEY
ca_file = $MOCK_CA_FILE
id_token_algs = RS256

[callback]
callback_listen = 127.0.0.1:0

[login]
timeout = 60

[mapping]
${STACK_NO_MAP_FILE:+# (mapping from the drop-in) }map_file = $PSC_MAP_FILE
EOF
    chmod 0644 "$PSC_CONFIG"
    printf '%s\n' "$MOCK_CLIENT_SECRET" >"$STACK_DIR/client_secret"
    chmod 0600 "$STACK_DIR/client_secret"
}

stack_start_bus() {
    sed -e "s|@LISTEN@|unix:path=$STACK_DIR/bus|" \
        -e "s|@POLICY@|$PSC_SOURCE_ROOT/systemd/org.psclogin.Auth1.conf|" \
        "$PSC_SOURCE_ROOT/tests/dbus/system-bus.conf.in" >"$STACK_DIR/bus.conf"
    : >"$STACK_DIR/bus.log"
    # The bus looks up each connecting uid (its groups, for the policy's user rules): without the
    # test accounts it drops every non-root connection right after authentication.
    LD_PRELOAD=libnss_wrapper.so \
        dbus-daemon --config-file="$STACK_DIR/bus.conf" --nofork >>"$STACK_DIR/bus.log" 2>&1 &
    BUS_PID=$!
    local i
    for ((i = 0; i < 200; i++)); do
        [ -S "$STACK_DIR/bus" ] && break
        kill -0 "$BUS_PID" 2>/dev/null || stack_die "dbus-daemon exited at start"
        sleep 0.05
    done
    [ -S "$STACK_DIR/bus" ] || stack_die "dbus-daemon did not start in 10 s"
    export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$STACK_DIR/bus
}

stack_busctl() {
    busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" "$@"
}

# psc-authd with the test accounts (nss_wrapper). Host names are never resolved (numeric 127.0.0.1
# everywhere), which keeps nss_wrapper's resolver hooks out of ASan builds.
stack_start_daemon() {
    AUTHD_LOG=$STACK_DIR/psc-authd.log
    : >>"$AUTHD_LOG"
    LD_PRELOAD=libnss_wrapper.so \
        "$PSC_AUTHD" --config "$PSC_CONFIG" "$@" >>"$AUTHD_LOG" 2>&1 &
    AUTHD_PID=$!
    local i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$AUTHD_PID" 2>/dev/null || stack_die "psc-authd exited at start"
        if stack_busctl --timeout=2 get-property org.psclogin.Auth1 /org/psclogin/Auth1 \
            org.psclogin.Auth1 Version >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.05
    done
    stack_die "psc-authd did not own org.psclogin.Auth1 in 10 s"
}

# Until discovery and JWKS are loaded logins fail provider_not_ready: the ProviderReady property
# says when they are.
stack_wait_ready() {
    local i out
    for ((i = 0; i < 100; i++)); do
        out=$(stack_busctl --timeout=5 get-property org.psclogin.Auth1 /org/psclogin/Auth1 \
            org.psclogin.Auth1 ProviderReady 2>&1) || stack_die "ProviderReady: $out"
        [ "$out" = "b true" ] && return 0
        sleep 0.1
    done
    stack_die "psc-authd did not load the provider in 10 s"
}

# mock-psc removes its CA and client certificate when it stops; the daemon's configuration names
# them, so they are kept (copied into $STACK_DIR, config rewritten) for a daemon (re)started while
# the provider is down.
stack_stop_mock() {
    [ -n "${MOCK_PID:-}" ] || return 0
    mkdir -p "$STACK_DIR/provider-keep"
    cp -p "$MOCK_CA_FILE" "$MOCK_CLIENT_CERT" "$MOCK_CLIENT_KEY" "$STACK_DIR/provider-keep/"
    MOCK_CA_FILE=$STACK_DIR/provider-keep/$(basename "$MOCK_CA_FILE")
    MOCK_CLIENT_CERT=$STACK_DIR/provider-keep/$(basename "$MOCK_CLIENT_CERT")
    MOCK_CLIENT_KEY=$STACK_DIR/provider-keep/$(basename "$MOCK_CLIENT_KEY")
    stack_write_config
    kill -TERM "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
    MOCK_PID=""
    return 0
}

stack_stop_daemon() {
    if [ -n "${AUTHD_PID:-}" ]; then
        kill -TERM "$AUTHD_PID" 2>/dev/null && wait "$AUTHD_PID" 2>/dev/null
        AUTHD_PID=""
    fi
    return 0
}

stack_start() {
    stack_start_mock "$@"
    stack_write_config
    stack_start_bus
    stack_start_daemon
}

stack_stop() {
    local pid
    stack_stop_daemon
    for pid in "${BUS_PID:-}" "${MOCK_PID:-}"; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    BUS_PID="" MOCK_PID=""
    [ -n "${STACK_DIR:-}" ] && [ -d "$STACK_DIR" ] && rm -rf "$STACK_DIR"
    STACK_DIR=""
    return 0
}

mock_control() {
    curl -sS "${STACK_CURL_ARGS[@]}" --cacert "$MOCK_CA_FILE" -H "Authorization: Bearer $MOCK_CONTROL_TOKEN" \
        -H 'Content-Type: application/json' --data "$1" "$MOCK_CONTROL_URL"
}

# How many requests mock-psc has answered on ENDPOINT (ciba, token, userinfo, ...).
mock_requests() {
    mock_control '{"log":true}' | grep -o "\"endpoint\":\"$1\"" | wc -l
}

browser_approve() {
    local url=$1 idnat=$2 mode=${3:-}
    local extra="&mock_approve=$idnat"
    [ -n "$mode" ] && extra="$extra&mock_auth_mode=$mode"
    curl -sS "${STACK_CURL_ARGS[@]}" --cacert "$MOCK_CA_FILE" -o /dev/null -w '%{redirect_url}' "$url$extra"
}

browser_login() {
    local back
    back=$(browser_approve "$@") || return 1
    [ -n "$back" ] || { echo "psc-stack: the wallet did not redirect" >&2; return 1; }
    curl -sS -o "$STACK_DIR/callback-page.html" -w '%{http_code}' "$back"
}

# The wallet's login page (tests/mock-psc/login_page.cpp) holds one form: a hidden `login`, the
# `idnat` text field, the `auth_mode` radio buttons and the `action` buttons. Nothing else of the
# page is assumed, and the form is posted where its `action` attribute says.
browser_form_approve() {
    local url=$1 idnat=$2 mode=${3:-CARD} action=${4:-approve}
    local page=$STACK_DIR/wallet-page.html target login
    curl -sS "${STACK_CURL_ARGS[@]}" --cacert "$MOCK_CA_FILE" -o "$page" "$url" || return 1
    target=$(sed -n 's/.*<form method="post" action="\([^"]*\)".*/\1/p' "$page")
    login=$(sed -n 's/.*<input type="hidden" name="login" value="\([^"]*\)".*/\1/p' "$page")
    if [ -z "$target" ] || [ -z "$login" ]; then
        echo "psc-stack: no login form on the wallet page" >&2
        return 1
    fi
    case $target in /*) target=$MOCK_BASE_URL$target ;; esac
    curl -sS "${STACK_CURL_ARGS[@]}" --cacert "$MOCK_CA_FILE" -o /dev/null -w '%{redirect_url}' \
        --data-urlencode "login=$login" --data-urlencode "idnat=$idnat" \
        --data-urlencode "auth_mode=$mode" --data-urlencode "action=$action" "$target"
}

browser_form_login() {
    local back
    back=$(browser_form_approve "$@") || return 1
    [ -n "$back" ] || { echo "psc-stack: the wallet did not redirect" >&2; return 1; }
    curl -sS -o "$STACK_DIR/callback-page.html" -w '%{http_code}' "$back"
}
