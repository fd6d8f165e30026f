#!/usr/bin/env bash
# The etcd IPAM over TLS, against a real etcd member on 127.0.0.1 that asks every client for a
# certificate signed by its CA (https://, MVLAN_ETCD_CACERT, MVLAN_ETCD_CERT, MVLAN_ETCD_KEY):
# with the right files grants work and land in etcd; with a CA that did not sign the member's
# certificate, or without a client certificate, requests fail naming the cause and the setting
# to fix, and allocate nothing. Certificates are made here with openssl, valid for two days.
#
# Usage: tests/etcd/tls_test.sh MVLAN_BINARY      (exit 77: etcd, etcdctl or openssl missing)
set -euo pipefail
source "$(dirname "$0")/etcd_cluster.sh"

MVLAN=$(realpath "$1")
for tool in etcd etcdctl openssl curl; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool not installed" >&2; exit 77; }
done

dir=$(mktemp -d /tmp/mvlan-etcd-tls.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $1" >&2
  shift
  printf '      %s\n' "$@" >&2
  exit 1
}
ok() { echo "ok: $*"; }

step_certs() {
  cd "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=mvlan test CA" 2>/dev/null
  # A second CA that signed nothing here: "the wrong CA".
  openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 \
    -subj "/CN=another CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout member.key -out member.csr -subj "/CN=127.0.0.1" \
    2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >member.ext
  openssl x509 -req -in member.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out member.pem \
    -days 2 -extfile member.ext 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=mvlan" \
    2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >client.ext
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem \
    -days 2 -extfile client.ext 2>/dev/null
  cd - >/dev/null
}

step_certs
read -r client_port peer_port _ <<<"$(etcd_pick_ports)"
url=https://127.0.0.1:$client_port
etcd --name tls --data-dir "$dir/data" \
  --listen-client-urls "$url" --advertise-client-urls "$url" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "tls=http://127.0.0.1:$peer_port" \
  --cert-file "$dir/member.pem" --key-file "$dir/member.key" --trusted-ca-file "$dir/ca.pem" \
  --client-cert-auth >"$dir/etcd.log" 2>&1 &
pids+=($!)
ctl() { etcdctl --endpoints "$url" --cacert "$dir/ca.pem" --cert "$dir/client.pem" --key "$dir/client.key" "$@"; }
for _ in $(seq 100); do ctl endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
ctl endpoint health >/dev/null 2>&1 || fail "etcd with TLS did not become healthy" "$(tail -5 "$dir/etcd.log")"

PREFIX=/mvlan-tls/
# serve NAME ENV...: `mvlan serve` with the etcd backend and ENV, in $dir/NAME; waits for its socket.
serve() {
  local name=$1
  shift
  mkdir -p "$dir/$name"
  env MVLAN_IPAM_BACKEND=etcd MVLAN_ETCD_ENDPOINTS="$url" MVLAN_ETCD_PREFIX=$PREFIX \
    MVLAN_HOST_ID="$name" "$@" "$MVLAN" serve --socket "$dir/$name/mvlan.sock" \
    --state-dir "$dir/$name" >"$dir/$name/log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do [[ -S $dir/$name/mvlan.sock ]] && return 0; sleep 0.1; done
  fail "mvlan serve ($name) did not listen within 20 s" "$(cat "$dir/$name/log")"
}
post() { # NAME PATH JSON: the answer's body
  curl -s --max-time 30 --unix-socket "$dir/$1/mvlan.sock" -X POST "http://mvlan$2" -d "$3"
}
pool='{"AddressSpace":"LocalDefault","Pool":"203.0.113.0/24","SubPool":"","Options":{},"V6":false}'
addresses_in_etcd() { ctl get --prefix "${PREFIX}addr/" --keys-only | grep -c . || true; }

# ---- the right CA, certificate and key ----------------------------------------------------------
serve good MVLAN_ETCD_CACERT="$dir/ca.pem" MVLAN_ETCD_CERT="$dir/client.pem" \
  MVLAN_ETCD_KEY="$dir/client.key"
answer=$(post good /IpamDriver.RequestPool "$pool")
[[ $answer == *'"PoolID":"LocalDefault/203.0.113.0/24"'* ]] ||
  fail "RequestPool over TLS" "answer: $answer" "log: $(cat "$dir/good/log")"
ok "RequestPool over TLS with a client certificate"
answer=$(post good /IpamDriver.RequestAddress '{"PoolID":"LocalDefault/203.0.113.0/24","Address":"","Options":null}')
[[ $answer =~ \"Address\":\"(203\.0\.113\.[0-9]+)/24\" ]] || fail "RequestAddress over TLS" "answer: $answer"
granted=${BASH_REMATCH[1]}
ok "RequestAddress over TLS granted $granted"
[[ $(addresses_in_etcd) == 1 ]] || fail "etcd holds the grant" "keys: $(ctl get --prefix "${PREFIX}addr/" --keys-only)"
ok "etcd holds exactly that grant"
status=$(env MVLAN_IPAM_BACKEND=etcd MVLAN_ETCD_ENDPOINTS="$url" MVLAN_ETCD_PREFIX=$PREFIX \
  MVLAN_HOST_ID=good MVLAN_ETCD_CACERT="$dir/ca.pem" MVLAN_ETCD_CERT="$dir/client.pem" \
  MVLAN_ETCD_KEY="$dir/client.key" "$MVLAN" status --state-dir "$dir/good" 2>&1) ||
  fail "mvlan status over TLS" "$status"
grep -Eq "^ +$granted +[a-z]+ +good " <<<"$status" || fail "mvlan status shows the grant held by host good" "$status"
ok "mvlan status over TLS shows $granted held by host good"

# ---- a CA that did not sign the member's certificate --------------------------------------------
serve wrong-ca MVLAN_ETCD_CACERT="$dir/other-ca.pem" MVLAN_ETCD_CERT="$dir/client.pem" \
  MVLAN_ETCD_KEY="$dir/client.key"
answer=$(post wrong-ca /IpamDriver.RequestAddress '{"PoolID":"LocalDefault/203.0.113.0/24","Address":"","Options":null}')
for want in '"Err":' "TLS certificate is not trusted" "MVLAN_ETCD_CACERT $dir/other-ca.pem"; do
  [[ $answer == *"$want"* ]] || fail "with the wrong CA the error names it ($want)" "answer: $answer"
done
ok "with the wrong CA: $answer"

# ---- no client certificate ----------------------------------------------------------------------
serve no-cert MVLAN_ETCD_CACERT="$dir/ca.pem"
answer=$(post no-cert /IpamDriver.RequestAddress '{"PoolID":"LocalDefault/203.0.113.0/24","Address":"","Options":null}')
for want in '"Err":' "MVLAN_ETCD_CERT and MVLAN_ETCD_KEY"; do
  [[ $answer == *"$want"* ]] || fail "without a client certificate the error says which settings" "answer: $answer"
done
ok "without a client certificate: $answer"

[[ $(addresses_in_etcd) == 1 ]] || fail "the failed requests allocated nothing" "keys: $(ctl get --prefix "${PREFIX}addr/" --keys-only)"
ok "the failed requests allocated nothing (etcd holds the one grant)"
echo "PASS etcd TLS"
