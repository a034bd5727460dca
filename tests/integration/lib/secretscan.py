#!/usr/bin/env python3
"""Looks for secrets in files or in live processes' memory.

    secretscan.py KEYFILE... -- (FILE | pid:PID)...

Each KEYFILE holds one base64 WireGuard key (private or preshared). A hit is
any 8-byte window of the key's 32 bytes as raw bytes, as hex (either case),
or as base64 (any run of 11 characters of the key's base64 at each of the
three byte alignments). For pid:PID every readable mapping of
/proc/PID/maps is read through /proc/PID/mem. Prints one line per hit and
exits 1 when there is any; 2 on a usage error.
"""
import base64
import re
import sys

WINDOW = 8


def patterns(key):
    pats = set()
    for i in range(len(key) - WINDOW + 1):
        w = key[i:i + WINDOW]
        pats.add(w)
        pats.add(w.hex().encode())
        pats.add(w.hex().upper().encode())
    for shift in range(3):
        # The last character of an encoding can hold padding bits.
        enc = base64.b64encode(key[shift:]).rstrip(b"=")[:-1]
        for i in range(len(enc) - 11 + 1):
            pats.add(enc[i:i + 11])
    return pats


def regions(pid):
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            name = fields[5] if len(fields) > 5 else "[anon]"
            if "r" not in fields[1] or name in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            try:
                mem.seek(start)
                yield f"pid {pid} {fields[0]} {fields[1]} {name}", mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue


def sources(targets):
    for t in targets:
        if t.startswith("pid:"):
            yield from regions(int(t[4:]))
        else:
            with open(t, "rb") as f:
                yield t, f.read()


CHUNK = 1 << 20
OVERLAP = 64  # longer than any pattern


def search(rx, data):
    """The first match, read a chunk at a time: chunks of zeros (untouched
    stack, bss) are skipped without running the expression over them."""
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        chunk = bytes(view[start:start + CHUNK + OVERLAP])
        if not chunk.strip(b"\0"):
            continue
        m = rx.search(chunk)
        if m:
            return rx.search(data, start)
    return None


def main(argv):
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    sep = argv.index("--")
    keys, targets = argv[1:sep], argv[sep + 1:]
    if not keys or not targets:
        print(__doc__, file=sys.stderr)
        return 2
    table = {}
    for k in keys:
        with open(k) as f:
            raw = base64.b64decode(f.read().strip())
        if len(raw) != 32:
            print(f"{k}: not a 32-byte key", file=sys.stderr)
            return 2
        for p in patterns(raw):
            table[p] = k
    rx = re.compile(b"|".join(re.escape(p) for p in sorted(table, key=len, reverse=True)))
    hits = 0
    scanned = 0
    for where, data in sources(targets):
        scanned += len(data)
        m = search(rx, data)
        if m:
            hits += 1
            print(f"{where}: offset {m.start():#x}: a window of {table[m.group(0)]}")
    print(f"scanned {scanned} bytes", file=sys.stderr)
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
