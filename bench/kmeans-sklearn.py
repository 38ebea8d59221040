#!/usr/bin/python3
"""scikit-learn side of bench/kmeans-vs-sklearn.mjs (Debian python3-sklearn).

fit:  kmeans-sklearn.py fit ROWS.f32 N DIM K BATCH SEED [--n-init N]
      MiniBatchKMeans on the rows (raw little-endian float32, already L2-normalised by the caller)
      with the given k, batch size and random_state, everything else at scikit-learn's defaults
      unless --n-init is given; prints the fit time and the score below as JSON.
eval: kmeans-sklearn.py eval ROWS.f32 N DIM CENTRES.f32
      scores given centres (prune-pipe's) the same way.
Score: every row goes to its most similar normalised centre by cosine (as prune-pipe's assign
stage does); mean, p5 and Zipf-weighted (1 / (row + 1)) mean of those cosines.
"""
import json
import sys
import time
import warnings

import numpy as np


def load(path, n, d):
    return np.fromfile(path, dtype='<f4', count=n * d).reshape(n, d)


def score(x, centres):
    c = centres.astype(np.float32)
    c /= np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-30)
    best = np.empty(len(x), dtype=np.float32)
    for s in range(0, len(x), 4096):
        best[s:s + 4096] = (x[s:s + 4096] @ c.T).max(axis=1)
    w = 1.0 / np.arange(1, len(x) + 1)
    return {
        'mean_cosine': round(float(best.mean()), 5),
        'p5_cosine': round(float(np.percentile(best, 5)), 5),
        'zipf_weighted_mean_cosine': round(float((best * w).sum() / w.sum()), 5),
    }


def main():
    mode = sys.argv[1]
    if mode == 'eval':
        path, n, d, cpath = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        x = load(path, n, d)
        print(json.dumps(score(x, np.fromfile(cpath, dtype='<f4').reshape(-1, d))))
        return
    if mode != 'fit':
        raise SystemExit('usage: kmeans-sklearn.py fit|eval ...')
    from sklearn import __version__ as sk_version
    from sklearn.cluster import MiniBatchKMeans
    path, n, d, k, batch, seed = sys.argv[2], *map(int, sys.argv[3:8])
    extra = sys.argv[8:]
    kw = dict(n_clusters=k, batch_size=batch, random_state=seed)
    while extra:
        flag = extra.pop(0)
        if flag == '--n-init':
            kw['n_init'] = int(extra.pop(0))
        else:
            raise SystemExit(f'unknown flag {flag}')
    x = load(path, n, d)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        km = MiniBatchKMeans(**kw)
        t = time.perf_counter()
        km.fit(x)
        secs = time.perf_counter() - t
    out = {
        'sklearn': sk_version,
        'seconds': round(secs, 2),
        'n_init': km._n_init,
        'init_size': int(km._init_size),
        'n_steps': int(km.n_steps_),
        'epochs': int(km.n_iter_),
    }
    out.update(score(x, km.cluster_centers_))
    print(json.dumps(out))


main()
