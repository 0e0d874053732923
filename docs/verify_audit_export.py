#!/usr/bin/env python3
"""Verify a memoflow audit export (JSON lines) with nothing but the standard library.

Usage: python3 verify_audit_export.py EXPORT.jsonl [--head HASH]

Checks, for each organisation's chain: sequence numbers start at 1 without gaps, each
event's prev_hash is the previous event's hash (64 zeros for the first), and each hash
is SHA-256 over the canonical JSON of the event without its hash (see docs/audit.md).
Exit 0 when everything holds, 1 naming the first bad line otherwise.
"""

import hashlib
import json
import sys

GENESIS = "0" * 64


def canonical(record):
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def verify(path, head=None):
    last = {}  # organisation_id -> (seq, hash)
    seen_head = head is None
    count = 0
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            claimed = record.pop("hash")
            organisation = record["organisation_id"]
            seq, previous = last.get(organisation, (0, GENESIS))
            where = f"line {line_number} (organisation {organisation}, seq {record['seq']})"
            if record["seq"] != seq + 1:
                return f"{where}: expected seq {seq + 1}"
            if record["prev_hash"] != previous:
                return f"{where}: prev_hash does not match the previous event"
            if hashlib.sha256(canonical(record).encode("utf-8")).hexdigest() != claimed:
                return f"{where}: hash does not recompute"
            last[organisation] = (record["seq"], claimed)
            seen_head = seen_head or claimed == head
            count += 1
    if not seen_head:
        return f"head {head} is not in the export"
    heads = ", ".join(f"organisation {o}: {h}" for o, (_, h) in sorted(last.items()))
    print(f"ok: {count} events; heads {heads}")
    return None


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--head"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problem = verify(argv[1], argv[3] if len(argv) == 4 else None)
    if problem:
        print(f"FAILED: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
