#!/bin/bash
# Black-box test of `pscctl check-config`: exit codes, "file:line: message" output, the summary,
# and that the shipped examples pass (their key paths pointed at temp files by a drop-in).
set -euo pipefail

pscctl=${PSC_PSCCTL:?PSC_PSCCTL must name the pscctl binary}
examples=$(cd "$(dirname "$0")/../examples" && pwd)
tmp=$(mktemp -d /tmp/psc-test-check-config-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
umask 022
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run NAME EXPECTED_RC ARGS... : runs check-config, keeps stdout+stderr in $out.
run() {
    local name=$1 want=$2 rc=0
    shift 2
    out=$("$pscctl" check-config "$@" 2>&1) || rc=$?
    if [ "$rc" != "$want" ]; then
        fail "$name: exit $rc, expected $want"
        printf '%s\n' "$out"
    fi
}

expect_line() { # NAME LINE: $out must contain LINE exactly
    if ! grep -qxF -- "$2" <<<"$out"; then
        fail "$1: missing line: $2"
        printf '%s\n' "$out"
    fi
}

site() { # DIR: a fresh config dir with a secret and key files
    mkdir -p "$1"
    printf 's3cr3t-value\n' >"$1/client_secret"
    printf -- '-----BEGIN PRIVATE KEY-----\n' >"$1/client.key"
    printf -- '-----BEGIN CERTIFICATE-----\n' >"$1/client.crt"
    chmod 600 "$1/client_secret" "$1/client.key"
}

# --- bad usage: exit 2
run usage_unknown_option 2 --frobnicate
run usage_missing_value 2 --config
run usage_bad_service 2 --service 'ss hd'
run help 0 --help

# --- a valid config: OK and a summary, never the secret
d=$tmp/ok
site "$d"
cat >"$d/psc-login.conf" <<CONF
[provider]
issuer = https://idp.example.org/realms/x
client_id = psc-login
client_secret_file = $d/client_secret
colour = blue
[service:sshd]
flows = ciba code
CONF
run valid 0 --config "$d/psc-login.conf"
expect_line valid "OK"
expect_line valid "profile: generic"
expect_line valid "issuer: https://idp.example.org/realms/x"
expect_line valid "token_auth_method: client_secret_basic"
expect_line valid "service sshd: flows ciba code, timeout 180s, ciba_channel MOBILE"
expect_line valid "$d/psc-login.conf:5: warning: unknown key \"colour\" in [provider]"
if grep -q s3cr3t <<<"$out"; then fail "valid: the secret was printed"; fi
run valid_service 0 --config="$d/psc-login.conf" --service=sshd
expect_line valid_service "service sshd: flows ciba code, timeout 180s, ciba_channel MOBILE"
if grep -q "service (default)" <<<"$out"; then fail "valid_service: printed other services"; fi

# --- errors: exit 1, every error as file:line: message
d=$tmp/bad
site "$d"
cat >"$d/psc-login.conf" <<CONF
[provider]
profile = psc-sandbox
client_id = psc-login
tls_client_cert = $d/client.crt
tls_client_key = $d/client.key
acr_missing = maybe
[login]
timeout = 5
CONF
mkdir -p "$d/psc-login.conf.d"
printf '[service:sshd]\nciba_channel = SMS\n' >"$d/psc-login.conf.d/10-sshd.conf"
run invalid 1 --config "$d/psc-login.conf"
expect_line invalid "$d/psc-login.conf:6: unknown value \"maybe\" for acr_missing (expected accept or reject)"
expect_line invalid "$d/psc-login.conf:8: timeout = \"5\" is out of range [10s, 3600s]"
expect_line invalid "$d/psc-login.conf.d/10-sshd.conf:2: unknown value \"SMS\" for ciba_channel (expected MOBILE or CARD)"
if grep -q "^OK" <<<"$out"; then fail "invalid: printed OK"; fi

# --- cross-key error points at the key's line
d=$tmp/device
site "$d"
cat >"$d/psc-login.conf" <<CONF
[provider]
profile = psc-production
client_id = psc-login
tls_client_cert = $d/client.crt
tls_client_key = $d/client.key
[service:sshd]
flows = ciba device
CONF
run psc_device 1 --config "$d/psc-login.conf"
expect_line psc_device "$d/psc-login.conf:7: flow \"device\" is not offered by Pro Santé Connect (profile psc-production); use code or ciba"

# --- secret readable by others: refused with the fix
d=$tmp/mode
site "$d"
chmod 644 "$d/client_secret"
printf '[provider]\nissuer = https://idp.example.org\nclient_id = x\nclient_secret_file = %s\n' \
    "$d/client_secret" >"$d/psc-login.conf"
run secret_mode 1 --config "$d/psc-login.conf"
expect_line secret_mode "$d/psc-login.conf:4: client_secret_file: \"$d/client_secret\" is accessible by group or others; run: chmod 600 $d/client_secret"

# --- symlinked config and missing config
ln -s "$tmp/ok/psc-login.conf" "$tmp/link.conf"
run symlink 1 --config "$tmp/link.conf"
expect_line symlink "$tmp/link.conf: is a symbolic link"
run missing 1 --config "$tmp/none.conf"
expect_line missing "$tmp/none.conf: No such file or directory"

# --- the shipped examples, with their key paths pointed at temp files by a drop-in
d=$tmp/example-psc
site "$d"
cp "$examples/psc-login.conf" "$d/psc-login.conf"
mkdir -p "$d/psc-login.conf.d"
printf '[provider]\ntls_client_cert = %s\ntls_client_key = %s\n' "$d/client.crt" "$d/client.key" \
    >"$d/psc-login.conf.d/90-test.conf"
run example_psc 0 --config "$d/psc-login.conf"
expect_line example_psc "profile: psc-sandbox"
expect_line example_psc "service sshd: flows ciba code, timeout 180s, ciba_channel MOBILE, professions 10 21 60, deny categories E"
if grep -q warning <<<"$out"; then fail "example_psc: warnings"; printf '%s\n' "$out"; fi

d=$tmp/example-generic
site "$d"
cp "$d/client.crt" "$d/ca.pem"
cp "$examples/psc-login-generic.conf" "$d/psc-login.conf"
mkdir -p "$d/psc-login.conf.d"
printf '[provider]\nclient_secret_file = %s\nca_file = %s\n' "$d/client_secret" "$d/ca.pem" \
    >"$d/psc-login.conf.d/90-test.conf"
run example_generic 0 --config "$d/psc-login.conf"
expect_line example_generic "profile: generic"
if grep -q warning <<<"$out"; then fail "example_generic: warnings"; printf '%s\n' "$out"; fi

if [ "$failures" != 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all check-config tests passed"
