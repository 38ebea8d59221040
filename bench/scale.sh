#!/usr/bin/env bash
# Scale benchmarks (issue 7, docs/scale.md). One command per row; each prints its result lines
# (name, wall seconds, peak RSS MB) and appends them to $RESULTS (bench/data/results.tsv).
#   bench/scale.sh big        generated 1M x 300 word2vec binary, keep 50k: numpy reference then
#                             prune-pipe (--search auto) in the same run; ratio, full agreement with
#                             the reference mapping, mean cosine lost, search report
#   bench/scale.sh real       bench/data/gcide-100.vec (bench/make-real-model.sh), keep 20k, end to end
#   bench/scale.sh rows       keep 50k, rows 250k 500k 1M 2M (prune-pipe, auto): time and growth exponent
#   bench/scale.sh keep       rows 1M, keep 10k 50k 100k (prune-pipe, auto): time and growth exponent
# Generated models are cached in bench/data (git-ignored; delete them afterwards: 1.2 GB per 1M rows).
# The numpy reference runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (they slow a current numpy).
# Output: kept rows as word2vec binary plus the mapping file (the reference writes a mapping file).
# REF_SECONDS=S [REF_RSS=MB] bench/scale.sh big: reuse the reference mapping of an earlier run.
source "$(dirname "$0")/lib.sh"
OUT=${OUT:-$DATA/scale-out}
mkdir -p "$OUT"
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"; }
NUMPY_ENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

# pp NAME MODEL KEEP [options]: prune-pipe, mapping and report in $OUT
pp() {
  local name=$1 model=$2 keep=$3; shift 3
  measure "$name" $PP prune "$model" -o "$OUT/kept.bin" --layout kept --mapping "$OUT/map.tsv" --keep "$keep" --report "$OUT/report.json" -q "$@"
  /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); s=r.get("search",{}); print("  search:", json.dumps({k: s.get(k) for k in ("mode","reason","verify","calibration") if k in s})); print("  stages:", json.dumps(r["stages"]))' "$OUT/report.json"
}

ratio() { awk -v a="$(echo "$1" | cut -f2)" -v b="$(echo "$2" | cut -f2)" 'BEGIN{printf "%.3f", b/a}'; }

# growth NAME X1 T1 X2 T2 ...: exponent of t ~ x^k by least squares on logs
growth() {
  local name=$1; shift
  echo "$@" | awk -v name="$name" '{ n=0; for (i=1;i<=NF;i+=2) { x=log($i); y=log($(i+1)); n++; sx+=x; sy+=y; sxx+=x*x; sxy+=x*y } k=(n*sxy-sx*sy)/(n*sxx-sx*sx); printf "growth exponent (%s): %.2f\n", name, k }'
}

case "${1:-}" in
  big)
    model=$(gen_w2v 1000000 300)
    load
    "${NUMPY_ENV[@]}" /usr/bin/python3 -c 'import numpy, threadpoolctl; print("numpy", numpy.__version__, [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpoolctl.threadpool_info()])' 2>/dev/null || true
    if [ -n "${REF_SECONDS:-}" ] && [ -s "$OUT/ref.tsv" ]; then
      a=$(printf 'numpy-ref 1M x 300 keep 50000 (earlier run)\t%s\t%s' "$REF_SECONDS" "${REF_RSS:-?}")
    else
      a=$(measure "numpy-ref 1M x 300 keep 50000" "${NUMPY_ENV[@]}" /usr/bin/python3 "$BENCH_DIR/spacy_prune.py" "$model" 50000 "$OUT/ref.tsv")
    fi
    echo "$a"
    load
    b=$(pp "prune-pipe 1M x 300 keep 50000 auto" "$model" 50000)
    echo "$b"
    load
    echo "ratio prune-pipe/numpy: $(ratio "$a" "$(echo "$b" | head -1)")"
    echo "against the exact reference: $(/usr/bin/python3 "$BENCH_DIR/compare-mappings.py" "$OUT/ref.tsv" "$OUT/map.tsv")"
    ;;
  real)
    model=$DATA/gcide-100.vec
    [ -s "$model" ] || "$BENCH_DIR/make-real-model.sh"
    load
    a=$(measure "numpy-ref gcide-100.vec keep 20000" "${NUMPY_ENV[@]}" /usr/bin/python3 "$BENCH_DIR/spacy_prune.py" "$model" 20000 "$OUT/ref.tsv")
    echo "$a"
    b=$(pp "prune-pipe gcide-100.vec keep 20000 auto" "$model" 20000)
    echo "$b"
    load
    echo "ratio prune-pipe/numpy: $(ratio "$a" "$(echo "$b" | head -1)")"
    echo "against the exact reference: $(/usr/bin/python3 "$BENCH_DIR/compare-mappings.py" "$OUT/ref.tsv" "$OUT/map.tsv")"
    ;;
  rows)
    pts=()
    for r in 250000 500000 1000000 2000000; do
      model=$(gen_w2v "$r" 300)
      load
      b=$(pp "prune-pipe $r x 300 keep 50000 auto" "$model" 50000)
      echo "$b"
      pts+=("$r" "$(echo "$b" | head -1 | cut -f2)")
    done
    growth "rows, keep 50000" "${pts[@]}"
    ;;
  keep)
    model=$(gen_w2v 1000000 300)
    pts=()
    for k in 10000 50000 100000; do
      load
      b=$(pp "prune-pipe 1M x 300 keep $k auto" "$model" "$k")
      echo "$b"
      pts+=("$k" "$(echo "$b" | head -1 | cut -f2)")
    done
    growth "keep, 1M rows" "${pts[@]}"
    ;;
  *)
    sed -n '2,12p' "$0"
    exit 2
    ;;
esac
rm -f "$OUT/kept.bin"
