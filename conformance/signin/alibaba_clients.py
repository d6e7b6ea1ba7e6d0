"""(A) Alibaba Cloud: the aliyun CLI's `configure --mode CloudSSO` sign-in, its requests
replayed as the CLI sends them (research/portal.md 2.1 to 2.4; the Go CLI is not on any
registry this machine reaches), writing `~/.aliyun/config.json` as the CLI writes it; then the
unmodified `alibabacloud-credentials` CloudSSO provider fetches credentials from that profile
and the unmodified `alibabacloud-sts20150401` calls GetCallerIdentity with them."""

import base64
import hashlib
import json
import logging
import os
import secrets
import string
import time
import urllib.error
import urllib.request
from pathlib import Path

from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_credentials.provider.cli_profile import CLIProfileCredentialsProvider
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi import models as open_api_models

from checks import check, error_code
from directory_setup import ACCOUNT_NAME, DIRECT, GROUPED, USER

CLIENT_ID = "app-vaz16tltdxs96audqf35"
# The provider logs each refused refresh with a traceback; the checks print the refusal.
logging.getLogger("credentials").setLevel(logging.CRITICAL)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _call(method, url, body=None, token=None):
    """One portal-protocol request as the aliyun CLI sends it; (status, JSON answer)."""
    headers = {"Accept": "application/json", "Content-Type": "application/json", "User-Agent": "aliyun/CLI-3.0.300"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def aliyun_cli_login(s, browser):
    """The device flow of `aliyun configure --mode CloudSSO`; the access token and its expiry."""
    sign_in_url = f"{s.root}/{s.directory_id}/device/login"
    # The Go CLI's verifier: 16 alphanumerics and an md5 hex digest.
    verifier = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
    verifier += hashlib.md5(verifier.encode()).hexdigest()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    status, auth = _call("POST", f"{s.root}/device-authorization", {
        "PortalUrl": sign_in_url, "CodeChallenge": challenge, "ClientId": CLIENT_ID, "CodeChallengeMethod": "S256"})
    check("A aliyun CLI: /device-authorization", status == 200 and auth.get("UserCode"), (status, auth))
    poll = {"CodeVerifier": verifier, "ClientId": CLIENT_ID, "DeviceCode": auth["DeviceCode"], "GrantType": DEVICE_GRANT}
    status, pending = _call("POST", f"{s.root}/token", poll)
    check("A aliyun CLI: /token AuthorizationPending before approval",
          status == 400 and pending.get("ErrorCode") == "AuthorizationPending", (status, pending))
    check("A browser: approved the CloudSSO CLI's code", browser.approve(auth["VerificationUriComplete"], auth["UserCode"]))
    time.sleep(auth["Interval"] + 0.1)
    status, token = _call("POST", f"{s.root}/token", poll)
    check("A aliyun CLI: /token AccessToken", status == 200 and token.get("AccessToken"), (status, token))
    status, again = _call("POST", f"{s.root}/token", poll)
    check("A aliyun CLI: a used device code is refused", again.get("ErrorCode") == "InvalidDeviceCodeError", (status, again))
    at = token["AccessToken"]
    accounts, deadline = [], time.monotonic() + 20
    while not accounts and time.monotonic() < deadline:
        status, page = _call("GET", f"{s.root}/access-assignments/accounts?MaxResults=100", token=at)
        accounts = page.get("Accounts") or []
        if not accounts:
            time.sleep(0.1)
    check("A aliyun CLI: /access-assignments/accounts",
          accounts == [{"AccountId": s.account, "DisplayName": ACCOUNT_NAME}], (status, page))
    status, page = _call("GET", f"{s.root}/access-assignments/access-configurations?AccountId={s.account}&MaxResults=100", token=at)
    names = sorted(c["AccessConfigurationName"] for c in page.get("AccessConfigurationsForAccount") or [])
    check("A aliyun CLI: /access-assignments/access-configurations (direct and through the group)",
          names == sorted([DIRECT, GROUPED]), (status, page))
    return sign_in_url, at, int(time.time()) + int(token["ExpiresIn"])


def write_aliyun_config(s, sign_in_url, access_token, expire):
    """~/.aliyun/config.json as `aliyun configure --mode CloudSSO` writes it (research 2.4): one
    profile per access configuration, the direct one current."""
    def profile(name, config):
        return {"name": name, "mode": "CloudSSO", "cloud_sso_sign_in_url": sign_in_url,
                "access_token": access_token, "cloud_sso_access_token_expire": expire,
                "cloud_sso_account_id": s.account, "cloud_sso_access_config": s.configs[config],
                "region_id": "cn-hangzhou", "output_format": "json", "language": "en"}
    bad = dict(profile("cloudsso-forged", DIRECT), access_token="forged-" + access_token[::-1])
    doc = {"current": "cloudsso-direct", "profiles": [
        profile("cloudsso-direct", DIRECT), profile("cloudsso-group", GROUPED), bad], "meta_path": ""}
    path = Path(os.environ["HOME"]) / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=4))
    path.chmod(0o600)
    return path


