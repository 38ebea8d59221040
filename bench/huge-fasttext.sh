#!/usr/bin/env bash
# Prunes a huge fastText .bin (default bench/data/ft2m.bin: 2M words + 2M buckets x 300, made by
# ../shared/bench/gen_ftbin.py) to --keep 100000 in every variant of docs/huge-fasttext.md, each
# under /usr/bin/time -v, and measures fastText's and gensim's load of the same model in the same run.
#
# usage: bash bench/huge-fasttext.sh [--cli PATH/main.js] [--model FILE] [--timeout S] [--peers]
#                                    [--variants a,b,...] [--extra "ARGS"]
#   variants: fifu ftz w2v-expanded w2v-kept nearest-expanded nearest-kept nearest-ngram (default: all
#   but nearest-ngram; nearest-ngram: --pruned-words nearest with the n-gram candidate index,
#   docs/ngram-search.md, shortlist 64, agreement with exact search reported, not enforced)
# One line per run is appended to bench/results/huge-fasttext.tsv:
#   date label variant exit wall_s user_s sys_s peak_rss_mb output_bytes load1 command
# The run's JSON report goes to $OUT/<variant>.json (outputs and reports under $OUT, default
# bench/out/huge).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLI=$ROOT/dist/bundle/main.js   # the installed program (package.json "bin")
MODEL=$ROOT/bench/data/ft2m.bin
TIMEOUT=900
PEERS=0
VARIANTS=fifu,ftz,w2v-expanded,w2v-kept,nearest-expanded,nearest-kept
EXTRA=
LABEL=${LABEL:-now}
OUT=${OUT:-$ROOT/bench/out/huge}
while [ $# -gt 0 ]; do
  case $1 in
    --cli) CLI=$2; shift 2 ;;
    --model) MODEL=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --peers) PEERS=1; shift ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --extra) EXTRA=$2; shift 2 ;;
    --label) LABEL=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT" "$ROOT/bench/results"
RESULTS=$ROOT/bench/results/huge-fasttext.tsv

# run VARIANT OUTPUT_FILE CMD...: one measured run
run() {
  local variant=$1 output=$2; shift 2
  local log=$OUT/$variant.time
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  rm -f "$output"
  /usr/bin/time -v timeout "$TIMEOUT" "$@" > "$OUT/$variant.stdout" 2> "$log"
  local code=$?
  local wall user sys rss bytes
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  user=$(awk -F': ' '/User time/{print $2}' "$log")
  sys=$(awk -F': ' '/System time/{print $2}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/{printf "%.0f", $2/1024}' "$log")
  bytes=$( [ -f "$output" ] && stat -c %s "$output" || echo 0)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$LABEL" "$variant" "$code" "$wall" "$user" "$sys" "$rss" "$bytes" "$load" "$*" | tee -a "$RESULTS"
}

IFS=, read -r -a list <<< "$VARIANTS"
for v in "${list[@]}"; do
  case $v in
    fifu) run "$v" "$OUT/pruned.fifu" node "$CLI" prune "$MODEL" -o "$OUT/pruned.fifu" --keep 100000 -q --report "$OUT/$v.json" $EXTRA ;;
    ftz) run "$v" "$OUT/pruned.ftz" node "$CLI" prune "$MODEL" -o "$OUT/pruned.ftz" --keep 100000 -q --report "$OUT/$v.json" $EXTRA ;;
    w2v-expanded) run "$v" "$OUT/expanded.bin" node "$CLI" prune "$MODEL" -o "$OUT/expanded.bin" --keep 100000 -q --report "$OUT/$v.json" $EXTRA ;;
    w2v-kept) run "$v" "$OUT/kept.bin" node "$CLI" prune "$MODEL" -o "$OUT/kept.bin" --layout kept --keep 100000 -q --report "$OUT/$v.json" $EXTRA ;;
    nearest-expanded) run "$v" "$OUT/nearest-expanded.bin" node "$CLI" prune "$MODEL" -o "$OUT/nearest-expanded.bin" --pruned-words nearest --keep 100000 -q --report "$OUT/$v.json" $EXTRA ;;
    nearest-kept) run "$v" "$OUT/nearest-kept.bin" node "$CLI" prune "$MODEL" -o "$OUT/nearest-kept.bin" --pruned-words nearest --layout kept --keep 100000 -q --report "$OUT/$v.json" $EXTRA ;;
    nearest-ngram) run "$v" "$OUT/nearest-ngram.bin" node "$CLI" prune "$MODEL" -o "$OUT/nearest-ngram.bin" --pruned-words nearest --search approx --search-index ngram --shortlist 64 --min-agreement 0.5 --keep 100000 -q --report "$OUT/$v.json" $EXTRA ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
done

if [ "$PEERS" = 1 ]; then
  # fastText loads the whole model before it prints the first vector; one word on stdin.
  echo the > "$OUT/one-word.txt"
  run fasttext-load /dev/null sh -c "fasttext print-word-vectors '$MODEL' < '$OUT/one-word.txt' > /dev/null"
  run gensim-load /dev/null /usr/bin/python3 -c "from gensim.models.fasttext import load_facebook_vectors as l; l('$MODEL')"
fi
