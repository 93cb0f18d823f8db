#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares one interface of a D-Bus introspection (stdin: busctl introspect --xml-interface)
with the same interface in a reference description: every method of the reference with the same
argument types in order and direction, every property with the same type and access. Extra
members on the introspected side are allowed (SSSD has more). Exit 1 with the differences."""
import sys
import xml.etree.ElementTree as ET


def members(root, name):
    for iface in root.iter("interface"):
        if iface.get("name") == name:
            methods = {
                m.get("name"): [(a.get("direction", "in"), a.get("type")) for a in m.iter("arg")]
                for m in iface.iter("method")
            }
            props = {p.get("name"): (p.get("type"), p.get("access")) for p in iface.iter("property")}
            return methods, props
    return None


def main():
    reference, iface = sys.argv[1], sys.argv[2]
    want = members(ET.parse(reference).getroot(), iface)
    got = members(ET.fromstring(sys.stdin.read()), iface)
    if want is None:
        print(f"{iface}: not in {reference}")
        return 1
    if got is None:
        print(f"{iface}: not served")
        return 1
    problems = []
    for name, args in want[0].items():
        if got[0].get(name) != args:
            problems.append(f"method {name}: want {args}, served {got[0].get(name)}")
    for name, prop in want[1].items():
        if got[1].get(name) != prop:
            problems.append(f"property {name}: want {prop}, served {got[1].get(name)}")
    for p in problems:
        print(f"{iface}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
