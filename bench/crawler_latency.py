"""Crawler latency around one maintenance call (retention benchmark).

Usage: crawler_latency.py NAME R0 R1 R2 PGBENCH_LOG...
R0/R1/R2: epoch seconds when the call started, returned, and committed. Each pgbench log
line is "client tx latency_us script epoch_s epoch_us"; a transaction ran
from its end minus its latency to its end. Prints, for the transactions
that overlapped the call or its commit and for those that did not, how many, the median
and the longest latency (ms).
"""
import statistics
import sys

name, r0, r1, r2 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
during, outside = [], []
for path in sys.argv[5:]:
    with open(path) as f:
        for line in f:
            fields = line.split()
            latency = int(fields[2]) / 1e6
            end = int(fields[4]) + int(fields[5]) / 1e6
            (during if end >= r0 and end - latency <= r2 else outside).append(latency * 1000)


def summary(xs):
    if not xs:
        return "none"
    return f"{len(xs)} tx, p50 {statistics.median(xs):.1f} ms, max {max(xs):.1f} ms"


print(f"{name}: call {1000 * (r1 - r0):.1f} ms, commit {1000 * (r2 - r1):.1f} ms"
      f" | crawlers during them: {summary(during)} | otherwise: {summary(outside)}")
