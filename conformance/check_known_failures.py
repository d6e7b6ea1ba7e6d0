#!/usr/bin/env python3
"""Compares a suite's failures with the deviations listed in known-failures.json.

usage: check_known_failures.py SUITE REPORT.json KNOWN.json
SUITE is scim-sanity (its --json-output) or microsoft (newman's JSON reporter).
Prints every failure (marked known or NEW) and a closing "N passed, N failed" line; exits 1 if a
failure is not listed as known. Known failures that no longer fail are reported as fixed, so the
list can be pruned.
"""
import json
import sys


def scim_sanity(report):
    passed, failed = [], {}
    for r in report.get("results", []):
        status = r.get("status")
        if status == "pass":
            passed.append(r["name"])
        elif status in ("fail", "error"):
            failed[r["name"]] = r.get("message") or r.get("detail") or r.get("error") or ""
    return passed, failed


def microsoft(report):
    passed, failed = [], {}
    for ex in report.get("run", {}).get("executions", []):
        item = ex.get("item", {}).get("name", "?")
        for a in ex.get("assertions", []) or []:
            name = f"{item} / {a.get('assertion', '?')}"
            if a.get("error"):
                failed[name] = a["error"].get("message", "")
            else:
                passed.append(name)
    return passed, failed


def main():
    suite, report_path, known_path = sys.argv[1:4]
    report = json.load(open(report_path))
    known = json.load(open(known_path)).get(suite, {})
    passed, failed = {"scim-sanity": scim_sanity, "microsoft": microsoft}[suite](report)
    new = 0
    for name, message in sorted(failed.items()):
        if name in known:
            print(f"known  {name}: {known[name]}")
        else:
            new += 1
            print(f"NEW    {name}: {message[:300]}")
    for name in sorted(set(known) - set(failed)):
        print(f"fixed  {name} (listed as known; remove it from known-failures.json)")
    print(f"{suite}: {len(failed) - new} known deviations, {new} new failures")
    print(f"{len(passed)} passed, {len(failed)} failed")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
