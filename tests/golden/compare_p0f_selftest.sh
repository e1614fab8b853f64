#!/usr/bin/env bash
# Self-test of compare_p0f.py on hand-made logs: it must accept identical
# logs and an uptime 3% off, and reject a changed dist, a missing record and
# an uptime 10% off, each with the right summary counts.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cmp=(/usr/bin/python3 "$here/compare_p0f.py" --ignore-mods "http request,http response")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

syn='[2023/11/14 22:13:20] mod=syn|cli=10.0.0.1/40000|srv=10.0.0.2/80|subj=cli|os=Linux 3.11 and newer|dist=%s|params=none|raw_sig=4:57+7:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0'
mtu='[2023/11/14 22:13:20] mod=mtu|cli=10.0.0.1/40000|srv=10.0.0.2/80|subj=cli|link=Ethernet or modem|raw_mtu=1500'
synack='[2023/11/14 22:13:20] mod=syn+ack|cli=10.0.0.1/40000|srv=10.0.0.2/80|subj=srv|os=Linux 3.x|dist=0|params=none|raw_sig=4:64+0:0:1460:mss*10,7:mss,sok,ts,nop,ws:df:0'
# 1000 minutes at 1000 Hz; raw_freq varies with it.
uptime='[2023/11/14 22:13:21] mod=uptime|cli=10.0.0.1/40000|srv=10.0.0.2/80|subj=cli|uptime=%s|raw_freq=%s Hz'
http='[2023/11/14 22:13:21] mod=http request|cli=10.0.0.1/40000|srv=10.0.0.2/80|subj=cli|app=curl 7.x|lang=none|params=none|raw_sig=1:Host,User-Agent,Accept=[*/*]:Accept-Encoding:curl/'
# IPv6 written uncompressed (p0f) and RFC 5952 (ours) must pair up.
syn6='[2023/11/14 22:13:22] mod=syn|cli=%s/40001|srv=fd00:20:0:0:0:0:0:2/443|subj=cli|os=???|dist=3|params=none|raw_sig=6:61+3:0:1440:65535,6:mss,nop,ws,sok,ts::0'

write_log() {  # FILE DIST UPTIME FREQ [omit-mtu] [cli6]
  {
    printf "$syn\n" "$2"
    [[ "${5:-}" == omit-mtu ]] || printf '%s\n' "$mtu"
    printf '%s\n' "$synack"
    printf "$uptime\n" "$3" "$4"
    printf '%s\n' "$http"
    printf "$syn6\n" "${6:-fd00:10:0:0:0:0:0:1}"
  } >"$1"
}

expect() {  # NAME WANT_RC WANT_SUMMARY
  local name=$1 want_rc=$2 want=$3 out rc=0
  out="$("${cmp[@]}" "$work/p0f.log" "$work/ours.log" 2>&1)" || rc=$?
  if [[ $rc -ne $want_rc || "$(tail -1 <<<"$out")" != "$want" ]]; then
    echo "FAIL $name: rc=$rc (want $want_rc)"
    echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

write_log "$work/p0f.log" 7 "0 days 16 hrs 40 min (modulo 49 days)" 1000.00
write_log "$work/ours.log" 7 "0 days 16 hrs 40 min (modulo 49 days)" 1000.00 "" fd00:10::1
expect "identical (IPv6 text forms differ)" 0 "5 records compared, 0 mismatches, 0 only-in-p0f, 0 only-in-ours"

write_log "$work/ours.log" 8 "0 days 16 hrs 40 min (modulo 49 days)" 1000.00
expect "changed dist" 1 "5 records compared, 1 mismatches, 0 only-in-p0f, 0 only-in-ours"

write_log "$work/ours.log" 7 "0 days 16 hrs 40 min (modulo 49 days)" 1000.00 omit-mtu
expect "missing record" 1 "4 records compared, 0 mismatches, 1 only-in-p0f, 0 only-in-ours"

# 1030 min = 17 h 10 min (+3%); raw_freq +3%.
write_log "$work/ours.log" 7 "0 days 17 hrs 10 min (modulo 49 days)" 1030.00
expect "uptime 3% off accepted" 0 "5 records compared, 0 mismatches, 0 only-in-p0f, 0 only-in-ours"

# 1100 min = 18 h 20 min (+10%).
write_log "$work/ours.log" 7 "0 days 18 hrs 20 min (modulo 49 days)" 1000.00
expect "uptime 10% off rejected" 1 "5 records compared, 1 mismatches, 0 only-in-p0f, 0 only-in-ours"

# An extra record on our side.
write_log "$work/ours.log" 7 "0 days 16 hrs 40 min (modulo 49 days)" 1000.00
printf '%s\n' "$mtu" >>"$work/ours.log"
expect "extra record" 1 "5 records compared, 0 mismatches, 0 only-in-p0f, 1 only-in-ours"

# Without --ignore-mods the HTTP record (absent from ours) counts.
write_log "$work/ours.log" 7 "0 days 16 hrs 40 min (modulo 49 days)" 1000.00
grep -v 'mod=http' "$work/ours.log" >"$work/ours2.log"
mv "$work/ours2.log" "$work/ours.log"
expect "http ignored" 0 "5 records compared, 0 mismatches, 0 only-in-p0f, 0 only-in-ours"
cmp=(/usr/bin/python3 "$here/compare_p0f.py")
expect "http counted" 1 "5 records compared, 0 mismatches, 1 only-in-p0f, 0 only-in-ours"

# A real p0f log against itself, when p0f is installed (exercises the
# parser on p0f's exact output).
if [[ -x /usr/sbin/p0f && -n "${HUGINN_SELFTEST_CAPTURE:-}" ]]; then
  (cd "$work" && TZ=UTC /usr/sbin/p0f -r "$HUGINN_SELFTEST_CAPTURE" -o real.log >/dev/null 2>&1)
  cp "$work/real.log" "$work/p0f.log"
  cp "$work/real.log" "$work/ours.log"
  n=$(grep -c 'mod=' "$work/real.log" || true)
  expect "real p0f log vs itself" 0 "$n records compared, 0 mismatches, 0 only-in-p0f, 0 only-in-ours"
fi

[[ $failures -eq 0 ]] || { echo "$failures self-test(s) failed"; exit 1; }
echo "all compare_p0f.py self-tests passed"
