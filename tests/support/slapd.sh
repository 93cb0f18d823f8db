# shellcheck shell=bash
# A real OpenLDAP slapd on loopback for the directory-mapping tests: a test CA and server
# certificate made now, a schema with the idNat attribute (pscIdNat), a read-only bind account,
# people loaded with slapadd, StartTLS on ldap:// and TLS on ldaps://. Nothing outside $1.
#
#   slapd_setup DIR LDIF     config + data in DIR (CA in DIR/ca.pem, bind password in
#                            DIR/bind.pw mode 0600); LDIF: the entries under ou=people
#   slapd_start              starts it; SLAPD_URI (ldap://127.0.0.1:P), SLAPD_LDAPS_URI, SLAPD_PID
#   slapd_stop               stops it (and waits)
#   slapd_pause / slapd_resume   SIGSTOP / SIGCONT: connections are accepted, nothing answers
#
# Base dc=hopital,dc=test; bind DN cn=psc-login,ou=services,dc=hopital,dc=test.
SLAPD_BASE=dc=hopital,dc=test
SLAPD_BIND_DN=cn=psc-login,ou=services,$SLAPD_BASE
SLAPD=${SLAPD:-/usr/sbin/slapd}
SLAPADD=${SLAPADD:-/usr/sbin/slapadd}

slapd_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

slapd_setup() {
    SLAPD_DIR=$1
    local ldif=$2
    mkdir -p "$SLAPD_DIR/db" || return 1
    # Test CA and a server certificate for 127.0.0.1 and localhost.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=psc-login test directory CA" -keyout "$SLAPD_DIR/ca.key" \
        -out "$SLAPD_DIR/ca.pem" 2>/dev/null || return 1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$SLAPD_DIR/server.key" -out "$SLAPD_DIR/server.csr" 2>/dev/null || return 1
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' \
        >"$SLAPD_DIR/ext.cnf"
    openssl x509 -req -in "$SLAPD_DIR/server.csr" -CA "$SLAPD_DIR/ca.pem" \
        -CAkey "$SLAPD_DIR/ca.key" -CAcreateserial -days 2 -extfile "$SLAPD_DIR/ext.cnf" \
        -out "$SLAPD_DIR/server.pem" 2>/dev/null || return 1
    # A second, unrelated CA: a client trusting it must refuse this server.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=another CA" -keyout "$SLAPD_DIR/other-ca.key" \
        -out "$SLAPD_DIR/other-ca.pem" 2>/dev/null || return 1
    chmod 0644 "$SLAPD_DIR"/*.pem
    chmod 0600 "$SLAPD_DIR"/*.key

    printf 'directory-test-%s' "$RANDOM$RANDOM" >"$SLAPD_DIR/bind.pw"
    chmod 0600 "$SLAPD_DIR/bind.pw"
    local pw hash
    pw=$(head -n1 "$SLAPD_DIR/bind.pw")
    hash=$(/usr/sbin/slappasswd -s "$pw") || return 1

    cat >"$SLAPD_DIR/psc.schema" <<'EOF'
# The national health identifier (idNat) of a health professional, for psc-login's tests.
attributetype ( 1.3.6.1.4.1.4203.666.11.9.1 NAME 'pscIdNat'
    DESC 'Pro Sante Connect idNat'
    EQUALITY caseExactMatch SUBSTR caseExactSubstringsMatch
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{64} )
objectclass ( 1.3.6.1.4.1.4203.666.11.9.2 NAME 'pscProfessional' AUXILIARY
    MAY pscIdNat )
EOF
    cat >"$SLAPD_DIR/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include $SLAPD_DIR/psc.schema
pidfile $SLAPD_DIR/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile $SLAPD_DIR/ca.pem
TLSCertificateFile $SLAPD_DIR/server.pem
TLSCertificateKeyFile $SLAPD_DIR/server.key
disallow bind_anon
database mdb
maxsize 16777216
suffix "$SLAPD_BASE"
rootdn "cn=admin,$SLAPD_BASE"
directory $SLAPD_DIR/db
index pscIdNat eq
index uid eq
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="$SLAPD_BIND_DN" read by * none
EOF
    {
        cat <<EOF
dn: $SLAPD_BASE
objectClass: dcObject
objectClass: organization
o: Hopital test
dc: hopital

dn: ou=services,$SLAPD_BASE
objectClass: organizationalUnit
ou: services

dn: $SLAPD_BIND_DN
objectClass: person
objectClass: simpleSecurityObject
cn: psc-login
sn: psc-login
userPassword: $hash

dn: ou=people,$SLAPD_BASE
objectClass: organizationalUnit
ou: people

EOF
        cat "$ldif"
    } >"$SLAPD_DIR/data.ldif"
    "$SLAPADD" -q -f "$SLAPD_DIR/slapd.conf" -l "$SLAPD_DIR/data.ldif" \
        >"$SLAPD_DIR/slapadd.log" 2>&1 || { cat "$SLAPD_DIR/slapadd.log" >&2; return 1; }
    SLAPD_PORT=$(slapd_free_port) && SLAPD_LDAPS_PORT=$(slapd_free_port) || return 1
    SLAPD_URI=ldap://127.0.0.1:$SLAPD_PORT
    SLAPD_LDAPS_URI=ldaps://127.0.0.1:$SLAPD_LDAPS_PORT
}

slapd_start() {
    rm -f "$SLAPD_DIR/slapd.pid"
    # -d 0: in the foreground (a child of this shell), logging nothing.
    "$SLAPD" -d 0 -f "$SLAPD_DIR/slapd.conf" -h "$SLAPD_URI/ $SLAPD_LDAPS_URI/" \
        >"$SLAPD_DIR/slapd.log" 2>&1 &
    SLAPD_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        if LDAPTLS_CACERT=$SLAPD_DIR/ca.pem ldapwhoami -x -ZZ -H "$SLAPD_URI" \
            -D "$SLAPD_BIND_DN" -y "$SLAPD_DIR/bind.pw" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$SLAPD_PID" 2>/dev/null || { cat "$SLAPD_DIR/slapd.log" >&2; return 1; }
        sleep 0.1
    done
    echo "slapd did not answer in 10 s" >&2
    return 1
}

slapd_stop() {
    [ -n "${SLAPD_PID:-}" ] || return 0
    kill -CONT "$SLAPD_PID" 2>/dev/null
    kill "$SLAPD_PID" 2>/dev/null
    wait "$SLAPD_PID" 2>/dev/null
    SLAPD_PID=""
}

slapd_pause() { kill -STOP "$SLAPD_PID"; }
slapd_resume() { kill -CONT "$SLAPD_PID"; }
