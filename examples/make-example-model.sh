#!/usr/bin/env bash
# Rebuilds the bundled example models from real text (GCIDE dictionary, Debian dict-gcide) with
# the Debian fasttext (skipgram). Needs: apt-get install dict-gcide fasttext.
#   examples/gcide-small.vec  word2vec text, 25 dims, words seen >= 20 times in the first 12 MB
#   examples/gcide-small.bin  the fastText model itself (2,000 n-gram buckets), for subword examples
# fastText training uses threads and is not bit-for-bit reproducible; the committed files are one run.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
./corpus.sh 12000000 > "$tmp/corpus.txt"
fasttext skipgram -input "$tmp/corpus.txt" -output "$tmp/model" -dim 25 -minCount 20 -bucket 2000 \
  -minn 3 -maxn 5 -epoch 5 -thread 2 -verbose 1
mv "$tmp/model.vec" gcide-small.vec
mv "$tmp/model.bin" gcide-small.bin
ls -l gcide-small.vec gcide-small.bin
# A text sample for the counts-from-text graph (examples/graphs/counts-from-text-topn.json).
./corpus.sh 20000000 | tail -c 300000 > gcide-text-sample.txt
