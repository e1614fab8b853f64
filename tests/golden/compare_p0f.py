#!/usr/bin/python3
"""Compare two p0f-format logs record by record.

    compare_p0f.py [--ignore-mods "http request,http response"]
                   [--ignore-fields date] [--tolerance 0.05] P0F_LOG OURS_LOG

Both files hold the lines `p0f -o` writes (p0f README section 4):
    [YYYY/MM/DD HH:MM:SS] mod=syn|cli=1.2.3.4/1234|srv=5.6.7.8/80|subj=cli|os=...|...

Records are paired in order within each (mod, cli, srv, subj) key: the
first syn of a flow in one log with the first in the other, and so on.
Every field is compared exactly (the timestamp included, as "date"),
except "uptime" and "raw_freq", which are estimates and may differ by the
relative tolerance (default 5%). Prints one line per difference and a final
    N records compared, M mismatches, K only-in-p0f, L only-in-ours
Exit status: 0 on full agreement, 1 on any difference, 2 on usage errors.
"""

import argparse
import collections
import ipaddress
import re
import sys

# Field names p0f writes (p0f.c add_observation_field callers). A '|' inside
# a value (possible in HTTP fields taken from the wire) is kept in the value
# when the text after it does not start with one of these names.
KNOWN_FIELDS = {
    "mod", "cli", "srv", "subj", "os", "app", "dist", "params", "raw_sig",
    "link", "raw_mtu", "uptime", "raw_freq", "reason", "raw_hits", "lang",
}

LINE_RE = re.compile(r"^\[(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)\] (mod=.*)$")
UPTIME_RE = re.compile(r"^(\d+) days (\d+) hrs (\d+) min \(modulo (\d+) days\)$")
FREQ_RE = re.compile(r"^(-?[0-9.]+) Hz$")


class Record:
    __slots__ = ("lineno", "date", "fields")

    def __init__(self, lineno, date, fields):
        self.lineno = lineno
        self.date = date
        self.fields = fields  # dict, insertion-ordered

    def key(self):
        f = self.fields
        return (f.get("mod"), norm_endpoint(f.get("cli")), norm_endpoint(f.get("srv")),
                f.get("subj"))

    def describe(self):
        f = self.fields
        return "mod=%s cli=%s srv=%s subj=%s" % (f.get("mod"), f.get("cli"), f.get("srv"),
                                                 f.get("subj"))


def norm_endpoint(text):
    """'ip/port' with the address in canonical form, so that p0f's uncompressed
    IPv6 text and RFC 5952 text compare equal."""
    if not text or "/" not in text:
        return text
    addr, _, port = text.rpartition("/")
    try:
        return "%s/%s" % (ipaddress.ip_address(addr), port)
    except ValueError:
        return text


def parse_line(line, lineno):
    m = LINE_RE.match(line.rstrip("\r\n"))
    if not m:
        return None
    fields = collections.OrderedDict()
    last = None
    for tok in m.group(2).split("|"):
        name, eq, value = tok.partition("=")
        if eq and name in KNOWN_FIELDS and name not in fields:
            fields[name] = value
            last = name
        elif last is not None:
            fields[last] += "|" + tok
        else:
            return None
    return Record(lineno, m.group(1), fields)


def parse_log(path):
    records, bad = [], []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = parse_line(line, lineno)
            if rec is None:
                bad.append(lineno)
            else:
                records.append(rec)
    return records, bad


def parse_uptime(text):
    m = UPTIME_RE.match(text or "")
    if not m:
        return None
    d, h, mi, mod = (int(x) for x in m.groups())
    return (d * 24 + h) * 60 + mi, mod


def close(a, b, tol):
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-9)


