#!/usr/bin/env bash
# Top-N exact: generated 200k x 300 word2vec binary, keep 20k; prune-pipe against the numpy
# reference of spaCy's algorithm in the same run. Prints name, wall seconds, peak RSS MB and the ratio.
# usage: bench/topn-vs-numpy.sh [ROWS] [KEEP] [extra prune-pipe options...]
source "$(dirname "$0")/lib.sh"
rows=${1:-200000}; keep=${2:-20000}; shift 2 || true
model=$(gen_w2v "$rows" 300)
# numpy with OpenBLAS: OPENBLAS_CORETYPE slows a current numpy; unset for the reference only.
a=$(measure "numpy-ref $rows keep $keep" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$BENCH_DIR/spacy_prune.py" "$model" "$keep" "$DATA/ref.tsv")
b=$(measure "prune-pipe $rows keep $keep $*" $PP prune "$model" -o "$DATA/out.bin" --keep "$keep" -q "$@")
ta=$(echo "$a" | cut -f2); tb=$(echo "$b" | cut -f2)
echo "ratio prune-pipe/numpy: $(awk -v a="$ta" -v b="$tb" 'BEGIN{printf "%.2f", b/a}')"
rm -f "$DATA/out.bin" "$DATA/ref.tsv"
