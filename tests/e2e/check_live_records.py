#!/usr/bin/python3
"""check_live_records.py [--quiet] FORMAT LOG SERVER_PORT CONN...

Checks that an observation log written by `huginn-profiler serve -o LOG
--format FORMAT` (FORMAT: jsonl or p0f) holds, for every connection CONN,
the records p0f writes for a plain TCP handshake: a `syn` about the client,
a `syn+ack` about the server, and an `mtu` record about each side (p0f README
section 4). CONN is CLIENT_IP/CLIENT_PORT>SERVER_IP; SERVER_PORT is shared.

Addresses are compared as addresses, so "0:0:0:0:0:0:0:1" (p0f's spelling)
equals "::1". In jsonl mode every line of LOG must be a JSON object.

Exit 0 when everything is there, 1 otherwise (with one line per missing
record unless --quiet, which the tests use while polling), 2 on usage errors.
"""

import ipaddress
import json
import re
import sys

WANTED = (("syn", "client"), ("syn+ack", "server"), ("mtu", "client"), ("mtu", "server"))
P0F_LINE = re.compile(r"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\] (mod=.*)$")


def split_endpoint(text):
    host, _, port = text.rpartition("/")
    return ipaddress.ip_address(host), int(port)


def read_jsonl(path, problems):
    records = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for lineno, line in enumerate(log, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                problems.append(f"{path}:{lineno}: not JSON ({err})")
                continue
            if not isinstance(obj, dict):
                problems.append(f"{path}:{lineno}: not a JSON object")
                continue
            records.append((obj.get("kind"), obj.get("subject"), obj.get("client"),
                            obj.get("server"), obj))
    return records


def read_p0f(path, problems):
    subjects = {"cli": "client", "srv": "server"}
    records = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for lineno, line in enumerate(log, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            match = P0F_LINE.match(line)
            if not match:
                problems.append(f"{path}:{lineno}: not a p0f log line: {line!r}")
                continue
            fields = dict(part.partition("=")[::2] for part in match.group(1).split("|"))
            records.append((fields.get("mod"), subjects.get(fields.get("subj")),
                            fields.get("cli"), fields.get("srv"), fields))
    return records


def main(argv):
    args = argv[1:]
    quiet = bool(args) and args[0] == "--quiet"
    if quiet:
        args = args[1:]
    if len(args) < 4 or args[0] not in ("jsonl", "p0f"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    fmt, path, server_port = args[0], args[1], int(args[2])
    problems = []
    try:
        reader = read_jsonl if fmt == "jsonl" else read_p0f
        records = reader(path, problems)
    except OSError as err:
        problems.append(f"{path}: {err}")
        records = []

    found = set()
    for kind, subject, client, server, _ in records:
        try:
            cli_ip, cli_port = split_endpoint(client)
            srv_ip, srv_port = split_endpoint(server)
        except (AttributeError, ValueError):
            continue
        if srv_port == server_port:
            found.add((kind, subject, cli_ip, cli_port, srv_ip))

    for conn in args[3:]:
        client, _, server_ip = conn.partition(">")
        cli_ip, cli_port = split_endpoint(client)
        srv_ip = ipaddress.ip_address(server_ip)
        for kind, subject in WANTED:
            if (kind, subject, cli_ip, cli_port, srv_ip) not in found:
                problems.append(f"no {kind} record about the {subject} of "
                                f"{cli_ip}/{cli_port} -> {srv_ip}/{server_port}")

    if not quiet:
        for problem in problems:
            print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
