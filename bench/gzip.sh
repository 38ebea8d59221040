#!/usr/bin/env bash
# Compressed input (issue 13): a generated 1M x 300 word2vec text model pruned to 2,000 rows, read
#   1. uncompressed,
#   2. gzip-compressed (prune-pipe detects the gzip magic and re-reads the .gz for its second pass),
#   3. decompressed by `gzip -dc` into prune-pipe's standard input (spilled to the temp folder).
# Same output (word2vec binary, expanded) each time; the three outputs must be identical.
# Prints "name wall_s peak_rss_mb" per run and appends them to $RESULTS (bench/data/results.tsv).
# usage: bench/gzip.sh [ROWS]   (default 1000000; the model and its .gz are cached in bench/data)
source "$(dirname "$0")/lib.sh"
rows=${1:-1000000}
txt="$DATA/synth-${rows}x300.txt"
[ -s "$txt" ] || /usr/bin/python3 "$SHARED_BENCH/gen_synth.py" "$txt" "$rows" 300 --format text >&2
[ -s "$txt.gz" ] || { gzip -c "$txt" > "$txt.gz.part" && mv "$txt.gz.part" "$txt.gz"; }
echo "text $(stat -c %s "$txt") bytes, gzip $(stat -c %s "$txt.gz") bytes; load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

# a pipeline under /usr/bin/time: time -v measures the shell and both sides of the pipe
measure "gzip $rows x 300 text: uncompressed" $PP prune "$txt" -o "$DATA/gz-plain.bin" --keep 2000 -q
measure "gzip $rows x 300 text: .gz input" $PP prune "$txt.gz" -o "$DATA/gz-gz.bin" --keep 2000 -q
measure "gzip $rows x 300 text: gzip -dc | prune -" sh -c "gzip -dc '$txt.gz' | $PP prune - -o '$DATA/gz-pipe.bin' --keep 2000 -q"
cmp "$DATA/gz-plain.bin" "$DATA/gz-gz.bin" && cmp "$DATA/gz-plain.bin" "$DATA/gz-pipe.bin" && echo "the three outputs are identical"
rm -f "$DATA/gz-plain.bin" "$DATA/gz-gz.bin" "$DATA/gz-pipe.bin"
