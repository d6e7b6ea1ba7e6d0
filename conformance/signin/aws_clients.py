"""(B) boto3, (C) AWS CLI v1 and (D) aws-sso-util against cloudsso's AWS sso-oidc and sso
protocols and its AWS STS (research/portal.md section 1), unmodified, pointed at the server
by the `services` section of ~/.aws/config (boto3 and the CLI's profiles) or by
`AWS_ENDPOINT_URL_*` (aws-sso-util, which builds its own botocore session), with
`AWS_ENDPOINT_URL_STS` for STS. The start URL names the directory by its id in the host
(`https://<directory id>.awsapps.com/start`, the form AWS CLI v2 insists on): nothing is
ever fetched from it.

Where a real user would run AWS CLI v2's `aws sso login` (not on PyPI), the token it caches
in ~/.aws/sso/cache is written here from the tokens the clients got, in the CLI's format."""

import configparser
import hashlib
import json
import os
import re
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3

from checks import check, error_code
from directory_setup import ACCOUNT_NAME, DIRECT, GROUPED, USER

REGION = "us-east-1"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SCOPES = ["sso:account:access"]
# AWS STS's answers to a credential that no longer stands.
STS_REFUSALS = {"ExpiredToken"}
# sso's answers to a role the bearer may no longer use, or a dead bearer.
PORTAL_REFUSALS = {"ForbiddenException", "UnauthorizedException"}


def home():
    return Path(os.environ["HOME"])


