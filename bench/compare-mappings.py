#!/usr/bin/env python3
"""Compares two mapping files (`word<TAB>kept word<TAB>cosine`, same words in the same order):
the share of words mapped to the same kept word (or to one with the same cosine within 1e-6,
an exact tie), and the mean cosine of each. The first file is the exact reference.

usage: compare-mappings.py REFERENCE.tsv OURS.tsv      prints one JSON line
"""
import json
import sys


def rows(path):
    with open(path, "rb") as f:
        for line in f:
            w, k, c = line.rstrip(b"\n").split(b"\t")
            yield w, k, float(c)


n = same = 0
sa = sb = 0.0
for (wa, ka, ca), (wb, kb, cb) in zip(rows(sys.argv[1]), rows(sys.argv[2])):
    if wa != wb:
        sys.exit(f"word {n + 1} differs: {wa!r} vs {wb!r}")
    n += 1
    if ka == kb or abs(ca - cb) < 1e-6:
        same += 1
    sa += ca
    sb += cb
print(json.dumps({"words": n, "agreement": same / n if n else 1.0, "mean_cosine_reference": sa / n if n else 0.0,
                  "mean_cosine_ours": sb / n if n else 0.0, "mean_cosine_lost": (sa - sb) / n if n else 0.0}))
