#!/usr/bin/env bash
# The real model used by quality and speed benchmarks: fastText skipgram, 100 dims, trained with
# the Debian fasttext on the whole GCIDE dictionary text (examples/corpus.sh), words seen >= 3 times.
# Writes bench/data/gcide-100.bin and bench/data/gcide-100.vec (~100k words). Takes a few minutes.
set -eu
cd "$(dirname "$0")"
mkdir -p data
[ -s data/gcide.txt ] || ../examples/corpus.sh > data/gcide.txt
fasttext skipgram -input data/gcide.txt -output data/gcide-100 -dim 100 -minCount 3 -epoch 5 -thread 2 -verbose 1
ls -l data/gcide-100.bin data/gcide-100.vec
head -1 data/gcide-100.vec
