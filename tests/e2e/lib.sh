# shellcheck shell=bash disable=SC2034  # sets variables for the scripts that source it
# Shared helpers for the end-to-end tests; sourced, not run.
#
# Every test gets the binary under test from HUGINN_BIN (set by ctest) and
# reports with the usual ctest codes: 0 pass, 1 fail, 77 skip.

e2e_name=$(basename "${BASH_SOURCE[1]:-e2e}" .sh)
e2e_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() { echo "$e2e_name: FAIL: $*" >&2; exit 1; }
skip() { echo "$e2e_name: SKIP: $*" >&2; exit 77; }
note() { echo "$e2e_name: $*" >&2; }

require_bin() {
  [[ -n ${HUGINN_BIN:-} ]] || fail "HUGINN_BIN is not set"
  [[ -x $HUGINN_BIN ]] || fail "HUGINN_BIN=$HUGINN_BIN is not executable"
}

require_root() {
  [[ ${EUID:-$(id -u)} -eq 0 ]] || skip "needs root (live capture)"
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
  done
}

# make_workdir TAG: sets $work to a new temporary directory and pids=();
# at exit every PID in "${pids[@]}" is killed and reaped, then $work is
# removed.
make_workdir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/huginn-e2e-$1.XXXXXX")
  pids=()
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
}
e2e_cleanup() {
  local pid ns
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  if [[ ${HUGINN_E2E_KEEP:-0} == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
namespaces=()

# make_netns_pair TAG CLIENT4 CLIENT6 SERVER4 SERVER6: make_workdir TAG,
# then a client and a server namespace ($cns, $sns; named after TAG, this
# PID and a random number, so parallel runs cannot clash) joined by a veth
# pair created inside them (vc in $cns, vs in $sns) with those addresses
# (/24, /64, no DAD). At exit, after $pids, every process left in the
# namespaces is killed and the namespaces (with their qdiscs and nftables
# tables) are deleted. Skips when `ip netns` is unavailable.
make_netns_pair() {
  local tag="hg$1$$-$RANDOM" side ns dev a4 a6
  make_workdir "$1"
  cns="$tag-c"
  sns="$tag-s"
  ip netns add "$cns" 2>/dev/null || skip "ip netns unavailable"
  namespaces+=("$cns")
  ip netns add "$sns"
  namespaces+=("$sns")
  ip -n "$cns" link add vc type veth peer name vs netns "$sns"
  for side in "$cns vc $2 $3" "$sns vs $4 $5"; do
    read -r ns dev a4 a6 <<<"$side"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$dev" up
    ip -n "$ns" addr add "$a4/24" dev "$dev"
    ip -n "$ns" -6 addr add "$a6/64" dev "$dev" nodad
  done
}

# start_serve READY ARGS...: `$HUGINN_BIN serve ARGS...` in the background
# (output in $work/serve.stdout and .stderr, PID in $serve_pid and $pids);
# returns once the log has a "dashboard at READY" line (READY is a grep
# regex: wait for the listener logged last).
start_serve() {
  local ready=$1
  shift
  "$HUGINN_BIN" serve "$@" >"$work/serve.stdout" 2>"$work/serve.stderr" &
  serve_pid=$!
  pids+=("$serve_pid")
  poll_until 10 grep -qs "dashboard at $ready" "$work/serve.stderr" ||
    fail "serve did not start: $(cat "$work/serve.stderr")"
}

# served_port URL: the port serve logged for URL ("http://127\.0\.0\.1",
# "https://\[::1\]": sed regexes); fails when there is none.
served_port() {
  local p
  p=$(sed -n "s|.*dashboard at $1:\([0-9]*\)/.*|\1|p" "$work/serve.stderr" | head -n 1)
  [[ $p =~ ^[0-9]+$ ]] || fail "no port for $1 in: $(cat "$work/serve.stderr")"
  echo "$p"
}

# poll_until SECONDS CMD...: runs CMD every 50 ms until it succeeds.
poll_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# stop_within SECONDS PID SIGNAL: sends SIGNAL and reaps PID (a child of this
# shell: call it directly, not in $(...)), which must exit within SECONDS.
# Sets stop_status to its exit status; returns 1 (after SIGKILL) on timeout.
stop_within() {
  local limit=$1 pid=$2 sig=$3
  stop_status=0
  kill -"$sig" "$pid" 2>/dev/null || true
  local deadline_ms=$(( $(date +%s%3N) + limit * 1000 ))
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(date +%s%3N) >= deadline_ms )); then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 0.02
  done
  wait "$pid" || stop_status=$?
}

# start_http_server NS DIR LOG: a dual-stack (`--bind ::`) HTTP server on an
# ephemeral port, run inside network namespace NS ("" for the current one).
# Sets http_pid and http_port. `ip netns exec` execs, so the PID is Python's.
start_http_server() {
  local ns=$1 dir=$2 log=$3
  local -a prefix=()
  [[ -z $ns ]] || prefix=(ip netns exec "$ns")
  mkdir -p "$dir"
  echo "huginn e2e" >"$dir/index.html"
  "${prefix[@]}" /usr/bin/python3 -u -m http.server --bind :: --directory "$dir" 0 \
    >"$log" 2>&1 &
  http_pid=$!
  poll_until 10 grep -qs "port [0-9]" "$log" || fail "HTTP server did not start: $(cat "$log")"
  http_port=$(sed -n 's/.* port \([0-9]\+\).*/\1/p' "$log" | head -n 1)
  [[ $http_port =~ ^[0-9]+$ ]] || fail "cannot read the HTTP server's port: $(cat "$log")"
}

# curl_conn NS URL [CURL ARGS...]: one request; prints the local (client)
# port of the connection, so the test can find its records.
curl_conn() {
  local ns=$1 url=$2
  shift 2
  local -a prefix=()
  [[ -z $ns ]] || prefix=(ip netns exec "$ns")
  "${prefix[@]}" curl --globoff --noproxy '*' -fsS --max-time 5 -o /dev/null \
    -w '%{local_port}\n' "$@" "$url"
}

# check_records FORMAT LOG SERVER_PORT CONN...: see check_live_records.py.
check_records() {
  /usr/bin/python3 "$e2e_dir/check_live_records.py" "$@"
}

# After the connections under test ("${conns[@]}", client ports "${ports[@]}")
# were made: wait for their records in $out (and, in p0f mode, in p0f's own
# log $p0f_log), stop serve with SIGTERM and require exit 0 within 2 s and
# no crash text, then compare serve's records for those connections with
# p0f's. $1 names the capture interface in messages. Uses the callers'
# globals: mode out http_port conns ports p0f_log p0f_pid serve_pid work e2e_dir.
finish_live_check() {
  local iface=$1
  poll_until 10 check_records --quiet "$mode" "$out" "$http_port" "${conns[@]}" || {
    serve_died || true
    check_records "$mode" "$out" "$http_port" "${conns[@]}" || true
    echo "--- $out" >&2; cat "$out" >&2 || true
    fail "records missing from the log (see above)"
  }
  if [[ $mode == p0f ]]; then
    poll_until 10 check_records --quiet p0f "$p0f_log" "$http_port" "${conns[@]}" ||
      fail "p0f -i $iface did not log the connections: $(tail -n 5 "$work/p0f.stdout")"
  fi

  stop_within 2 "$serve_pid" TERM || fail "serve did not exit within 2 s of SIGTERM"
  ((stop_status == 0)) || fail "serve exited with status $stop_status after SIGTERM: $(tail -n 5 "$work/serve.stderr")"
  if grep -qiE "terminate called|Aborted|Segmentation fault|AddressSanitizer|runtime error:" "$work/serve.stderr"; then
    fail "serve stderr shows a crash: $(cat "$work/serve.stderr")"
  fi

  if [[ $mode == p0f ]]; then
    stop_within 5 "$p0f_pid" INT || fail "p0f did not stop"
    # Only the connections under test: the warm-ups may have reached one
    # capture before the other was running.
    local alt
    alt=$(IFS='|'; echo "${ports[*]}")
    pick() { grep -E "\|cli=[^|]*/($alt)\|srv=" "$1" || true; }
    pick "$p0f_log" >"$work/p0f.sel"
    pick "$out" >"$work/huginn.sel"
    /usr/bin/python3 "$e2e_dir/../golden/compare_p0f.py" \
      --ignore-mods "http request,http response" "$work/p0f.sel" "$work/huginn.sel" >&2 ||
      fail "serve --format p0f disagrees with p0f -i $iface on the same traffic"
  fi
}
