#!/usr/bin/env python3
"""How often the exact nearest kept word of a pruned word is among the best n-gram candidates
(docs/ngram-search.md), for several rankings. A reference written with numpy and gensim's hashing,
independent of the TypeScript index.

Reads a dense fastText .bin (format 12, not quantized) through a memory map; the kept words are the
first KEEP (topn on a file in frequency order), the queries SAMPLE words drawn from the rest.

usage: /usr/bin/python3 bench/ngram-reference.py MODEL.bin KEEP SAMPLE [--cap N]
  --cap N   posting lists longer than N are not walked (the index's NGRAM_MAX_POSTINGS)
"""
import argparse
import struct

import numpy as np
from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("keep", type=int)
p.add_argument("sample", type=int)
p.add_argument("--cap", type=int, default=0)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()

f = open(a.model, "rb")
magic, version = struct.unpack("<ii", f.read(8))
assert magic == 793712314 and version == 12, "a fastText .bin of format 12"
args = struct.unpack("<12id", f.read(56))
dim, bucket, minn, maxn = args[0], args[8], args[9], args[10]
size, nwords, nlabels, ntokens, pruneidx = struct.unpack("<iiiqq", f.read(28))
assert pruneidx < 0, "not a pruned model"
words = []
for _ in range(size):
    w = bytearray()
    while (c := f.read(1)) != b"\0":
        w += c
    f.read(9)
    words.append(bytes(w))
assert f.read(1) == b"\0", "a dense input matrix"
rows, d2 = struct.unpack("<qq", f.read(16))
M = np.memmap(a.model, dtype="<f4", mode="r", offset=f.tell(), shape=(rows, d2))


def rows_of(w):
    if w == b"</s>":
        return []
    return [nwords + ft_hash_bytes(g) % bucket for g in compute_ngrams_bytes(w.decode("utf-8", "replace"), minn, maxn)]


def vector(i):
    ix = [i] + rows_of(words[i])
    return M[ix].sum(0) / len(ix)


keep = a.keep
K = np.stack([vector(i) for i in range(keep)])
kn = np.linalg.norm(K, axis=1)
K /= np.maximum(kn, 1e-30)[:, None]
nc = np.array([len(rows_of(words[i])) for i in range(keep)])
post = {}
for i in range(keep):
    for b in set(rows_of(words[i])):
        post.setdefault(b, []).append(i)
rng = np.random.default_rng(a.seed)
qs = rng.choice(np.arange(keep, size), a.sample, replace=False)
Q = np.stack([vector(q) for q in qs])
Q /= np.linalg.norm(Q, axis=1, keepdims=True)
exact = (Q @ K.T).argmax(1)

norm2 = {}


def w2(b):
    if b not in norm2:
        norm2[b] = float(M[b] @ M[b])
    return norm2[b]


N = kn * (1 + nc)
rankings = {
    "count": lambda cnt, w, rs: cnt,
    "count/sqrt(n)": lambda cnt, w, rs: cnt / np.sqrt(nc[rs]),
    "count/N": lambda cnt, w, rs: cnt / N[rs],
    "w/N": lambda cnt, w, rs: w / N[rs],
    "w/sqrt(N) (the index)": lambda cnt, w, rs: w / np.sqrt(N[rs]),
}
ranks = {k: [] for k in rankings}
shares = 0
for j, q in enumerate(qs):
    cnt, wsum = {}, {}
    for b in set(rows_of(words[q])):
        lst = post.get(b, ())
        if a.cap and len(lst) > a.cap:
            continue
        for r in lst:
            cnt[r] = cnt.get(r, 0) + 1
            wsum[r] = wsum.get(r, 0) + w2(b)
    e = exact[j]
    if e not in cnt:
        for k in rankings:
            ranks[k].append(1 << 30)
        continue
    shares += 1
    rs = np.fromiter(cnt.keys(), int)
    c = np.fromiter(cnt.values(), float)
    w = np.array([wsum[r] for r in rs])
    at = np.where(rs == e)[0][0]
    for k, f_ in rankings.items():
        s = f_(c, w, rs)
        # place of the exact answer: ties go to the lower row, as in the index
        ranks[k].append(int(np.sum(s > s[at]) + np.sum((s == s[at]) & (rs < e)) + 1))
print(f"{a.model}: keep {keep}, {a.sample} sampled pruned words, cap {a.cap or 'none'}")
print(f"exact nearest shares a walked bucket: {shares / a.sample:.3f}")
print("share of words whose exact answer is in the best k:")
for k in rankings:
    r = np.array(ranks[k])
    print(f"  {k:24s}" + " ".join(f"{n}:{np.mean(r <= n):.3f}" for n in (16, 32, 64, 128, 256)))
