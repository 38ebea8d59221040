# Shared helpers for the benchmark scripts (sourced).
# measure NAME CMD...: runs CMD under /usr/bin/time -v, prints "NAME wall_s peak_rss_mb" and appends to $RESULTS.
set -eu
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
DATA=${BENCH_DATA:-$BENCH_DIR/data}
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
mkdir -p "$DATA"
RESULTS=${RESULTS:-$DATA/results.tsv}
PP="node $ROOT/dist/bundle/main.js"   # the installed program (package.json "bin")

measure() {
  local name=$1; shift
  local log
  log=$(mktemp)
  /usr/bin/time -v "$@" 2> "$log" >/dev/null || { cat "$log" >&2; rm -f "$log"; return 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/{printf "%.0f", $2/1024}' "$log")
  rm -f "$log"
  printf '%s\t%s\t%s\n' "$name" "$wall" "$rss" | tee -a "$RESULTS"
}

# gen_w2v ROWS DIM: generated word2vec binary (cached in $DATA)
gen_w2v() {
  local f="$DATA/synth-$1x$2.bin"
  [ -s "$f" ] || /usr/bin/python3 "$SHARED_BENCH/gen_synth.py" "$f" "$1" "$2" >&2
  echo "$f"
}