def compare_field(name, a, b, tol):
    """Returns None when equal (within tolerance), else a reason string."""
    if a == b:
        return None
    if a is None or b is None:
        return "p0f=%s ours=%s" % (a, b)
    if name == "uptime":
        ua, ub = parse_uptime(a), parse_uptime(b)
        if ua and ub and close(ua[0], ub[0], tol) and close(ua[1], ub[1], tol):
            return None
    elif name == "raw_freq":
        fa, fb = FREQ_RE.match(a), FREQ_RE.match(b)
        if fa and fb and close(float(fa.group(1)), float(fb.group(1)), tol):
            return None
    return "p0f=%r ours=%r" % (a, b)


def compare_records(p, o, tol, ignore_fields):
    """List of (field, reason) differences between two paired records."""
    diffs = []
    if "date" not in ignore_fields and p.date != o.date:
        diffs.append(("date", "p0f=%r ours=%r" % (p.date, o.date)))
    names = list(p.fields) + [n for n in o.fields if n not in p.fields]
    for name in names:
        if name in ignore_fields or name in ("cli", "srv"):
            continue  # cli/srv are part of the pairing key (normalised)
        reason = compare_field(name, p.fields.get(name), o.fields.get(name), tol)
        if reason:
            diffs.append((name, reason))
    return diffs


def compare(p0f_records, our_records, tol=0.05, ignore_fields=(), out=sys.stdout):
    """Pairs and compares; returns (compared, mismatches, only_p0f, only_ours)."""
    groups = collections.OrderedDict()
    for side, recs in ((0, p0f_records), (1, our_records)):
        for r in recs:
            groups.setdefault(r.key(), ([], []))[side].append(r)
    compared = mismatches = only_p0f = only_ours = 0
    for _key, (ps, os_) in groups.items():
        for i in range(max(len(ps), len(os_))):
            p = ps[i] if i < len(ps) else None
            o = os_[i] if i < len(os_) else None
            if o is None:
                only_p0f += 1
                print("ONLY-IN-P0F  p0f:%d %s" % (p.lineno, p.describe()), file=out)
                continue
            if p is None:
                only_ours += 1
                print("ONLY-IN-OURS ours:%d %s" % (o.lineno, o.describe()), file=out)
                continue
            compared += 1
            diffs = compare_records(p, o, tol, ignore_fields)
            if diffs:
                mismatches += 1
                for name, reason in diffs:
                    print("MISMATCH     p0f:%d ours:%d %s: %s: %s" %
                          (p.lineno, o.lineno, p.describe(), name, reason), file=out)
    return compared, mismatches, only_p0f, only_ours


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("p0f_log")
    ap.add_argument("ours_log")
    ap.add_argument("--ignore-mods", default="",
                    help='comma-separated record kinds to drop from both logs, '
                         'e.g. "http request,http response"')
    ap.add_argument("--ignore-fields", default="",
                    help="comma-separated field names not compared (e.g. date)")
    ap.add_argument("--tolerance", type=float, default=0.05,
                    help="relative tolerance for uptime and raw_freq (default 0.05)")
    args = ap.parse_args(argv)

    ignore_mods = {m.strip() for m in args.ignore_mods.split(",") if m.strip()}
    ignore_fields = {f.strip() for f in args.ignore_fields.split(",") if f.strip()}
    logs = []
    unparsed = False
    for path in (args.p0f_log, args.ours_log):
        try:
            recs, bad = parse_log(path)
        except OSError as e:
            print("compare_p0f.py: %s" % e, file=sys.stderr)
            return 2
        for lineno in bad:
            print("UNPARSED     %s:%d" % (path, lineno))
        unparsed = unparsed or bool(bad)
        logs.append([r for r in recs if r.fields.get("mod") not in ignore_mods])

    compared, mismatches, only_p0f, only_ours = compare(
        logs[0], logs[1], args.tolerance, ignore_fields)
    print("%d records compared, %d mismatches, %d only-in-p0f, %d only-in-ours" %
          (compared, mismatches, only_p0f, only_ours))
    return 0 if not (mismatches or only_p0f or only_ours or unparsed) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
