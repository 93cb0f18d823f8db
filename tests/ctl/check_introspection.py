#!/usr/bin/python3
"""check_introspection.py INSTALLED_XML LIVE_XML: the interface description psc-login installs
(daemon/org.psclogin.Auth1.xml) declares exactly what the running psc-authd answers to —
the same methods with the same argument names, types and directions, the same properties with
the same types and access. Exit 1 with the differences otherwise."""
import sys
import xml.etree.ElementTree as ET

IFACE = "org.psclogin.Auth1"


def members(path):
    root = ET.parse(path).getroot()
    iface = next((i for i in root.iter("interface") if i.get("name") == IFACE), None)
    if iface is None:
        sys.exit(f"{path}: no interface {IFACE}")
    out = {}
    for m in iface.findall("method"):
        args = tuple((a.get("name"), a.get("type"), a.get("direction", "in"))
                     for a in m.findall("arg"))
        out["method " + m.get("name")] = args
    for p in iface.findall("property"):
        out["property " + p.get("name")] = (p.get("type"), p.get("access"))
    for s in iface.findall("signal"):
        out["signal " + s.get("name")] = tuple((a.get("name"), a.get("type"))
                                               for a in s.findall("arg"))
    return out


documented, live = members(sys.argv[1]), members(sys.argv[2])
problems = []
for name in sorted(set(documented) | set(live)):
    if name not in live:
        problems.append(f"documented but not served: {name}")
    elif name not in documented:
        problems.append(f"served but not documented: {name} {live[name]}")
    elif documented[name] != live[name]:
        problems.append(f"differs: {name}: documented {documented[name]}, served {live[name]}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"{len(live)} members match")
