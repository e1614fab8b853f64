#!/usr/bin/python3
"""Crafted HTTP corpus: p0f and huginn-profiler must write identical logs.

    check_crafted_http.py --craft CRAFTER --bin HUGINN [--p0f P0F] [-f P0F_FP]
                          [--workdir DIR]

Runs huginn_craft_http_corpus (one exchange per [http:request] /
[http:response] signature of p0f.fp), then `p0f -r` and `huginn-profiler
analyze --format p0f` on the capture (TZ=UTC), and requires the two logs to
be byte-identical. It also reports, per section, how many cases p0f itself
labelled as the signature they were built for (an earlier signature may
cover a later one's traffic; that is p0f's order, not a failure).
Exit 0 on identical logs, 1 otherwise, 77 when p0f is missing.
"""

import argparse
import collections
import json
import os
import subprocess
import sys


def http_records(path):
    out = collections.defaultdict(list)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if "mod=http " not in line:
                continue
            fields = dict(p.split("=", 1) for p in line.rstrip("\n").split("] ", 1)[1].split("|")
                          if "=" in p)
            out[(fields.get("mod"), fields.get("cli"), fields.get("srv"))].append(fields)
    return out


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--craft", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--p0f", default=os.environ.get("P0F_BIN", "/usr/sbin/p0f"))
    ap.add_argument("-f", dest="fp", default=os.environ.get("HUGINN_P0F_FP", "/etc/p0f/p0f.fp"))
    ap.add_argument("--workdir", default=".")
    args = ap.parse_args(argv)
    if not os.access(args.p0f, os.X_OK) or not os.path.exists(args.fp):
        print("check_crafted_http.py: p0f or p0f.fp missing; skipping", file=sys.stderr)
        return 77
    os.makedirs(args.workdir, exist_ok=True)
    cap = os.path.join(args.workdir, "http_corpus.pcap")
    man = os.path.join(args.workdir, "http_corpus.jsonl")
    p0f_log = os.path.join(args.workdir, "p0f.log")
    ours_log = os.path.join(args.workdir, "ours.log")
    for p in (p0f_log, ours_log):
        if os.path.exists(p):
            os.remove(p)
    env = dict(os.environ, TZ="UTC")
    subprocess.run([args.craft, "-f", args.fp, cap, man], check=True, env=env)
    subprocess.run([args.p0f, "-f", args.fp, "-r", cap, "-o", p0f_log], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([args.bin, "analyze", "-f", args.fp, "--format", "p0f", "-o", ours_log, cap],
                   check=True, env=env, stderr=subprocess.DEVNULL)
    with open(p0f_log, "rb") as f:
        p0f_lines = f.read().splitlines()
    with open(ours_log, "rb") as f:
        ours_lines = f.read().splitlines()

    status = 0
    if p0f_lines != ours_lines:
        status = 1
        diffs = 0
        for i in range(max(len(p0f_lines), len(ours_lines))):
            a = p0f_lines[i] if i < len(p0f_lines) else b"<none>"
            b = ours_lines[i] if i < len(ours_lines) else b"<none>"
            if a != b:
                diffs += 1
                if diffs <= 10:
                    print(f"line {i + 1}:\n  p0f:  {a.decode(errors='replace')}\n"
                          f"  ours: {b.decode(errors='replace')}")
        print(f"{diffs} differing lines")

    recs = http_records(p0f_log)
    tally = collections.Counter()
    with open(man, encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            section = case["section"]
            if not section.startswith("http:"):
                continue
            mod = "http request" if section == "http:request" else "http response"
            got = recs.get((mod, case["cli"], case["srv"]), [])
            label = got[0].get("app", got[0].get("os")) if got else None
            tally[(section, "total")] += 1
            if label == case["label"]:
                tally[(section, "intended")] += 1
            elif label is None:
                tally[(section, "no record")] += 1
            elif label == "???":
                tally[(section, "unmatched")] += 1
            else:
                tally[(section, "other label")] += 1
    for section in ("http:request", "http:response"):
        parts = ", ".join(f"{k}={tally[(section, k)]}"
                          for k in ("total", "intended", "other label", "unmatched", "no record"))
        print(f"{section}: {parts}")
    print(f"{len(p0f_lines)} p0f lines, {len(ours_lines)} ours, "
          f"{'identical' if status == 0 else 'DIFFERENT'}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
