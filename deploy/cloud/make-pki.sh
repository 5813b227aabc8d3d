#!/bin/sh
# Demo PKI for the cloud broker, made with the openssl CLI:
#   DIR/ca.pem, ca.key          the CA (EC P-256, 10 years)
#   DIR/server.pem, server.key  the cloud broker's certificate, with a DNS
#                               subjectAltName for every NAME (default localhost)
#   DIR/ca.b64                  base64 -w0 of ca.pem: the value of
#                               mqtt_cloud_broker_ca_cert_b64 in user-config.json
# Usage: make-pki.sh DIR [NAME...]
# For production use your own CA; keep ca.key off the broker.
set -eu
dir=${1:?usage: make-pki.sh DIR [NAME...]}
shift
[ $# -gt 0 ] || set -- localhost
mkdir -p "$dir"
san=""
for n in "$@"; do san="${san:+$san,}DNS:$n"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
	-keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=dmqtt demo CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
	-keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=$1" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" >"$dir/server.ext"
openssl x509 -req -sha256 -days 825 -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
	-CAcreateserial -out "$dir/server.pem" -extfile "$dir/server.ext" 2>/dev/null
rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
chmod 600 "$dir/ca.key" "$dir/server.key"
base64 -w0 "$dir/ca.pem" >"$dir/ca.b64"
echo "CA: $dir/ca.pem  server certificate for: $*"
