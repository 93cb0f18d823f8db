#!/bin/bash
# Every man page renders without a warning (a table wider than the page, a line troff cannot
# adjust, an unknown request), as `man --warnings` shows an administrator.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
failures=0
for page in "$root"/man/*.[1-8]; do
    out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    if [ -n "$out" ]; then
        echo "FAIL: $(basename "$page"): $out"
        failures=$((failures + 1))
    fi
done
[ "$failures" = 0 ] || exit 1
echo "all man pages render without warnings"
