#!/usr/bin/python3
"""Check p0f and huginn-profiler against the crafted p0f.fp corpus.

    check_crafted.py [--craft CRAFT_BIN] [--bin HUGINN_BIN] [--p0f P0F_BIN]
                     [-f P0F_FP] [--seed N] [--workdir DIR] [CAPTURE MANIFEST]

With --craft, CRAFT_BIN (huginn_craft_p0f_corpus) first writes corpus.pcap
and manifest.jsonl into the work directory. Then `p0f -r` and, with --bin,
`HUGINN_BIN analyze --format jsonl` read the capture, and every manifest
entry (one crafted SYN or SYN+ACK per TCP signature) is judged:

  ok           p0f reports the intended label, not fuzzy, and our record
               names the intended p0f.fp line; both agree on every field.
  unreachable  the corpus generator found that another line always wins
               (sim_line), and p0f and we both report that line instead.
               Printed with both line numbers; not a failure.
  FAIL         we disagree with p0f on the label, os/app, dist, params or
               raw_sig; or the intended line is not reported and no
               always-winning line explains it; or a record is missing.

p0f's log has no line numbers: p0f is judged on its label text, we on the
"match.line" of our JSONL record. Without --bin only p0f is checked (useful
to validate the corpus itself). Exit: 0 pass, 1 failures, 2 usage or tool
errors, 77 when p0f is not installed.
"""

import argparse
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_p0f  # noqa: E402  (same directory)


FINGERPRINT_KINDS = ("syn", "syn+ack", "sendsyn probe", "sendsyn response")


def p0f_fields_for(records):
    """Index p0f syn / syn+ack records by (mod, cli, srv), keeping the first."""
    out = {}
    for r in records:
        f = r.fields
        if f.get("mod") in FINGERPRINT_KINDS:
            key = (f["mod"], compare_p0f.norm_endpoint(f.get("cli")),
                   compare_p0f.norm_endpoint(f.get("srv")))
            out.setdefault(key, f)
    return out


def endpoint_text(v):
    if isinstance(v, str):
        return compare_p0f.norm_endpoint(v)
    if isinstance(v, dict):
        addr = v.get("ip") or v.get("addr") or v.get("address")
        port = v.get("port")
        if addr is not None and port is not None:
            return compare_p0f.norm_endpoint("%s/%s" % (addr, port))
    return None


def our_view(rec):
    """Our JSONL record reduced to p0f's fields plus the matched line."""
    match = rec.get("match") or None
    label = None
    key = "os"
    if isinstance(rec.get("app"), str):
        label, key = rec["app"], "app"
    elif isinstance(rec.get("os"), str):
        label = rec["os"]
    elif match:
        label = match.get("label")
        key = "app" if match.get("is_app") else "os"
    if label is None:
        label = "???"

    dist = rec.get("dist")
    if isinstance(dist, int):
        bound = rec.get("dist_is_upper_bound") or (match or {}).get("random_ttl")
        dist = ("<= %d" % dist) if bound else str(dist)

    params = rec.get("params")
    if isinstance(params, list):
        params = " ".join(params) if params else "none"

    return {
        key: label,
        "dist": dist,
        "params": params,
        "raw_sig": rec.get("signature", rec.get("raw_sig")),
        "line": (match or {}).get("line"),
    }


