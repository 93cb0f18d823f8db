#!/usr/bin/env python3
"""The repository stands alone: no tracked file refers to a path outside it (a sibling checkout,
a spec or an issue tracker users do not have), and every relative link in the Markdown documents
points at a file that exists in the repository."""
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
this = os.path.relpath(os.path.abspath(__file__), root)

# Paths and names that only exist beside the development checkout.
FORBIDDEN = [
    (re.compile(r"\.\./shared\b"), "a path outside the repository"),
    (re.compile(r"PSC_TEST_SHARED_DIR"), "a test input outside the repository"),
    (re.compile(r"\b(?:SPEC|PSC|STYLE)\.md\b"), "a document that is not in the repository"),
    (re.compile(r"\bSPEC §"), "a document that is not in the repository (use docs/design.md)"),
    (re.compile(r"\bissues? #\d+"), "an issue number users cannot look up"),
]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def tracked_files():
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                             capture_output=True).stdout.decode()
        return [f for f in out.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):  # an unpacked tarball: walk the tree
        files = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith((".git", "build"))]
            files += [os.path.relpath(os.path.join(d, n), root) for n in names]
        return files


failures = []
for rel in tracked_files():
    if rel == this:
        continue
    path = os.path.join(root, rel)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
        continue
    for n, line in enumerate(text.split("\n"), 1):
        for pattern, why in FORBIDDEN:
            if pattern.search(line):
                failures.append(f"{rel}:{n}: {why}: {line.strip()[:100]}")
        if rel.endswith(".md"):
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):  # https:, mailto:
                    continue
                dest = os.path.normpath(os.path.join(os.path.dirname(path), target))
                if not dest.startswith(root + os.sep) or not os.path.exists(dest):
                    failures.append(f"{rel}:{n}: link to a missing or outside file: {target}")

for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print("no tracked file refers to anything outside the repository")
