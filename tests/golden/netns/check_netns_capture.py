#!/usr/bin/python3
"""check_netns_capture.py P0F_LOG EXPECT_FILE

Checks that a p0f log (`p0f -r CAPTURE -o P0F_LOG`) of one capture made by
make_netns_captures.sh shows the personality that capture was made with:
for each address family, one syn, syn+ack and two mtu records per
connection, with the initial TTL, MSS, option kinds and ECN quirk that the
namespaces' sysctls set (p0f README, "raw_sig" = ver:ittl:olen:mss:wsize,
scale:olayout:quirks:pclass), and uptime records where timestamps without
per-connection offsets were on.

This validates the captures themselves: it runs on p0f's own output, so it
says nothing about huginn-profiler (run_golden.sh does that).
Exit 0 when every check holds, 1 with one line per failed check otherwise.
"""

import ipaddress
import re
import sys

# IPv4/IPv6 header plus the 20-byte TCP header: p0f's MTU is MSS + this.
HEADER_BYTES = {4: 40, 6: 60}


def parse_log(path):
    """Yields dicts of the key=value fields of each `p0f -o` line."""
    records = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            line = line.rstrip("\n")
            body = re.sub(r"^\[[^\]]*\] ", "", line)
            fields = {}
            for part in body.split("|"):
                key, sep, value = part.partition("=")
                if sep:
                    fields[key] = value
            if "mod" in fields:
                fields["_line"] = line
                records.append(fields)
    return records


def parse_expect(path):
    expect = {}
    with open(path, encoding="utf-8") as spec:
        for line in spec:
            key, sep, value = line.strip().partition("=")
            if sep:
                expect[key] = value
    return expect


def host(endpoint):
    """'2001:db8:0:0:0:0:0:11/53316' -> ip_address('2001:db8::11')."""
    return ipaddress.ip_address(endpoint.rpartition("/")[0])


class Checker:
    def __init__(self, records, expect):
        self.records = records
        self.expect = expect
        self.errors = []

    def fail(self, message, record=None):
        if record is not None:
            message += "\n    " + record["_line"]
        self.errors.append(message)

    def flag(self, key):
        return self.expect[key] == "1"

    def select(self, family, mod, subj=None):
        client = ipaddress.ip_address(self.expect[f"client{family}"])
        server = ipaddress.ip_address(self.expect[f"server{family}"])
        port = self.expect["port"]
        chosen = []
        for rec in self.records:
            if rec.get("mod") != mod or subj is not None and rec.get("subj") != subj:
                continue
            try:
                if host(rec["cli"]) != client or host(rec["srv"]) != server:
                    continue
            except (KeyError, ValueError):
                continue
            if rec["srv"].rpartition("/")[2] != port:
                continue
            chosen.append(rec)
        return chosen

    def check_signature(self, family, mod, prefix):
        """prefix is 'syn' or 'synack': the expect keys for that packet."""
        recs = self.select(family, mod)
        per_family = int(self.expect["connections"]) // 2
        if len(recs) != per_family:
            self.fail(f"IPv{family} {mod}: {len(recs)} records, want {per_family}")
        want_ttl = self.expect[f"{prefix}_ttl"]
        want_mss = self.expect[f"{prefix}_mss{family}"]
        for rec in recs:
            want_subj = "cli" if mod == "syn" else "srv"
            if rec.get("subj") != want_subj:
                self.fail(f"IPv{family} {mod}: subj is not {want_subj}", rec)
            sig = rec.get("raw_sig", "").split(":")
            if len(sig) != 8:
                self.fail(f"IPv{family} {mod}: raw_sig has {len(sig)} fields", rec)
                continue
            ver, ittl, _olen, mss, window, olayout, quirks, _pclass = sig
            opts = olayout.split(",")
            quirk_set = set(quirks.split(","))
            scale = window.partition(",")[2]
            if ver != str(family):
                self.fail(f"IPv{family} {mod}: version {ver}", rec)
            if ittl != f"{want_ttl}+0":
                self.fail(f"IPv{family} {mod}: ittl {ittl}, want {want_ttl}+0", rec)
            if mss != want_mss:
                self.fail(f"IPv{family} {mod}: mss {mss}, want {want_mss}", rec)
            if opts[0] != "mss":
                self.fail(f"IPv{family} {mod}: olayout does not start with mss", rec)
            for kind, key in (("ts", "ts"), ("ws", "ws"), ("sok", "sok")):
                wanted = self.flag(f"{prefix}_{key}")
                if (kind in opts) != wanted:
                    self.fail(f"IPv{family} {mod}: option {kind} "
                              f"{'missing' if wanted else 'present'}", rec)
            if not self.flag(f"{prefix}_ws") and scale != "0":
                self.fail(f"IPv{family} {mod}: scale {scale} without ws", rec)
            if ("ecn" in quirk_set) != self.flag(f"{prefix}_ecn"):
                self.fail(f"IPv{family} {mod}: ecn quirk "
                          f"{'missing' if self.flag(prefix + '_ecn') else 'present'}", rec)
            if family == 4 and "df" not in quirk_set:
                self.fail(f"IPv{family} {mod}: Linux sets DF, quirk df missing", rec)

    def check_mtu(self, family):
        per_family = int(self.expect["connections"]) // 2
        for subj, prefix in (("cli", "syn"), ("srv", "synack")):
            recs = self.select(family, "mtu", subj)
            want = int(self.expect[f"{prefix}_mss{family}"]) + HEADER_BYTES[family]
            if len(recs) != per_family:
                self.fail(f"IPv{family} mtu subj={subj}: {len(recs)} records, "
                          f"want {per_family}")
            for rec in recs:
                if rec.get("raw_mtu") != str(want):
                    self.fail(f"IPv{family} mtu subj={subj}: raw_mtu "
                              f"{rec.get('raw_mtu')}, want {want}", rec)

    def check_uptime(self, family):
        for subj in ("cli", "srv"):
            recs = self.select(family, "uptime", subj)
            if self.flag(f"uptime_{subj}"):
                if not recs:
                    self.fail(f"IPv{family} uptime subj={subj}: none, want at least one")
                for rec in recs:
                    # Linux TCP timestamps tick at 1 kHz; p0f measures it
                    # against capture time, so allow scheduling jitter.
                    freq = float(rec.get("raw_freq", "0 Hz").split()[0])
                    if not 750.0 <= freq <= 1250.0:
                        self.fail(f"IPv{family} uptime subj={subj}: raw_freq {freq}", rec)
            elif subj == "cli" and not self.flag("syn_ts") and recs:
                self.fail(f"IPv{family} uptime subj=cli without timestamps", recs[0])
            elif subj == "srv" and not self.flag("synack_ts") and recs:
                self.fail(f"IPv{family} uptime subj=srv without timestamps", recs[0])

    def run(self):
        for family in (4, 6):
            self.check_signature(family, "syn", "syn")
            self.check_signature(family, "syn+ack", "synack")
            self.check_mtu(family)
            self.check_uptime(family)
        return self.errors


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} P0F_LOG EXPECT_FILE", file=sys.stderr)
        return 2
    errors = Checker(parse_log(argv[1]), parse_expect(argv[2])).run()
    for error in errors:
        print(f"{argv[1]}: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
