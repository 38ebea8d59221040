#!/usr/bin/env bash
# k-means memory (issue 5): the generated 1M x 300 word2vec binary pruned to k = 5,000 with
# --method kmeans, and with top-N at the same N for the baseline, both with a 256 MB V8 heap (as
# bench/memory.sh). Prints "name wall_s peak_rss_mb" and appends to $RESULTS (bench/data/results.tsv).
# usage: bench/kmeans-memory.sh [ROWS] [K]   (default 1000000 5000)
source "$(dirname "$0")/lib.sh"
rows=${1:-1000000}
k=${2:-5000}
model=$(gen_w2v "$rows" 300)
echo "load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
measure "memory $rows x 300 topn keep $k" node --max-old-space-size=256 "$ROOT/dist/bundle/main.js" prune "$model" -o "$DATA/km-out.bin" --keep "$k" -q --report "$DATA/km-topn.json"
measure "memory $rows x 300 kmeans keep $k" node --max-old-space-size=256 "$ROOT/dist/bundle/main.js" prune "$model" -o "$DATA/km-out.bin" --method kmeans --keep "$k" -q --report "$DATA/km-kmeans.json"
rm -f "$DATA/km-out.bin"
