#!/bin/sh
# run-fuzzer.sh FUZZER SEED_DIR RUNS
# libFuzzer writes new inputs into its first corpus directory; give it a scratch one so the
# checked-in seeds stay untouched, and remove it afterwards (tests leave nothing behind).
set -eu
fuzzer=$(readlink -f "$1") seeds=$(readlink -f "$2") runs=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/psc-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
cd "$scratch"
"$fuzzer" -runs="$runs" -max_len=65536 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -error_exitcode=1 -timeout_exitcode=1 \
    -artifact_prefix="$scratch/" "$scratch" "$seeds"
