#!/usr/bin/env python3
"""Checks the event logs of a kill -9 test (tests/reliability/kill_resume.sh).

  check_kill.py N ATTEMPT_DIR...     (in the order the attempts ran)

Each attempt directory holds events.<pid> files of 32-byte events written by
ckpt_worker's kernel: kind ('S' start / 'E' end), thread id, begin, end, sequence.
Checks:
  * every item in [0, N) finished (an 'E' event) in some attempt;
  * within one attempt no item ran twice;
  * an item that finished in one attempt and started again in a later one was in the
    chunk its thread had in flight when the attempt died: the last chunk that thread
    started (the record of a chunk is written before its thread takes the next one).
Prints one summary line; exits 1 on a violation.
"""
import os
import struct
import sys

EV = struct.Struct("<IIQQQ")


def load(d):
    threads = {}
    for name in os.listdir(d):
        if not name.startswith("events."):
            continue
        pid = name.split(".", 1)[1]
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        for off in range(0, len(data) - len(data) % EV.size, EV.size):
            kind, tid, b, e, seq = EV.unpack_from(data, off)
            threads.setdefault((pid, tid), []).append((seq, chr(kind), b, e))
    for evs in threads.values():
        evs.sort()
    return threads


def main():
    n = int(sys.argv[1])
    attempts = sys.argv[2:]
    finished_in = [-1] * n       # the last attempt in which the item finished
    finished_chunk = {}          # item -> the chunk it last finished in
    interrupted = []             # chunks an attempt started and never finished
    in_flight_of = {}            # attempt -> set of (b, e) each thread started last
    errors = []
    repeated_items = 0
    repeated_chunks = set()
    for k, d in enumerate(attempts):
        threads = load(d)
        seen = bytearray(n)
        in_flight = set()
        for key, evs in threads.items():
            starts = [(b, e) for _, kind, b, e in evs if kind == "S"]
            if starts:
                in_flight.add(starts[-1])
        for key, evs in threads.items():
            for _, kind, b, e in evs:
                if kind == "S":
                    for i in range(b, e):
                        if finished_in[i] >= 0 and finished_in[i] < k:
                            # Finished before, running again: its old chunk must have
                            # been in flight at the earlier attempt's death.
                            old = finished_chunk[i]
                            if old not in in_flight_of[finished_in[i]]:
                                errors.append("item %d finished in attempt %d (chunk [%d, %d)) "
                                              "and ran again in attempt %d, though that chunk "
                                              "was not in flight" % (i, finished_in[i] + 1,
                                                                     old[0], old[1], k + 1))
                            repeated_items += 1
                            repeated_chunks.add((finished_in[i], old))
                            finished_in[i] = -2  # count once
                else:
                    for i in range(b, e):
                        if seen[i]:
                            errors.append("item %d finished twice in attempt %d" % (i, k + 1))
                        seen[i] = 1
                        finished_in[i] = k
                        finished_chunk[i] = (b, e)
        in_flight_of[k] = in_flight
        # Chunks the attempt started and never finished: cut by the kill.
        for key, evs in threads.items():
            ends = {(b, e) for _, kind, b, e in evs if kind == "E"}
            for _, kind, b, e in evs:
                if kind == "S" and (b, e) not in ends:
                    interrupted.append((b, e))
    rerun = sum(1 for b, e in interrupted if all(finished_in[i] != -1 for i in range(b, e)))
    missing = [i for i in range(n) if finished_in[i] == -1]
    if missing:
        errors.append("%d items never finished (first: %d)" % (len(missing), missing[0]))
    print("check_kill: %d attempts, %d items, %d chunks cut by a kill and run again, "
          "%d finished items repeated (in %d chunks in flight), %d never finished, "
          "%d violations" % (len(attempts), n, rerun, repeated_items, len(repeated_chunks),
                             len(missing), len(errors)))
    for e in errors[:10]:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
