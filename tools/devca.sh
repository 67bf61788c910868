#!/bin/sh
# Creates a development certificate authority for mod_cnca with the openssl
# CLI: DIR/ca.crt (self-signed, 10 years) and DIR/ca.key (PKCS#8, mode 0600).
#
#   tools/devca.sh [KIND [DIR]]     KIND: ec (default, P-256) | rsa (2048) | sm2
#
# Does nothing when both files already exist; refuses to touch a directory
# that holds only one of them. Development and tests only: a production CA
# key is made and kept by the operator, never by this script.
set -eu

kind=${1:-ec}
dir=${2:-.}
subject="/C=CN/O=mod_cnca development CA/CN=mod_cnca Dev CA"
# GM/T 0009 default distinguishing ID; OpenSSL 3.0 does not set it by itself
distid=1234567812345678

die() {
    echo "devca.sh: $*" >&2
    exit 1
}

case $kind in
    ec) genopts="-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve"
        signopts="-sha256" ;;
    rsa) genopts="-algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:65537"
        signopts="-sha256" ;;
    sm2) genopts="-algorithm SM2"
        signopts="-sm3 -sigopt distid:$distid" ;;
    *) die "unknown KIND '$kind' (use ec, rsa or sm2)" ;;
esac

if [ -f "$dir/ca.crt" ] && [ -f "$dir/ca.key" ]; then
    exit 0
fi
if [ -e "$dir/ca.crt" ] || [ -e "$dir/ca.key" ]; then
    die "$dir holds only one of ca.crt and ca.key; remove it or restore the other"
fi
command -v openssl >/dev/null 2>&1 || die "the openssl command is not installed"
mkdir -p "$dir"

# Everything is made under temporary names and moved into place at the end,
# so an interrupted run leaves no half CA behind.
tmp="$dir/.devca.$$"
trap 'rm -f "$tmp.key" "$tmp.crt" "$tmp.cnf"' EXIT
trap 'exit 1' HUP INT TERM

cat >"$tmp.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
x509_extensions = v3_ca
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF

# genopts and signopts hold several words on purpose. req -x509 gives the
# certificate a random positive serial number.
# shellcheck disable=SC2086
(umask 077 && openssl genpkey -quiet $genopts -out "$tmp.key") ||
    die "openssl genpkey failed for KIND $kind"
# shellcheck disable=SC2086
openssl req -new -x509 -batch -config "$tmp.cnf" -key "$tmp.key" $signopts -days 3650 \
    -subj "$subject" -out "$tmp.crt" || die "openssl req -x509 failed for KIND $kind"
chmod 600 "$tmp.key"
chmod 644 "$tmp.crt"
mv "$tmp.key" "$dir/ca.key"
mv "$tmp.crt" "$dir/ca.crt"
echo "devca.sh: created $kind CA $dir/ca.crt and $dir/ca.key"
