#!/bin/bash
# The test command of the README: builds psc-login three ways and runs every test.
#   1. g++, warnings as errors: unit and integration tests
#   2. g++ with AddressSanitizer + UndefinedBehaviorSanitizer: the same tests
#   3. clang-14 with libFuzzer (+ ASan/UBSan): every fuzz target for a bounded number of runs
# Usage: scripts/test.sh [--quick]   (--quick: only step 1)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

./scripts/bootstrap.sh

jobs=$(nproc)
summary=()

run_suite() { # name builddir meson-setup-args...
    local name=$1 dir=$2
    shift 2
    echo "=== ${name}: configure (${dir})"
    if [ ! -f "${dir}/build.ninja" ]; then
        meson setup "${dir}" "$@"
    else
        meson configure "${dir}" "$@" >/dev/null
    fi
    echo "=== ${name}: build"
    meson compile -C "${dir}" -j "${jobs}"
    echo "=== ${name}: test"
    local rc=0
    meson test -C "${dir}" --print-errorlogs --num-processes "${jobs}" "${MESON_TEST_ARGS[@]}" || rc=$?
    summary+=("${dir}")
    return ${rc}
}

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

status=0
MESON_TEST_ARGS=()
run_suite "gcc" build -Dwerror=true || status=1

if [ "${quick}" = 0 ]; then
    run_suite "gcc+asan+ubsan" build-asan -Dwerror=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dcpp_args=-fno-sanitize-recover=all -Dbench=disabled || status=1

    MESON_TEST_ARGS=(--suite fuzz)
    CC=clang-14 CXX=clang++-14 run_suite "clang+libfuzzer" build-fuzz -Dwerror=true \
        -Dfuzzing=true -Dtests=false -Db_sanitize=address,undefined -Db_lundef=false \
        -Dcpp_args=-fno-sanitize-recover=all -Dbench=disabled || status=1
fi

# One closing line over every build, in the plain form CI reads.
python3 - "${summary[@]}" <<'PY'
import json, sys, os
passed = failed = skipped = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        continue
    for line in open(log):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit ${status}
