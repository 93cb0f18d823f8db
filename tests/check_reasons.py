#!/usr/bin/env python3
"""Every reason psc-authd, pam_psc and the shared code can give has exactly one row in
docs/troubleshooting.md, and every row there is a reason the code can still give.

Reasons are found in the source the way they are written: the reason argument of make_error()
and of the per-file error helpers (a function returning Error whose first parameter is
`reason`), the reason of configuration errors (error_at), expired_reason assignments, and the
provider's OAuth error codes that are passed through as reasons (enum OAuthErrorKind)."""
import glob
import os
import re
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
dirs = ["common", "oidc", "decision", "directory", "daemon", "pam"]
sources = {}
for d in dirs:
    for f in sorted(glob.glob(os.path.join(root, d, "*.[ch]pp"))):
        with open(f, encoding="utf-8") as fh:
            sources[os.path.relpath(f, root)] = fh.read()

# Helpers: `Error NAME(std::string reason, ...)` in any of the files.
helpers = {"make_error"}
for text in sources.values():
    helpers.update(re.findall(r"\bError\s+([a-z_]+)\(\s*std::string(?:_view)?\s+reason", text))
helpers.discard("make_error")
helper_alt = "|".join(sorted(helpers))
patterns = [
    re.compile(r"\bmake_error\(\s*(?:Errc::\w+|[^,()]+\?[^,()]+:[^,()]+)\s*,\s*\"([a-z][a-z0-9_]*)\""),
    re.compile(r"\b(?:" + helper_alt + r")\(\s*\"([a-z][a-z0-9_]*)\""),
    re.compile(r"\berror_at\(\s*\w+\s*,[^;]*?,[^;]*?,\s*\"([a-z][a-z0-9_]*)\"", re.S),
    re.compile(r"\bexpired_reason\s*=\s*\"([a-z][a-z0-9_]*)\""),
]
reasons = {}
for path, text in sources.items():
    for p in patterns:
        for m in p.finditer(text):
            reasons.setdefault(m.group(1), path)
enum = re.search(r"enum class OAuthErrorKind \{([^}]*)\}", sources["oidc/token_response.hpp"])
for member in re.findall(r"([a-z_]+),", enum.group(1)):
    if member != "other":
        reasons.setdefault(member, "oidc/token_response.hpp")

doc_path = os.path.join(root, "docs", "troubleshooting.md")
rows = {}
failures = []
with open(doc_path, encoding="utf-8") as fh:
    for n, line in enumerate(fh, 1):
        m = re.match(r"\|\s*`([a-z][a-z0-9_]*)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|\s*$", line)
        if not m:
            continue
        name = m.group(1)
        if name in rows:
            failures.append(f"docs/troubleshooting.md:{n}: `{name}` has two rows")
        rows[name] = n
        if any(not c.strip() for c in m.groups()[1:]):
            failures.append(f"docs/troubleshooting.md:{n}: `{name}` has an empty column")

if len(reasons) < 250:  # the extraction itself broke (a refactor renamed the helpers?)
    failures.append(f"only {len(reasons)} reasons found in the source: fix tests/check_reasons.py")
for name, path in sorted(reasons.items()):
    if name not in rows:
        failures.append(f"{path}: reason `{name}` has no row in docs/troubleshooting.md")
for name, n in sorted(rows.items(), key=lambda kv: kv[1]):
    if name not in reasons:
        failures.append(f"docs/troubleshooting.md:{n}: `{name}` is not a reason the code gives")

for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print(f"{len(reasons)} reasons, each with its row in docs/troubleshooting.md")
