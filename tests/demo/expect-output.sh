#!/bin/sh
# expect-output.sh TEXT COMMAND...: runs COMMAND, shows its output, passes if TEXT is in it.
# (A refused login exits 1 by design; the test checks the *reason*, not just the status.)
set -u
want=$1
shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n(exit %d)\n' "$out" "$rc"
printf '%s' "$out" | grep -qF -- "$want" || { echo "FAIL: output lacks: $want" >&2; exit 1; }
