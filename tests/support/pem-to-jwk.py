#!/usr/bin/env python3
"""pem-to-jwk.py KEY.pem KID > KEY.jwk: an RSA private key as a private JWK (RFC 7518 §6.3),
with the standard library and the openssl command only (tests: a decryption key with a kid)."""
import base64
import json
import re
import subprocess
import sys

text = subprocess.run(["openssl", "rsa", "-in", sys.argv[1], "-noout", "-text"],
                      check=True, capture_output=True, text=True).stdout
names = {"modulus": "n", "privateExponent": "d", "prime1": "p", "prime2": "q",
         "exponent1": "dp", "exponent2": "dq", "coefficient": "qi"}
jwk = {"kty": "RSA", "kid": sys.argv[2], "use": "enc"}
current = None
hexdigits = ""
for line in text.splitlines() + ["end:"]:
    m = re.match(r"^(\w+):", line)
    if m:
        if current:
            value = bytes.fromhex(hexdigits).lstrip(b"\0")
            jwk[names[current]] = base64.urlsafe_b64encode(value).rstrip(b"=").decode()
        current = m.group(1) if m.group(1) in names else None
        hexdigits = ""
        e = re.match(r"^publicExponent: (\d+)", line)
        if e:
            n = int(e.group(1))
            jwk["e"] = base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")) \
                .rstrip(b"=").decode()
    elif current:
        hexdigits += line.strip().replace(":", "")
json.dump(jwk, sys.stdout)
print()
