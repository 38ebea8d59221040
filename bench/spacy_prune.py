#!/usr/bin/env python3
"""Reference for the top-N method: the pruning algorithm of spaCy's Vocab.prune_vectors, in numpy.

Keeps the first N rows (files are sorted by frequency), L2-normalises kept and remaining rows
(zero norms divide by 1) and maps each remaining row to the kept row of highest cosine, in
batches of 1024 rows. Writes `word<TAB>kept word<TAB>cosine` for every mapped row.

usage: spacy_prune.py MODEL N MAPPING_OUT      (word2vec binary or text with a header, or GloVe text)
Prints timing to stderr. Words are handled as bytes (latin-1) so any file round-trips.
"""
import sys
import time

import numpy as np


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    nl = data.index(b"\n")
    head = data[:nl].split()
    words = []
    if len(head) == 2 and all(x.lstrip(b"-").isdigit() for x in head):
        rows, dim = int(head[0]), int(head[1])
        pos = nl + 1
        # binary if the first row's values are not text
        sp = data.index(b" ", pos)
        line_end = data.find(b"\n", pos)
        is_text = len(data[sp + 1:line_end].split()) == dim and all(
            _isnum(t) for t in data[sp + 1:line_end].split())
        if not is_text:
            vec = np.empty((rows, dim), dtype=np.float32)
            for i in range(rows):
                while data[pos] in (10, 13):
                    pos += 1
                sp = data.index(b" ", pos)
                words.append(data[pos:sp])
                vec[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=sp + 1)
                pos = sp + 1 + 4 * dim
            return words, vec
        lines = data[nl + 1:].split(b"\n")
    else:
        lines = data.split(b"\n")
    rowsv = []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        words.append(parts[0])
        rowsv.append(np.array(parts[1:], dtype=np.float32))
    return words, np.vstack(rowsv)


def _isnum(t):
    try:
        float(t)
        return True
    except ValueError:
        return False


def prune(vectors, n, batch=1024):
    keep = vectors[:n]
    rest = vectors[n:]
    kn = np.linalg.norm(keep, axis=1, keepdims=True)
    kn[kn == 0] = 1
    keep = keep / kn
    best = np.empty(len(rest), dtype=np.int64)
    scores = np.empty(len(rest), dtype=np.float32)
    for s in range(0, len(rest), batch):
        b = rest[s:s + batch]
        bn = np.linalg.norm(b, axis=1, keepdims=True)
        bn[bn == 0] = 1
        sims = (b / bn) @ keep.T
        best[s:s + batch] = sims.argmax(axis=1)
        scores[s:s + batch] = sims[np.arange(len(b)), best[s:s + batch]]
    return best, scores


def main():
    path, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    t0 = time.time()
    words, vectors = load(path)
    t1 = time.time()
    best, scores = prune(vectors, n)
    t2 = time.time()
    with open(out, "wb") as f:
        for i, (b, s) in enumerate(zip(best, scores)):
            f.write(words[n + i] + b"\t" + words[b] + b"\t" + f"{s:.6f}".encode() + b"\n")
    t3 = time.time()
    print(f"load {t1 - t0:.2f}s prune {t2 - t1:.2f}s write {t3 - t2:.2f}s rows {len(words)} kept {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
