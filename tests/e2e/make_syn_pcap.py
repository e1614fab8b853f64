#!/usr/bin/python3
"""make_syn_pcap.py OUT COUNT

Writes a classic pcap (LINKTYPE_ETHERNET, microsecond timestamps) holding
COUNT TCP SYNs from 192.0.2.10 to 192.0.2.20:80 (RFC 5737 addresses), one
per second, each from its own source port (40001, 40002, ...). Each SYN is
what a Linux client sends without timestamps: TTL 64, DF, MSS 1460, SACK
permitted and window scale 7 (RFC 793 / RFC 2018 / RFC 7323 option layout
mss,nop,nop,sok,nop,ws), so p0f logs one syn and one mtu record per packet.

The CLI tests use it as a small valid capture, and cut it with `head -c` to
make a truncated one. Frame layout is fixed: every record is 16 + 66 bytes.
"""

import struct
import sys

FRAME_BYTES = 14 + 20 + 32  # Ethernet + IPv4 + TCP with 12 bytes of options


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn_frame(src_port, seq):
    src, dst = bytes([192, 0, 2, 10]), bytes([192, 0, 2, 20])
    options = bytes([2, 4, 0x05, 0xB4,   # MSS 1460
                     1, 1, 4, 2,         # nop, nop, SACK permitted
                     1, 3, 3, 7])        # nop, window scale 7
    tcp_len = 20 + len(options)
    tcp = struct.pack("!HHIIBBHHH", src_port, 80, seq, 0, (tcp_len // 4) << 4,
                      0x02, 64240, 0, 0) + options
    pseudo = src + dst + struct.pack("!BBH", 0, 6, tcp_len)
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_len, 0x1000 + seq % 0x1000,
                     0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    ether = bytes.fromhex("020000000002" "020000000001" "0800")
    frame = ether + ip + tcp
    assert len(frame) == FRAME_BYTES
    return frame


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    count = int(argv[2])
    with open(argv[1], "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            frame = syn_frame(40001 + i, 1000 * (i + 1))
            out.write(struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)))
            out.write(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
