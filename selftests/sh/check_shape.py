# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Checks JSON outputs against the shapes of docs/json.md (its ```shape NAME```
# blocks; the notation is described there).  Used by json_lib.sh for
# test_ctl_json.sh and test_loader_json.sh.
#
# Usage: check_shape.py DOC LIST, LIST holding "SHAPE FILE" lines; prints
# "ok" or the problem, one line per entry (every output in one interpreter:
# cheap under emulation).
import json, re, sys
doc = open(sys.argv[1]).read()
shapes = {m.group(1): json.loads(m.group(2))
          for m in re.finditer(r"```shape (\w+)\n(.*?)```", doc, re.S)}

def check(v, t, path):
    if isinstance(t, str):
        errs = []
        for alt in t.split("|"):
            if alt.startswith("@"):
                e = check(v, shapes[alt[1:]], path)
                if not e:
                    return []
                errs += e
            elif (alt == "string" and isinstance(v, str)) or \
                 (alt == "number" and isinstance(v, (int, float)) and not isinstance(v, bool)) or \
                 (alt == "bool" and isinstance(v, bool)) or (alt == "null" and v is None):
                return []
        return errs or ["%s: %r is not %s" % (path, v, t)]
    if isinstance(t, list):
        if not isinstance(v, list):
            return ["%s: not an array" % path]
        return [e for i, x in enumerate(v) for e in check(x, t[0], "%s[%d]" % (path, i))]
    if not isinstance(v, dict):
        return ["%s: not an object" % path]
    errs = []
    keys = {k.rstrip("?"): k for k in t if k != "*"}
    for k, spec in keys.items():
        if k not in v:
            if not spec.endswith("?"):
                errs.append("%s: no key %s" % (path, k))
            continue
        errs += check(v[k], t[spec], path + "." + k)
    for k in v:
        if k not in keys:
            if "*" in t:
                errs += check(v[k], t["*"], path + "." + k)
            else:
                errs.append("%s: key %s is not in the shape" % (path, k))
    return errs

def verdict(shape, text):
    if shape not in shapes:
        return "docs/json.md has no shape %s" % shape
    n = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        n += 1
        try:
            v = json.loads(line)
        except ValueError as e:
            return "not JSON (%s): %s" % (e, line[:200])
        errs = check(v, "@" + shape, "$")
        if errs:
            return "; ".join(errs[:5])
    return None if n else "no output"

# "!SHAPE FILE": FILE is wrong on purpose and must be refused (the test's
# own proof that the check can fail)
for entry in open(sys.argv[2]).read().splitlines():
    shape, path = entry.split(" ", 1)
    v = verdict(shape.lstrip("!"), open(path).read())
    if shape.startswith("!"):
        v = None if v else "a wrong output passed as %s" % shape[1:]
    print(v or "ok")