def our_index(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                print("ours:%d: not JSON" % n)
                continue
            kind = (rec.get("kind") or rec.get("mod") or "").replace("_", " ")
            if kind not in FINGERPRINT_KINDS:
                continue
            cli = endpoint_text(rec.get("cli", rec.get("client")))
            srv = endpoint_text(rec.get("srv", rec.get("server")))
            out.setdefault((kind, cli, srv), our_view(rec))
    return out


def label_of(fields):
    if "app" in fields:
        return "app", fields["app"]
    return "os", fields.get("os")


def run(cmd, **kw):
    try:
        return subprocess.run(cmd, check=False, **kw)
    except OSError as e:
        print("check_crafted.py: cannot run %s: %s" % (cmd[0], e), file=sys.stderr)
        sys.exit(2)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture", nargs="?")
    ap.add_argument("manifest", nargs="?")
    ap.add_argument("--craft", help="huginn_craft_p0f_corpus binary: generate the corpus first")
    ap.add_argument("--bin", default=os.environ.get("HUGINN_BIN"), help="huginn-profiler")
    ap.add_argument("--p0f", default=os.environ.get("P0F_BIN", "/usr/sbin/p0f"))
    ap.add_argument("-f", dest="fp", default=os.environ.get("HUGINN_P0F_FP", "/etc/p0f/p0f.fp"))
    ap.add_argument("--seed", help="corpus seed (with --craft)")
    ap.add_argument("--workdir", default=".", help="where logs (and the corpus) go")
    args = ap.parse_args(argv)

    if not os.access(args.p0f, os.X_OK):
        print("check_crafted.py: %s not found; skipping" % args.p0f)
        return 77
    os.makedirs(args.workdir, exist_ok=True)
    capture = args.capture or os.path.join(args.workdir, "corpus.pcap")
    manifest = args.manifest or os.path.join(args.workdir, "manifest.jsonl")
    env = dict(os.environ, TZ="UTC")

    if args.craft:
        cmd = [args.craft, "-f", args.fp]
        if args.seed:
            cmd += ["--seed", args.seed]
        if run(cmd + [capture, manifest]).returncode != 0:
            return 2

    p0f_log = os.path.join(args.workdir, "p0f.log")
    if os.path.exists(p0f_log):
        os.unlink(p0f_log)
    r = run([args.p0f, "-f", args.fp, "-r", capture, "-o", p0f_log], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        print("check_crafted.py: p0f failed: %s" % r.stderr.decode(errors="replace")[-500:])
        return 2
    p0f_recs, bad = compare_p0f.parse_log(p0f_log)
    if bad:
        print("check_crafted.py: unparsed p0f log lines: %s" % bad[:5])
        return 2
    p0f = p0f_fields_for(p0f_recs)

    ours = None
    if args.bin:
        ours_log = os.path.join(args.workdir, "ours.jsonl")
        r = run([args.bin, "analyze", "-f", args.fp, "--format", "jsonl", "-o", ours_log,
                 capture], env=env)
        if r.returncode != 0:
            print("check_crafted.py: %s analyze failed (exit %d)" % (args.bin, r.returncode))
            return 1
        ours = our_index(ours_log)

    counts = {"ok": 0, "unreachable": 0, "uncraftable": 0, "FAIL": 0}
    with open(manifest, encoding="utf-8") as f:
        entries = [json.loads(l) for l in f if l.strip()]
    for m in entries:
        where = "line %d [%s] %s" % (m["line"], m["section"], m["sig"])
        if m["expect"] == "uncraftable":
            counts["uncraftable"] += 1
            print("uncraftable  %s: %s" % (where, m.get("reason")))
            continue
        key = (m["kind"], compare_p0f.norm_endpoint(m["cli"]),
               compare_p0f.norm_endpoint(m["srv"]))
        problems = []
        pf = p0f.get(key)
        if pf is None:
            problems.append("p0f logged no %s record for %s -> %s" % key)
        want_key = m.get("field") or ("app" if m["user_app"] else "os")
        p_kind, p_label = label_of(pf) if pf else (None, None)
        p_fuzzy = pf is not None and "fuzzy" in (pf.get("params") or "").split()
        p0f_intended = pf is not None and (p_kind, p_label) == (want_key, m["os"]) and not p_fuzzy

        ov = None
        if ours is not None:
            ov = ours.get(key)
            if ov is None:
                problems.append("we logged no %s record for %s -> %s" % key)
            elif pf is not None:
                for name in ("os", "app", "dist", "params", "raw_sig"):
                    if pf.get(name) != ov.get(name):
                        problems.append("%s: p0f=%r ours=%r" % (name, pf.get(name), ov.get(name)))
        ours_intended = ours is None or (ov is not None and ov["line"] == m["line"])

        verdict = "ok"
        if problems:
            verdict = "FAIL"
        elif p0f_intended and ours_intended:
            verdict = "ok"
        elif m["expect"] == "unreachable" and m.get("sim_line") is not None:
            p0f_sim = (p_label == m.get("sim_os"))
            ours_sim = ours is None or (ov is not None and ov["line"] == m["sim_line"])
            if p0f_sim and ours_sim:
                verdict = "unreachable"
            else:
                verdict = "FAIL"
                problems.append("expected line %s (%s) to win; p0f says %s=%r%s" % (
                    m["sim_line"], m.get("sim_os"), p_kind, p_label,
                    "" if ours is None else ", we say line %s" % (ov or {}).get("line")))
        else:
            verdict = "FAIL"
            problems.append("intended %s=%r (line %d); p0f says %s=%r%s%s" % (
                want_key, m["os"], m["line"], p_kind, p_label, " fuzzy" if p_fuzzy else "",
                "" if ours is None else ", we say line %s" % (ov or {}).get("line")))

        counts[verdict] += 1
        if verdict == "ok":
            print("ok           %s" % where)
        elif verdict == "unreachable":
            print("unreachable  %s: line %d always wins (%s), for p0f and us" % (
                where, m["sim_line"], m.get("sim_os")))
        else:
            print("FAIL         %s (packet %s, %s -> %s)" % (where, m.get("packet"), m["cli"],
                                                           m["srv"]))
            for p in problems:
                print("               %s" % p)

    print("%d signatures: %d ok, %d unreachable, %d uncraftable, %d FAIL%s" % (
        len(entries), counts["ok"], counts["unreachable"], counts["uncraftable"],
        counts["FAIL"], "" if ours is not None else " (p0f only: no --bin)"))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
