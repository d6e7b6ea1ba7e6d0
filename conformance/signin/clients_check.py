#!/usr/bin/env python3
"""Signs in to a live cloudsso from the terminal with unmodified clients from PyPI, the
browser step played by `approver.Browser` over HTTP, then takes the access away and checks
the credentials the clients got are refused by STS within a second:

  (A) alibabacloud-credentials' CloudSSO provider from a `mode: CloudSSO` profile, then
      alibabacloud-sts20150401 GetCallerIdentity (alibaba_clients.py);
  (B) boto3, (C) AWS CLI v1 and (D) aws-sso-util against the AWS sso-oidc / sso protocols
      (aws_clients.py), and their credentials at cloudsso's AWS STS;
  then: the user removed from the group over SCIM (the group's configuration refused, the
  direct one still accepted), then disabled over SCIM (everything refused).

Runs with HOME set to a scratch folder (the clients' ~/.aliyun and ~/.aws files go there).
Prints one line per check; exits 1 if any failed.

Usage: clients_check.py <data dir of a running `cloudsso serve`>
"""

import concurrent.futures
import os
import pwd
import sys
import time

import alibaba_clients as ali
import aws_clients
from approver import Browser
from checks import check, failures, passed, until
from directory_setup import DIRECT, GROUPED, USER, scim_patch, set_up

# Revocation must reach issued credentials within this.
REVOKED_WITHIN_SECONDS = 1.0


def revoked(what, probes, want_refused, since=None):
    """Checks each (name, probe, refusal codes) reaches the wanted answer: accepted, or refused
    with one of its codes by a call that ended within REVOKED_WITHIN_SECONDS of `since` (a
    `time.monotonic()`, when the change was answered). A probe returns the refusal's code,
    None when the call is accepted. The refusals are probed side by side, each in a thread, so
    one probe's time does not count against another."""
    if not want_refused:
        for name, probe, _ in probes:
            code = probe()
            check(f"{what}: {name} still accepted", code is None, code)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(probes)) as pool:
        answers = list(pool.map(lambda p: until(p[1], REVOKED_WITHIN_SECONDS, started=since), probes))
    for (name, _, codes), (code, taken) in zip(probes, answers):
        check(f"{what}: {name} refused within {REVOKED_WITHIN_SECONDS:.0f} s ({code}, {taken:.2f} s)",
              code in codes and taken < REVOKED_WITHIN_SECONDS, (code, codes))


def main():
    started = time.monotonic()
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__)
        return 2
    if os.path.realpath(os.environ.get("HOME", "")) == os.path.realpath(pwd.getpwuid(os.getuid()).pw_dir):
        print("HOME must be a scratch folder: the clients write ~/.aliyun and ~/.aws there")
        return 2
    s = set_up(args[0])
    browser = Browser(s.root + f"/{s.directory_id}", USER)

    ali_keys = ali.run(s, browser)
    aws = aws_clients.run(s, browser)
    if aws is None:
        check("(B) got role credentials for the revocation checks", False)

    def probes(config):
        out = ali.probes(s, ali_keys, config)
        if aws is not None:
            out += aws.probes(config)
        return out

    # Accepted before: the refusals below are the revocation's, not a broken probe's.
    revoked("before any change", probes(DIRECT) + probes(GROUPED), want_refused=False)
    status, body = scim_patch(s.boot, f"/Groups/{s.group_id}",
                              [{"op": "remove", "path": f'members[value eq "{s.user_id}"]'}])
    since = time.monotonic()
    check("SCIM: user removed from the group", status in (200, 204), (status, body))
    revoked("group removal", probes(GROUPED), want_refused=True, since=since)
    revoked("group removal", probes(DIRECT), want_refused=False)
    status, body = scim_patch(s.boot, f"/Users/{s.user_id}", [{"op": "replace", "path": "active", "value": False}])
    since = time.monotonic()
    check("SCIM: user active=false", status == 200, (status, body))
    revoked("user disabled", probes(DIRECT), want_refused=True, since=since)
    if aws is not None:
        aws.after_disable()

    if failures:
        print(f"failed: {failures}")
    print(f"({time.monotonic() - started:.1f} s)")
    print(f"clients: {len(passed)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
