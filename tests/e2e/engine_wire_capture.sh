#!/bin/bash
# A tool, not a test (not registered with ctest): record what an engine sends mvlan on the wire for
# a plain network create + run + rm, an --internal network, and (engine 28) an IPv6-only network,
# and print it as one "METHOD BODY" line per request (bodies verbatim, in arrival order).
#
# Usage: tests/e2e/engine_wire_capture.sh --mvlan build/mvlan [--engine 20|28|29] [> capture.txt]
#   Needs strace: it attaches to the plugin (strace -f -e trace=read,recvfrom) and decodes the HTTP
#   requests from the socket reads. Compare two engines with
#   diff <(engine_wire_capture.sh --engine 20) <(engine_wire_capture.sh --engine 28).
source "$(dirname "$0")/lib.sh" "$@"

command -v strace >/dev/null || { echo "e2e: strace not found (package strace); skipped" >&2; exit 77; }
plugin_require

host_create h1
veth_parent h1 p0
engine_start h1
plugin_start h1

trace=$E2E_RUN/strace.txt
strace -f -qq -s 65535 -xx -e trace=read,recvfrom -e signal=none -p "${E2E_PLUGIN_PID[h1]}" -o "$trace" &
strace_pid=$!
_e2e_record pids "$strace_pid $(_e2e_starttime "$strace_pid") strace-h1"
sleep 1 # strace attaches asynchronously

mark() { curl -s -o /dev/null --max-time 2 --unix-socket "$(host_dir h1)/plugins/mvlan.sock" \
  --data-binary "{\"mark\":\"$1\"}" http://mvlan/Mark."$1" || true; }

mark plain
dk h1 network create -d mvlan --ipam-driver mvlan --subnet 192.0.2.0/24 --gateway 192.0.2.1 \
  --aux-address host=192.0.2.21 -o parent=p0 plain >/dev/null
dk h1 run -d --name c1 --network plain "$E2E_IMAGE" sleep 1d >/dev/null
dk h1 rm -f c1 >/dev/null
dk h1 network rm plain >/dev/null
mark internal
dk h1 network create -d mvlan --ipam-driver mvlan --internal --subnet 198.51.100.0/24 -o parent=p0 int1 >/dev/null
dk h1 run -d --name c2 --network int1 "$E2E_IMAGE" sleep 1d >/dev/null
dk h1 rm -f c2 >/dev/null
dk h1 network rm int1 >/dev/null
if [[ $E2E_ENGINE == 28 ]]; then
  mark v6only
  dk h1 network create -d mvlan --ipam-driver mvlan --ipv4=false --ipv6 --subnet 2001:db8:2::/64 \
    -o parent=p0 v6only >/dev/null
  dk h1 run -d --name c3 --network v6only "$E2E_IMAGE" sleep 1d >/dev/null
  dk h1 rm -f c3 >/dev/null
  dk h1 network rm v6only >/dev/null
fi
mark end
sleep 0.5
kill -INT "$strace_pid" 2>/dev/null || true
wait "$strace_pid" 2>/dev/null || true

# strace -xx prints every byte as \xNN: turn each read back into bytes, split into requests.
python3 - "$trace" <<'PY'
import re, sys
reqs, open_req = [], {}
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r'^(\d+)\s+(?:read|recvfrom)\((\d+), "((?:\\x[0-9a-f]{2})*)"(?:\.\.\.)?, \d+(?:, [^)]*)?\) = (\d+)', line)
    if not m or int(m.group(4)) == 0:
        continue
    fd = (m.group(1), m.group(2))
    raw = bytes.fromhex(m.group(3).replace("\\x", ""))
    if raw.startswith(b"POST "):
        r = {"buf": raw}
        reqs.append(r)
        open_req[fd] = r
    elif fd in open_req:
        open_req[fd]["buf"] += raw
for r in reqs:
    head, _, rest = r["buf"].partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    path = lines[0].split()[1]
    n = re.search(r'(?im)^content-length:\s*(\d+)', "\n".join(lines))
    body = rest[:int(n.group(1))] if n else b""
    if path.startswith("/Mark."):
        print("#### " + path[6:])
        continue
    print(path[1:], body.decode(errors="replace").strip() or "(empty)")
PY
