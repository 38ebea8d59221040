#!/usr/bin/env bash
# Bounded memory: generated 1M x 300 and 2M x 300 word2vec binaries (1.2 and 2.4 GB), pruned to 2,000
# rows with a 256 MB V8 heap. Peak RSS must stay <= 400 MB and must not grow with the input size.
# usage: bench/memory.sh [ROWS...]   (default: 1000000 2000000)
source "$(dirname "$0")/lib.sh"
for rows in "${@:-1000000 2000000}"; do
  for r in $rows; do
    model=$(gen_w2v "$r" 300)
    measure "memory $r x 300 keep 2000" node --max-old-space-size=256 "$ROOT/dist/bundle/main.js" prune "$model" -o "$DATA/out.bin" --keep 2000 -q
    rm -f "$DATA/out.bin"
  done
done
