#!/usr/bin/env bash
# Writes plain lower-case English text from the GCIDE dictionary (Debian package dict-gcide:
# Webster's 1913 dictionary with additions) to standard output: markup removed, one entry per line.
# usage: examples/corpus.sh [MAX_BYTES]
set -eu  # no pipefail: head closing the pipe early is expected
dict=$(dpkg -L dict-gcide | grep 'gcide.dict.dz$')
max=${1:-0}
zcat "$dict" \
  | sed -e 's/<[^>]*>/ /g' -e 's/&[a-z]*;/ /g' \
  | tr -c "A-Za-z'\n" ' ' | tr 'A-Z' 'a-z' | tr -s ' ' \
  | { if [ "$max" -gt 0 ]; then head -c "$max"; else cat; fi; }
