#!/bin/bash
# The producers of Errc::unavailable in the code that decides logins (oidc/, daemon/, decision/,
# directory/, common/, pam/) must be exactly those of tests/unavailable-producers.tsv, and every test that
# table names must exist. Unavailable opens the break-glass line: a new producer needs a review
# (can anything the user sends reach it?), an entry, and a test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
table=$root/tests/unavailable-producers.tsv
cd "$root"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# "file<TAB>reason" for every producer found in the code.
found=$(grep -rnE 'make_error\(Errc::unavailable|\.code = Errc::unavailable' \
    oidc daemon decision directory common pam --include='*.cpp' --include='*.hpp' |
    sed -nE 's#^([^:]+):[0-9]+:.*make_error\(Errc::unavailable, "([a-z_0-9]+)".*#\1\t\2#p;
              s#^([^:]+):[0-9]+:.*make_error\(Errc::unavailable, std::move\(reason\).*#\1\t*#p;
              s#^([^:]+):[0-9]+:.*\.code = Errc::unavailable.*#\1\t*#p' | sort -u)
listed=$(grep -v '^#' "$table" | cut -f1,2 | sort -u)

while IFS= read -r p; do
    [ -n "$p" ] || continue
    grep -qxF "$p" <<<"$listed" || fail "unlisted producer of Errc::unavailable: $p (review it, add a row and a test)"
done <<<"$found"
while IFS= read -r p; do
    [ -n "$p" ] || continue
    grep -qxF "$p" <<<"$found" || fail "listed producer no longer in the code: $p"
done <<<"$listed"

# Every test the table names exists.
while IFS=$'\t' read -r file reason input tests; do
    [ -n "$file" ] || continue
    [ -n "$input" ] || fail "$file $reason: no input described"
    for t in $tests; do
        f=${t%%:*} fn=${t#*:}
        grep -qE "(^|[^a-z_0-9])$fn[ (]" "$f" 2>/dev/null || fail "$file $reason: no test $fn in $f"
    done
done < <(grep -v '^#' "$table")

[ "$failures" = 0 ] || exit 1
echo "$(wc -l <<<"$found") producers of Errc::unavailable, each listed with its input and tests"
