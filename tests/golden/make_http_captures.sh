#!/usr/bin/env bash
# make_http_captures.sh OUTDIR [PORT]: loopback HTTP/1.x captures for the
# p0f golden comparison (run_golden.sh). Needs root (tcpdump on lo),
# python3, and whichever of curl, wget, nghttp are installed; a missing
# client is skipped. Each client fetches a few paths from
# `python3 -m http.server` on 127.0.0.1:PORT (and [::1]:PORT+1), one capture
# per client: OUTDIR/http-<client>.pcap.
set -euo pipefail

out="${1:?usage: make_http_captures.sh OUTDIR [PORT]}"
port="${2:-18080}"
port6=$((port + 1))
mkdir -p "$out"
root="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$root"
}
trap cleanup EXIT

printf 'hello\n' >"$root/index.html"
printf 'body\n' >"$root/a.txt"
(cd "$root" && exec /usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
pids+=($!)
(cd "$root" && exec /usr/bin/python3 -m http.server "$port6" --bind ::1 >/dev/null 2>&1) &
pids+=($!)
sleep 1

capture() {  # NAME CMD...: runs CMD while tcpdump records both ports.
  local name=$1; shift
  local file="$out/http-$name.pcap"
  tcpdump -i lo -U -s 65535 -w "$file" "tcp port $port or tcp port $port6" >/dev/null 2>&1 &
  local tpid=$!
  sleep 1
  "$@" >/dev/null 2>&1 || true
  sleep 1
  kill "$tpid"
  wait "$tpid" 2>/dev/null || true
  echo "$file"
}

urls=("http://127.0.0.1:$port/" "http://127.0.0.1:$port/a.txt" "http://[::1]:$port6/a.txt")

if command -v curl >/dev/null; then
  capture curl bash -c "for u in ${urls[*]}; do curl -s -o /dev/null \"\$u\"; curl -s -I -o /dev/null \"\$u\"; done; curl -s -o /dev/null -H 'Accept-Language: de-DE' -A 'Mozilla/5.0 (Windows NT 10.0) Firefox/120.0' ${urls[0]}; curl -s -o /dev/null -H 'Via: 1.1 proxy' ${urls[1]}"
fi
if command -v wget >/dev/null; then
  capture wget bash -c "for u in ${urls[*]}; do wget -q -O /dev/null \"\$u\"; done"
fi
if command -v nghttp >/dev/null; then
  capture nghttp bash -c "for u in ${urls[*]}; do nghttp -u \"\$u\"; done"
fi
capture python /usr/bin/python3 - "$port" "$port6" <<'PY'
import http.client, sys
port, port6 = int(sys.argv[1]), int(sys.argv[2])
for host, p in (("127.0.0.1", port), ("::1", port6)):
    for method, path, headers in (("GET", "/", {}), ("HEAD", "/a.txt", {}),
                                  ("GET", "/a.txt", {"Accept-Language": "fr", "User-Agent": "python-test/1.0"}),
                                  ("POST", "/", {})):
        c = http.client.HTTPConnection(host, p, timeout=5)
        try:
            c.request(method, path, body=b"x" if method == "POST" else None, headers=headers)
            c.getresponse().read()
        except Exception:
            pass
        c.close()
PY