def iso(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_url(s):
    return f"https://{s.directory_id}.awsapps.com/start"


def write_config(s):
    """~/.aws/config: an SSO profile per access configuration on one sso-session, the
    `services` section that points sso-oidc and sso at cloudsso, and AWS CLI v1's
    `cli_follow_urlparam = false` (v1 would fetch the https start URL as a parameter file)."""
    text = f"""[default]
region = {REGION}
cli_follow_urlparam = false

[profile cloudsso-direct]
sso_session = cloudsso
sso_account_id = {s.account}
sso_role_name = {DIRECT}
region = {REGION}
services = cloudsso
cli_follow_urlparam = false

[profile cloudsso-group]
sso_session = cloudsso
sso_account_id = {s.account}
sso_role_name = {GROUPED}
region = {REGION}
services = cloudsso
cli_follow_urlparam = false

[profile cloudsso-v1]
sso_session = cloudsso-v1
sso_account_id = {s.account}
sso_role_name = {DIRECT}
region = {REGION}
services = cloudsso
cli_follow_urlparam = false

[sso-session cloudsso]
sso_start_url = {start_url(s)}
sso_region = {REGION}
sso_registration_scopes = sso:account:access

[sso-session cloudsso-v1]
sso_start_url = {start_url(s)}
sso_region = {REGION}
sso_registration_scopes = sso:account:access

[services cloudsso]
sso_oidc =
  endpoint_url = {s.root}
sso =
  endpoint_url = {s.root}
"""
    path = home() / ".aws" / "config"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def cache_path(key):
    return home() / ".aws" / "sso" / "cache" / (hashlib.sha1(key.encode()).hexdigest() + ".json")


def write_token_cache(s, session_name, reg, tok, expires_at):
    """The token as `aws sso login` caches it for an sso-session (research 1.3)."""
    doc = {"startUrl": start_url(s), "region": REGION, "accessToken": tok["accessToken"],
           "expiresAt": iso(expires_at), "clientId": reg["clientId"], "clientSecret": reg["clientSecret"],
           "registrationExpiresAt": iso(datetime.fromtimestamp(reg["clientSecretExpiresAt"], timezone.utc))}
    if tok.get("refreshToken"):
        doc["refreshToken"] = tok["refreshToken"]
    path = cache_path(session_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    path.chmod(0o600)
    return path


def sts_env(s):
    os.environ["AWS_ENDPOINT_URL_STS"] = s.root
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def sts_for(s, key):
    """An AWS STS client with fixed credentials (AccessKeyId, secret, SessionToken), of its own
    session (boto3's default session is not for threads)."""
    return boto3.session.Session().client("sts", region_name=REGION, endpoint_url=s.root, aws_access_key_id=key[0],
                                          aws_secret_access_key=key[1], aws_session_token=key[2])


def sts_with(s, key):
    """AWS STS GetCallerIdentity with fixed credentials."""
    return sts_for(s, key).get_caller_identity()


def arn_ok(s, who, config):
    arn = who.get("Arn", "")
    return (who.get("Account") == s.account and f":{s.account}:assumed-role/" in arn
            and config in arn and arn.endswith("/" + USER))


def role_credentials_ok(rc, session_seconds=3600):
    now_ms = time.time() * 1000
    return (rc["accessKeyId"].startswith("ASIA") and rc["secretAccessKey"] and rc["sessionToken"]
            and now_ms < rc["expiration"] <= now_ms + (session_seconds + 60) * 1000)


def boto3_device_flow(s, browser):
    """(B) the device flow with boto3's sso-oidc client; (registration, tokens)."""
    oidc = boto3.client("sso-oidc", region_name=REGION, endpoint_url=s.root)
    reg = oidc.register_client(clientName="cloudsso-conformance", clientType="public", scopes=SCOPES)
    check("B boto3 RegisterClient", reg.get("clientId") and reg.get("clientSecret")
          and reg.get("clientSecretExpiresAt", 0) > time.time() + 86400, {k: v for k, v in reg.items() if k != "clientSecret"})
    auth = oidc.start_device_authorization(clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=start_url(s))
    check("B boto3 StartDeviceAuthorization", auth.get("userCode") and auth.get("verificationUri")
          and auth["userCode"] in auth.get("verificationUriComplete", "") and auth.get("expiresIn", 0) > 0
          and auth.get("interval", 0) >= 1, auth)
    poll = dict(clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType=DEVICE_GRANT, deviceCode=auth["deviceCode"])
    code = error_code(lambda: oidc.create_token(**poll))
    check("B boto3 CreateToken before approval: AuthorizationPendingException", code == "AuthorizationPendingException", code)
    check("B browser: approved boto3's code", browser.approve(auth["verificationUriComplete"], auth["userCode"]))
    time.sleep(auth["interval"] + 0.1)
    tok = oidc.create_token(**poll)
    check("B boto3 CreateToken: accessToken, refreshToken, expiresIn",
          tok.get("accessToken") and tok.get("refreshToken") and tok.get("expiresIn", 0) > 15 * 60,
          {k: v for k, v in tok.items() if k not in ("accessToken", "refreshToken")})
    code = error_code(lambda: oidc.create_token(**poll))
    check("B boto3 CreateToken with a used device code refused", code in {"InvalidGrantException", "ExpiredTokenException"}, code)
    other = oidc.register_client(clientName="cloudsso-other", clientType="public")
    code = error_code(lambda: oidc.create_token(**dict(poll, clientId=other["clientId"], clientSecret=other["clientSecret"])))
    check("B boto3 CreateToken by another registered client refused", code is not None, code)
    return oidc, reg, tok


def boto3_portal(s, tok):
    """(B) ListAccounts, ListAccountRoles, GetRoleCredentials with boto3's sso client."""
    sso = boto3.client("sso", region_name=REGION, endpoint_url=s.root)
    at = tok["accessToken"]
    accounts = [a for p in sso.get_paginator("list_accounts").paginate(accessToken=at) for a in p["accountList"]]
    check("B boto3 ListAccounts (paginator)", [(a["accountId"], a.get("accountName")) for a in accounts] == [(s.account, ACCOUNT_NAME)], accounts)
    roles = [r for p in sso.get_paginator("list_account_roles").paginate(accessToken=at, accountId=s.account) for r in p["roleList"]]
    check("B boto3 ListAccountRoles: both access configurations",
          sorted((r["roleName"], r["accountId"]) for r in roles) == sorted([(DIRECT, s.account), (GROUPED, s.account)]), roles)
    keys = {}
    for config in (DIRECT, GROUPED):
        rc = sso.get_role_credentials(roleName=config, accountId=s.account, accessToken=at)["roleCredentials"]
        check(f"B boto3 GetRoleCredentials {config}: ASIA key, expiration in epoch ms", role_credentials_ok(rc),
              {k: v for k, v in rc.items() if k in ("accessKeyId", "expiration")})
        keys[config] = (rc["accessKeyId"], rc["secretAccessKey"], rc["sessionToken"])
        who = sts_with(s, keys[config])
        check(f"B boto3 STS GetCallerIdentity with the {config} role credentials", arn_ok(s, who, config), who)
    code = error_code(lambda: sso.get_role_credentials(roleName="NotAssigned", accountId=s.account, accessToken=at))
    check("B boto3 GetRoleCredentials for a role not assigned refused", code in {"ForbiddenException", "ResourceNotFoundException"}, code)
    code = error_code(lambda: sso.list_accounts(accessToken="forged-" + at[::-1]))
    check("B boto3 ListAccounts with a forged token: UnauthorizedException", code == "UnauthorizedException", code)
    return sso, keys


def boto3_refresh_and_profile(s, oidc, reg, tok):
    """(B) a refresh by hand, then the SSO profile: botocore's token provider refreshes the
    cached token by itself (within 15 minutes of its end), GetRoleCredentials, STS."""
    fresh = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                              grantType="refresh_token", refreshToken=tok["refreshToken"])
    check("B boto3 CreateToken refresh_token: a new access token and a rotated refresh token",
          fresh.get("accessToken") not in (None, tok["accessToken"]) and fresh.get("refreshToken") not in (None, tok["refreshToken"]))
    # The cached token says it ends in 10 minutes: botocore refreshes it before use.
    path = write_token_cache(s, "cloudsso", reg, fresh, datetime.now(timezone.utc) + timedelta(minutes=10))
    for profile, config in (("cloudsso-direct", DIRECT), ("cloudsso-group", GROUPED)):
        session = boto3.Session(profile_name=profile)
        creds = session.get_credentials()
        check(f"B boto3 SSO profile {profile}: the sso credential provider's ASIA credentials",
              creds is not None and creds.method == "sso" and creds.get_frozen_credentials().access_key.startswith("ASIA"),
              creds and creds.method)
        who = session.client("sts").get_caller_identity()
        check(f"B boto3 SSO profile {profile}: sts get_caller_identity", arn_ok(s, who, config), who)
    cached = json.loads(path.read_text())
    check("B botocore refreshed the cached token by itself (refresh_token grant, rotated)",
          cached["accessToken"] != fresh["accessToken"] and cached.get("refreshToken") not in (None, fresh["refreshToken"]),
          cached.get("expiresAt"))
    check("B the refreshed token is good for an hour or more",
          datetime.fromisoformat(cached["expiresAt"].replace("Z", "+00:00")) > datetime.now(timezone.utc) + timedelta(minutes=50),
          cached.get("expiresAt"))
    return path


def cli(args, env=None, timeout=120):
    """Runs a command of the venv (aws, aws-sso-util); (rc, stdout, stderr)."""
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    return p.returncode, p.stdout, p.stderr


def aws_v1(s, browser):
    """(C) AWS CLI v1: the sso-oidc and sso commands, then `sts get-caller-identity` with an
    SSO profile whose token is the one the commands got, then `sso logout`."""
    prof = ["--profile", "cloudsso-v1", "--output", "json"]
    rc, out, err = cli(["aws", "--version"])
    check("C aws --version: AWS CLI v1", rc == 0 and (out + err).startswith("aws-cli/1."), out + err)
    rc, out, err = cli(["aws", "sso-oidc", "register-client", "--client-name", "cloudsso-conformance-v1", "--client-type", "public", *prof])
    check("C aws sso-oidc register-client", rc == 0, err)
    reg = json.loads(out) if rc == 0 else {}
    ids = ["--client-id", reg.get("clientId", ""), "--client-secret", reg.get("clientSecret", "")]
    rc, out, err = cli(["aws", "sso-oidc", "start-device-authorization", *ids, "--start-url", start_url(s), *prof])
    check("C aws sso-oidc start-device-authorization (https start URL taken as is)", rc == 0, err)
    auth = json.loads(out) if rc == 0 else {}
    create = ["aws", "sso-oidc", "create-token", *ids, "--grant-type", DEVICE_GRANT, "--device-code", auth.get("deviceCode", ""), *prof]
    rc, out, err = cli(create)
    check("C aws sso-oidc create-token before approval: AuthorizationPendingException", rc != 0 and "AuthorizationPendingException" in err, err)
    check("C browser: approved AWS CLI v1's code", browser.approve(auth["verificationUriComplete"], auth["userCode"]))
    time.sleep(auth.get("interval", 1) + 0.1)
    rc, out, err = cli(create)
    check("C aws sso-oidc create-token", rc == 0 and "accessToken" in out, err)
    tok = json.loads(out)
    at = ["--access-token", tok["accessToken"]]
    rc, out, err = cli(["aws", "sso", "list-accounts", *at, *prof])
    check("C aws sso list-accounts", rc == 0 and [a["accountId"] for a in json.loads(out)["accountList"]] == [s.account], out + err)
    rc, out, err = cli(["aws", "sso", "list-account-roles", *at, "--account-id", s.account, *prof])
    check("C aws sso list-account-roles", rc == 0 and sorted(r["roleName"] for r in json.loads(out)["roleList"]) == sorted([DIRECT, GROUPED]), out + err)
    rc, out, err = cli(["aws", "sso", "get-role-credentials", *at, "--account-id", s.account, "--role-name", DIRECT, *prof])
    check("C aws sso get-role-credentials", rc == 0 and role_credentials_ok(json.loads(out)["roleCredentials"]), out + err)
    write_token_cache(s, "cloudsso-v1", reg, tok, datetime.now(timezone.utc) + timedelta(seconds=tok["expiresIn"]))
    rc, out, err = cli(["aws", "sts", "get-caller-identity", *prof])
    check("C aws sts get-caller-identity --profile cloudsso-v1 (the cached token)",
          rc == 0 and arn_ok(s, json.loads(out), DIRECT), out + err)
    rc, out, err = cli(["aws", "sso-oidc", "create-token", *ids, "--grant-type", "refresh_token",
                        "--refresh-token", tok["refreshToken"], *prof])
    fresh = json.loads(out) if rc == 0 else {}
    check("C aws sso-oidc create-token --grant-type refresh_token: new tokens",
          fresh.get("accessToken") not in (None, tok["accessToken"]) and fresh.get("refreshToken") not in (None, tok["refreshToken"]), err)
    at = ["--access-token", fresh.get("accessToken", "")]
    rc, out, err = cli(["aws", "sso", "logout", *at, *prof])
    check("C aws sso logout", rc == 0, err)
    rc, out, err = cli(["aws", "sso", "list-accounts", *at, *prof])
    check("C aws sso list-accounts after logout: UnauthorizedException", rc != 0 and "UnauthorizedException" in err, out + err)
    rc, out, err = cli(["aws", "sso-oidc", "create-token", *ids, "--grant-type", "refresh_token",
                        "--refresh-token", fresh.get("refreshToken", ""), *prof])
    check("C aws sso-oidc create-token refresh_token after logout: InvalidGrantException",
          rc != 0 and "InvalidGrantException" in err, out + err)


def aws_sso_util(s, browser):
    """(D) `aws-sso-util login --headless`, the browser approving the code it prints, then
    `configure populate` and the profiles it wrote."""
    env = {"AWS_ENDPOINT_URL_SSO_OIDC": s.root, "AWS_ENDPOINT_URL_SSO": s.root}
    p = subprocess.Popen(["aws-sso-util", "login", "--headless", start_url(s), REGION], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env={**os.environ, **env})
    seen, url, code = [], None, None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None and not (url and code):
        line = p.stdout.readline()
        seen.append(line)
        if line.strip().startswith("http"):
            url = line.strip()
        elif url and re.fullmatch(r"[A-Z0-9]{4}-?[A-Z0-9]{4}", line.strip()):
            code = line.strip()
    check("D aws-sso-util login --headless prints the URL and the code", bool(url and code), "".join(seen))
    if url and code:
        check("D browser: typed aws-sso-util's code into the approval page and approved", browser.approve(url, code))
    try:
        rest, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        rest, _ = p.communicate()
    check("D aws-sso-util login: Login succeeded", p.returncode == 0 and "Login succeeded" in rest, "".join(seen) + rest)
    rc, out, err = cli(["aws-sso-util", "configure", "populate", "--sso-start-url", start_url(s),
                        "--sso-region", REGION, "--region", REGION], env=env)
    check("D aws-sso-util configure populate", rc == 0, out + err)
    cfg = configparser.ConfigParser()
    cfg.read(home() / ".aws" / "config")
    populated = {sec[len("profile "):]: cfg[sec].get("sso_role_name") for sec in cfg.sections()
                 if sec.startswith("profile ") and cfg[sec].get("sso_start_url") == start_url(s)
                 and cfg[sec].get("sso_account_id") == s.account}
    check("D configure populate wrote one profile per role", sorted(populated.values()) == sorted([DIRECT, GROUPED]), populated)
    direct = next((p for p, r in populated.items() if r == DIRECT), None)
    if direct is None:
        return
    rc, out, err = cli(["aws-sso-util", "credential-process", "--profile", direct], env=env)
    doc = json.loads(out) if rc == 0 else {}
    check(f"D aws-sso-util credential-process --profile {direct}",
          doc.get("Version") == 1 and doc.get("AccessKeyId", "").startswith("ASIA"), out + err)
    rc, out, err = cli(["aws", "sts", "get-caller-identity", "--profile", direct, "--output", "json"], env=env)
    check(f"D aws sts get-caller-identity --profile {direct} (populated)", rc == 0 and arn_ok(s, json.loads(out), DIRECT), out + err)


class Aws:
    """What the revocation checks need of (B): its role credentials, and its cached token."""

    def __init__(self, s, oidc, reg, sso, keys, cache):
        self.s, self.oidc, self.reg, self.sso, self.keys, self.cache = s, oidc, reg, sso, keys, cache
        self.sts = {config: sts_for(s, key) for config, key in keys.items()}

    def token(self):
        return json.loads(self.cache.read_text())

    def probes(self, config):
        return [
            (f"AWS STS with boto3's {config} role credentials", lambda: error_code(self.sts[config].get_caller_identity),
             STS_REFUSALS),
            (f"boto3 GetRoleCredentials {config} with the cached token",
             lambda: error_code(lambda: self.sso.get_role_credentials(
                 roleName=config, accountId=self.s.account, accessToken=self.token()["accessToken"])),
             PORTAL_REFUSALS),
        ]

    def after_disable(self):
        t = self.token()
        code = error_code(lambda: self.sso.list_accounts(accessToken=t["accessToken"]))
        check("user disabled: boto3 ListAccounts with the cached token: UnauthorizedException", code == "UnauthorizedException", code)
        code = error_code(lambda: self.oidc.create_token(clientId=self.reg["clientId"], clientSecret=self.reg["clientSecret"],
                                                         grantType="refresh_token", refreshToken=t["refreshToken"]))
        check("user disabled: boto3 CreateToken refresh_token refused", code in {"InvalidGrantException", "ExpiredTokenException"}, code)


def run(s, browser):
    """(B), then (C) and (D), each to its end or its first unexpected failure; what the
    revocation checks need of (B), or None when (B) did not get that far."""
    sts_env(s)
    path = write_config(s)
    print(f"     wrote {path} (profiles cloudsso-direct, cloudsso-group, cloudsso-v1; services cloudsso)")
    aws = None
    try:
        oidc, reg, tok = boto3_device_flow(s, browser)
        sso, keys = boto3_portal(s, tok)
        cache = boto3_refresh_and_profile(s, oidc, reg, tok)
        aws = Aws(s, oidc, reg, sso, keys, cache)
    except Exception as e:  # reported as a failed check; (C) and (D) still run
        check("B boto3 ran to its end", False, repr(e))
    for part in (aws_v1, aws_sso_util):
        try:
            part(s, browser)
        except Exception as e:
            check(f"{part.__doc__.split()[0]} ran to its end", False, repr(e))
    return aws
