#!/usr/bin/env bash
# Re-creates every test key and certificate in certs/ (TEST ONLY — never use in production).
#
# Running it again makes NEW random keys: every signed fixture under fixtures/tokens then has to
# be regenerated (fixtures/gen/gen.sh) and committed together with the new keys.
# Needs: openssl 3.x (Debian 12: OpenSSL 3.0). Run from the repository root: certs/make-certs.sh
set -euo pipefail
cd "$(dirname "$0")"

DAYS=7400   # creation date + 7400 days: valid until 2047 (the brief asks for >= 2045)

rsa_key() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$1.key"; }
ec_key()  { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1.key"; }
self_signed() { # name CN
  openssl req -x509 -new -key "$1.key" -sha256 -days "$DAYS" -subj "/CN=$2" -out "$1.pem"
}

# --- the issuers of the fixtures -------------------------------------------------------------
rsa_key idp-a 2048;     self_signed idp-a     fedrp-test-idp-a
rsa_key idp-b 2048;     self_signed idp-b     fedrp-test-idp-b
rsa_key attacker 2048;  self_signed attacker  fedrp-test-attacker
rsa_key idp-weak 1024;  self_signed idp-weak  fedrp-test-idp-weak
ec_key  idp-ec;         self_signed idp-ec    fedrp-test-idp-ec
rsa_key unrelated 2048; self_signed unrelated fedrp-test-unrelated
rsa_key rp-enc 2048;    self_signed rp-enc    fedrp-test-rp-enc

# --- the built-in development IdP of fedrp (`fedrp dev-idp`, `fedrp serve` dev setup) -----------
rsa_key dev-idp 2048;   self_signed dev-idp   fedrp-dev-idp

# --- the live IdPs of the end-to-end tests (tests/e2e.rs): one key per IdP entity -------------
# (SimpleSAMLphp and Node, each with the tenants k2, aad, sql)
for sw in ssp node; do
  for t in k2 aad sql; do rsa_key "idp-$sw-$t" 2048; self_signed "idp-$sw-$t" "fedrp-e2e-$sw-$t"; done
done

# --- local HTTPS -------------------------------------------------------------------------------
rsa_key rp-tls 2048
openssl req -x509 -new -key rp-tls.key -sha256 -days "$DAYS" -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
  -addext "extendedKeyUsage=serverAuth" -out rp-tls.pem

# --- K02: attacker key in a certificate cloned from idp-a (same subject, issuer, serial) --------
serial=$(openssl x509 -in idp-a.pem -noout -serial | cut -d= -f2)
openssl req -x509 -new -key attacker.key -sha256 -days "$DAYS" -subj "/CN=fedrp-test-idp-a" \
  -set_serial "0x$serial" -out attacker-clone-idp-a.pem

# --- K08: a test CA and a leaf issued by it (the "ChainTrust" trap) ----------------------------
rsa_key test-ca 2048
openssl req -x509 -new -key test-ca.key -sha256 -days "$DAYS" -subj "/CN=fedrp-test-ca" -out test-ca.pem
rsa_key idp-ca-leaf 2048
openssl req -new -key idp-ca-leaf.key -subj "/CN=fedrp-test-idp-ca-leaf" -out idp-ca-leaf.csr
openssl x509 -req -in idp-ca-leaf.csr -CA test-ca.pem -CAkey test-ca.key -set_serial 2 -sha256 \
  -days "$DAYS" -out idp-ca-leaf.pem
rm -f idp-ca-leaf.csr

# --- K11: certificates outside their validity at the fixtures' IssueInstant (2027-01-01) -------
# `openssl req -x509` (3.0) cannot set an arbitrary notBefore, so a throwaway `openssl ca` setup
# self-signs with explicit -startdate/-enddate.
ca_window() { # name CN start end
  local tmp; tmp=$(mktemp -d)
  touch "$tmp/index.txt"; echo 01 > "$tmp/serial"
  cat > "$tmp/ca.cnf" <<CNF
[ ca ]
default_ca = throwaway
[ throwaway ]
database = $tmp/index.txt
serial = $tmp/serial
new_certs_dir = $tmp
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
x509_extensions = ext
[ anything ]
commonName = supplied
[ ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
CNF
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$tmp/req.csr"
  openssl ca -batch -config "$tmp/ca.cnf" -selfsign -keyfile "$1.key" -in "$tmp/req.csr" \
    -startdate "$3" -enddate "$4" -notext -out "$1.pem"
  rm -rf "$tmp"
}
rsa_key idp-expired 2048
ca_window idp-expired fedrp-test-idp-expired 20250101000000Z 20260101000000Z
rsa_key idp-notyet 2048
ca_window idp-notyet fedrp-test-idp-notyet 20280101000000Z 20450101000000Z

# --- thumbprints -------------------------------------------------------------------------------
python3 thumbprints.py
echo "done; now update the table in certs/README.md and regenerate the fixtures"
