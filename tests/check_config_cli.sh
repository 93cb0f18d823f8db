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
unset https_proxy HTTPS_PROXY no_proxy NO_PROXY

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

# jrun NAME EXPECTED_RC ARGS... : check-config --json; standard output only (must be one JSON
# document) in $out.
jrun() {
    local name=$1 want=$2 rc=0
    shift 2
    out=$("$pscctl" check-config --json "$@" 2>/dev/null) || rc=$?
    [ "$rc" = "$want" ] || fail "$name: exit $rc, expected $want: $out"
}

jexpect() { # NAME PYTHON_EXPR...: each holds for d, the document in $out
    local name=$1
    shift
    python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
for e in sys.argv[1:]:
    if not eval(e):
        sys.exit("does not hold: %s\n%s" % (e, json.dumps(d, indent=1)))' "$@" <<<"$out" ||
        fail "$name (--json)"
}

expect_line() { # NAME LINE: $out must contain LINE exactly
    if ! grep -qxF -- "$2" <<<"$out"; then
        fail "$1: missing line: $2"
        printf '%s\n' "$out"
    fi
}

# pscctl --version names the release; the bash completion offers every command.
want_version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$examples/../meson.build")
[ "$("$pscctl" --version)" = "pscctl $want_version" ] || fail "--version: $("$pscctl" --version)"
completion=$(cd "$(dirname "$0")/../ctl" && pwd)/pscctl.bash-completion
words=$(bash -c 'source "$1"; COMP_WORDS=(pscctl ""); COMP_CWORD=1; _pscctl; echo "${COMPREPLY[*]}"' \
    _ "$completion")
