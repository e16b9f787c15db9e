#!/usr/bin/env bash
# Regenerates the test certificates: a cluster CA, one node certificate it
# signs, and a rogue CA with a certificate the cluster must refuse.
# Valid for 100 years, so the committed files do not expire under the tests.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
make_ca() {  # name
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1-ca.key" -out "$1-ca.pem" \
    -days "$days" -subj "/CN=plexus test $1 CA" 2>/dev/null
}
make_cert() {  # ca name
  openssl req -newkey rsa:2048 -nodes -keyout "$2.key" -out "$2.csr" \
    -subj "/CN=plexus test $2" 2>/dev/null
  openssl x509 -req -in "$2.csr" -CA "$1-ca.pem" -CAkey "$1-ca.key" -CAcreateserial \
    -out "$2.pem" -days "$days" 2>/dev/null
  rm -f "$2.csr"
}
make_ca cluster
make_cert cluster node
make_ca rogue
make_cert rogue intruder
rm -f ./*.srl cluster-ca.key rogue-ca.key