def sts_client(s, credential=None, key=None):
    """alibabacloud-sts20150401 against cloudsso's endpoint: with a credentials client, or
    with fixed temporary credentials (AccessKeyId, secret, SecurityToken)."""
    config = open_api_models.Config(endpoint=s.root.split("://", 1)[-1], protocol="http", region_id="cn-hangzhou")
    if credential is not None:
        config.credential = credential
    else:
        config.access_key_id, config.access_key_secret, config.security_token = key
    return StsClient(config)


def arn(s, config):
    return f"acs:ram::{s.account}:assumed-role/AliyunReservedSSO-{config}/{USER}"


def run(s, browser):
    """(A); the temporary credentials it got, by access configuration name."""
    sign_in_url, at, expire = aliyun_cli_login(s, browser)
    path = write_aliyun_config(s, sign_in_url, at, expire)
    print(f"     wrote {path} (profiles cloudsso-direct, cloudsso-group, cloudsso-forged)")
    got = {}
    for profile, config in [(None, DIRECT), ("cloudsso-group", GROUPED)]:
        # The default chain picks the `current` profile; the other is named.
        cred = CredentialClient() if profile is None else CredentialClient(provider=CLIProfileCredentialsProvider(profile_name=profile))
        c = cred.get_credential()
        check(f"A alibabacloud-credentials {config}: CloudSSO provider", c.provider_name.endswith("cli_profile/cloud_sso"), c.provider_name)
        check(f"A alibabacloud-credentials {config}: STS. credentials",
              c.access_key_id.startswith("STS.") and c.access_key_secret and c.security_token, c.access_key_id)
        me = sts_client(s, credential=cred).get_caller_identity().body
        check(f"A alibabacloud-sts20150401 GetCallerIdentity {config}: Arn", me.arn == arn(s, config), me.to_map())
        check(f"A alibabacloud-sts20150401 GetCallerIdentity {config}: AssumedRoleUser of the account",
              (me.identity_type, me.account_id) == ("AssumedRoleUser", s.account), me.to_map())
        got[config] = (c.access_key_id, c.access_key_secret, c.security_token)
    code = provider_refused("cloudsso-forged")
    check("A alibabacloud-credentials: a forged access token is refused", code == "InvalidAccessToken", code)
    return got


def provider_refused(profile):
    """The refusal a fresh CloudSSO provider meets fetching credentials for `profile` (None:
    it got them)."""
    return error_code(lambda: CLIProfileCredentialsProvider(profile_name=profile).get_credentials())


def probes(s, keys, config):
    """(name, probe) pairs for the revocation checks: Alibaba STS with the credentials (A) got
    for `config`, and the provider asking /cloud-credentials for new ones."""
    profile = {DIRECT: "cloudsso-direct", GROUPED: "cloudsso-group"}[config]
    sts = sts_client(s, key=keys[config])
    return [(f"Alibaba STS with the CloudSSO provider's {config} credentials", lambda: error_code(sts.get_caller_identity),
             {"InvalidSecurityToken.Expired"}),
            (f"alibabacloud-credentials fetching new {config} credentials", lambda: provider_refused(profile),
             {"NoPermission", "InvalidAccessToken"})]