for c in $("$pscctl" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
    grep -qw -- "$c" <<<"$words" || fail "completion lacks the command $c"
done

# One client certificate and key for every site (generated now), a PAM directory with the services
# the configurations name, and a map whose account exists on every Debian system (nobody).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj /CN=psc-login-test -keyout "$tmp/client.key" -out "$tmp/client.crt" 2>/dev/null
mkdir -p "$tmp/pam.d"
for svc in sshd sudo login; do printf 'auth required pam_deny.so\n' >"$tmp/pam.d/$svc"; done

site() { # DIR: a fresh config dir with a secret, the client key and certificate, a map
    mkdir -p "$1"
    printf 's3cr3t-value\n' >"$1/client_secret"
    cp "$tmp/client.key" "$tmp/client.crt" "$1/"
    printf '810001234567 nobody\n' >"$1/users.map"
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
[mapping]
map_file = $d/users.map
[service:sshd]
flows = ciba code
CONF
run valid 0 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line valid "OK"
expect_line valid "profile: generic"
expect_line valid "issuer: https://idp.example.org/realms/x"
expect_line valid "token_auth_method: client_secret_basic"
expect_line valid "service sshd: flows ciba code, timeout 180s, ciba_channel MOBILE"
if grep -q s3cr3t <<<"$out"; then fail "valid: the secret was printed"; fi
expect_line valid "map_file $d/users.map: 1 account(s)"
expect_line valid "proxy: none (direct)"
jrun valid_json 0 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
jexpect valid_json 'd["valid"] is True and d["problems"] == []' \
    'd["summary"]["issuer"] == "https://idp.example.org/realms/x"' \
    'd["summary"]["token_auth_method"] == "client_secret_basic"' \
    '[s["name"] for s in d["summary"]["services"]] == ["(default)", "sshd"]' \
    'd["summary"]["services"][1]["flows"] == ["ciba", "code"]' \
    'd["summary"]["proxy"] is None' 'any("1 account(s)" in n for n in d["notes"])'
if grep -q s3cr3t <<<"$out"; then fail "valid_json: the secret was printed"; fi
# The proxy from the environment, as psc-authd takes it, and said where it came from.
export HTTPS_PROXY=proxy.chu.example:3128 no_proxy=.chu.example
run proxy_env 0 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line proxy_env "proxy: http://proxy.chu.example:3128 (from environment variable HTTPS_PROXY), not for: loopback .chu.example"
export HTTPS_PROXY=http://user:secret@proxy.chu.example:3128
run proxy_env_credentials 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line proxy_env_credentials "environment: environment variable HTTPS_PROXY must not carry a user name or password: let the proxy accept this host's address instead"
if grep -q secret <<<"$out"; then fail "proxy_env_credentials: the password was printed"; fi
unset HTTPS_PROXY no_proxy
run valid_service 0 --config="$d/psc-login.conf" --service=sshd --pam-dir="$tmp/pam.d"
expect_line valid_service "service sshd: flows ciba code, timeout 180s, ciba_channel MOBILE"
if grep -q "service (default)" <<<"$out"; then fail "valid_service: printed other services"; fi
# The same without a PAM service "sshd": its rules would never apply.
run no_pam_service 1 --config "$d/psc-login.conf" --pam-dir "$tmp"
expect_line no_pam_service "$d/psc-login.conf:7: [service:sshd] names no PAM service: $tmp/sshd does not exist, so these settings never apply (a typo?)"

# --- a misspelt key or section is an error, never a dropped rule
d=$tmp/unknown
site "$d"
cat >"$d/psc-login.conf" <<CONF
[provider]
issuer = https://idp.example.org/realms/x
client_id = psc-login
client_secret_file = $d/client_secret
[mapping]
deny_categorie = E
[mappings]
flows = ciba
CONF
run unknown 1 --config "$d/psc-login.conf"
expect_line unknown "$d/psc-login.conf:6: unknown key \"deny_categorie\" in [mapping] (see psc-login.conf(5) for the keys of each section)"
expect_line unknown "$d/psc-login.conf:7: unknown section [mappings] (expected provider, callback, login, mapping, limits or service:NAME)"

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
jrun invalid_json 1 --config "$d/psc-login.conf"
jexpect invalid_json 'd["valid"] is False and "summary" not in d' \
    '{"severity": "error", "where": "'"$d"'/psc-login.conf:6", "reason": "unknown_value", "message": "unknown value \"maybe\" for acr_missing (expected accept or reject)"} in d["problems"]' \
    'any(p["where"] == "'"$d"'/psc-login.conf.d/10-sshd.conf:2" for p in d["problems"])'

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

# --- the map file: a missing account is an error; a repeated line and a system account warn
d=$tmp/map
site "$d"
printf '810001234567 nobody\n810001234567 nobody\n810009999999 no-such-account\n810008888888 root\n' \
    >"$d/users.map"
printf '[provider]\nissuer = https://idp.example.org\nclient_id = x\nclient_secret_file = %s\n[mapping]\nmap_file = %s\n' \
    "$d/client_secret" "$d/users.map" >"$d/psc-login.conf"
run map_checks 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line map_checks "$d/users.map: \"no-such-account\" has no local account: create it, or remove its line"
expect_line map_checks "$d/users.map: warning: \"root\" is a system account: psc-login will not manage it unless allow_system_users lists it"
expect_line map_checks "warning: $d/users.map:2: 810001234567 nobody is already mapped (the repeated line is ignored)"
jrun map_checks_json 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
jexpect map_checks_json 'd["valid"] is False' \
    'any(p["severity"] == "error" and p["reason"] == "map_user_missing" for p in d["problems"])' \
    'any(p["severity"] == "warning" and p["reason"] == "map_system_user" for p in d["problems"])'
printf '810001234567 nobody\n810009999999\n' >"$d/users.map"
run map_syntax 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line map_syntax "$d/users.map:2: expected \"IDNAT localuser\", found only \"810009999999\""
chmod 666 "$d/users.map"
run map_mode 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
if ! grep -q "map_file\|users.map.*writable" <<<"$out"; then fail "map_mode: no mode error"; printf '%s\n' "$out"; fi

# --- the client certificate and key (mTLS): encrypted, mismatched, expiring soon; the CA file
d=$tmp/tls
site "$d"
tls_conf() { # KEY CERT [CA]
    cat >"$d/psc-login.conf" <<CONF
[provider]
profile = psc-sandbox
client_id = psc-login
tls_client_cert = $2
tls_client_key = $1
${3:+ca_file = $3}
[mapping]
map_file = $d/users.map
CONF
}
tls_conf "$d/client.key" "$d/client.crt"
run tls_ok 0 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line tls_ok "client certificate: CN=psc-login-test, issued by CN=psc-login-test, valid until $(date -u -d "$(openssl x509 -in "$d/client.crt" -noout -enddate | cut -d= -f2)" '+%Y-%m-%d %H:%M UTC')"
openssl pkey -in "$d/client.key" -aes256 -passout pass:secret -out "$d/enc.key" 2>/dev/null
chmod 600 "$d/enc.key"
tls_conf "$d/enc.key" "$d/client.crt"
run tls_encrypted 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d" </dev/null
expect_line tls_encrypted "$d/enc.key is encrypted with a passphrase, which psc-authd cannot ask for: write it unencrypted (openssl pkey -in $d/enc.key -out NEW.key), chmod 600, owned by root"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/other.key" 2>/dev/null
chmod 600 "$d/other.key"
tls_conf "$d/other.key" "$d/client.crt"
run tls_mismatch 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line tls_mismatch "$d/other.key is not the private key of the certificate $d/client.crt"
openssl req -x509 -key "$d/client.key" -days 10 -subj /CN=soon -out "$d/soon.crt" 2>/dev/null
tls_conf "$d/client.key" "$d/soon.crt"
run tls_expiring 0 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
if ! grep -q "^warning: $d/soon.crt expires on .* (in [0-9]* day(s)): renew it with the ANS now\$" <<<"$out"; then
    fail "tls_expiring: no warning"; printf '%s\n' "$out"
fi
printf 'not a certificate\n' >"$d/ca.pem"
tls_conf "$d/client.key" "$d/client.crt" "$d/ca.pem"
run ca_invalid 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line ca_invalid "$d/ca.pem is not a file of PEM certificates"

# --- id_token_decryption_key: parsed as psc-authd will, its kid(s) noted; a public key is an error
d=$tmp/dec
site "$d"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/enc.pem" 2>/dev/null
python3 "$(dirname "$0")/support/pem-to-jwk.py" "$d/enc.pem" rp-enc-1 >"$d/enc.jwk"
openssl pkey -in "$d/enc.pem" -pubout -out "$d/enc.pub.pem"
chmod 600 "$d/enc.pem" "$d/enc.jwk" "$d/enc.pub.pem"
dec_conf() { # KEY_FILE [EXTRA]
    printf '[provider]\nissuer = https://idp.example.org/realms/x\nclient_id = psc-login\n' \
        >"$d/psc-login.conf"
    printf 'client_secret_file = %s\nid_token_decryption_key = %s\n%s[mapping]\nmap_file = %s\n' \
        "$d/client_secret" "$1" "${2:-}" "$d/users.map" >>"$d/psc-login.conf"
}
dec_conf "$d/enc.jwk"
run decryption_key 0 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line decryption_key "id_token_decryption_key: $d/enc.jwk (RSA-OAEP RSA-OAEP-256)"
expect_line decryption_key "ID token decryption key(s): kid rp-enc-1 (RSA 2048)"
dec_conf "$d/enc.pem" 'id_token_decryption_algs = RSA-OAEP RSA1_5
'
run decryption_key_pem 0 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line decryption_key_pem "id_token_decryption_key: $d/enc.pem (RSA-OAEP RSA1_5)"
expect_line decryption_key_pem "ID token decryption key(s): no kid (RSA 2048)"
dec_conf "$d/enc.pub.pem"
run decryption_key_public 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
grep -q "jwe_key_format\|not an unencrypted PEM private key" <<<"$out" ||
    fail "decryption_key_public: $out"
chmod 644 "$d/enc.pem"
dec_conf "$d/enc.pem"
run decryption_key_readable 1 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
grep -q "id_token_decryption_key" <<<"$out" || fail "decryption_key_readable: $out"

# --- the shipped examples, with their key paths pointed at temp files by a drop-in
d=$tmp/example-psc
site "$d"
cp "$examples/psc-login.conf" "$d/psc-login.conf"
mkdir -p "$d/psc-login.conf.d"
printf '[provider]\ntls_client_cert = %s\ntls_client_key = %s\n[mapping]\nmap_file = %s\n' \
    "$d/client.crt" "$d/client.key" "$d/users.map" >"$d/psc-login.conf.d/90-test.conf"
run example_psc 0 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line example_psc "profile: psc-sandbox"
expect_line example_psc "service sshd: flows ciba code, timeout 180s, ciba_channel MOBILE, professions 10 21 60, deny categories E"
if grep -q warning <<<"$out"; then fail "example_psc: warnings"; printf '%s\n' "$out"; fi

d=$tmp/example-generic
site "$d"
cp "$d/client.crt" "$d/ca.pem"
cp "$examples/psc-login-generic.conf" "$d/psc-login.conf"
chmod 644 "$d/ca.pem"
mkdir -p "$d/psc-login.conf.d"
printf '[provider]\nclient_secret_file = %s\nca_file = %s\n' "$d/client_secret" "$d/ca.pem" \
    >"$d/psc-login.conf.d/90-test.conf"
run example_generic 0 --config "$d/psc-login.conf" --pam-dir "$tmp/pam.d"
expect_line example_generic "profile: generic"
if grep -q warning <<<"$out"; then fail "example_generic: warnings"; printf '%s\n' "$out"; fi

if [ "$failures" != 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all check-config tests passed"
