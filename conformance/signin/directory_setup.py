"""The administrator's side, through the management API's official SDKs with the bootstrap
AccessKey (data/bootstrap.json) and, for the identity provider's changes, SCIM with the
bootstrap SCIM token: the sign-in service on, a user with a password, a resource-directory
account, two access configurations, one assigned to the user directly and one through a
group, both provisioned."""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_cloudsso20210515.client import Client as SsoClient
from alibabacloud_resourcemanager20200331 import models as rm
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_tea_openapi import models as open_api_models

from approver import PASSWORD
from checks import check

USER = "cli-user"
ACCOUNT_NAME = "clients"
# Assigned to the user directly, and to a group the user is in.
DIRECT = "ClientsDirect"
GROUPED = "ClientsGroup"


@dataclass
class Setup:
    boot: dict
    root: str
    directory_id: str
    user_id: str
    group_id: str
    account: str
    configs: dict  # access configuration name -> id


def _config(boot, region):
    return open_api_models.Config(
        access_key_id=boot["admin_access_key_id"],
        access_key_secret=boot["admin_access_key_secret"],
        endpoint=boot["api_endpoint"].split("://", 1)[-1].rstrip("/"),
        protocol="http",
        region_id=region,
    )


def _wait_task(c, d, task_id):
    for _ in range(1000):
        t = c.get_task(sso.GetTaskRequest(directory_id=d, task_id=task_id)).body.task
        if t.status != "InProgress":
            return t.status
        time.sleep(0.02)
    return "InProgress"


def scim(boot, method, path, body):
    """A SCIM request with the bootstrap token; (status, JSON answer)."""
    req = urllib.request.Request(
        boot["scim_base_url"].rstrip("/") + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": "Bearer " + boot["scim_token"], "Content-Type": "application/scim+json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def scim_patch(boot, path, ops):
    return scim(boot, "PATCH", path, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})


def set_up(data_dir):
    boot = json.loads((Path(data_dir) / "bootstrap.json").read_text())
    c = SsoClient(_config(boot, "cn-shanghai"))
    r = RmClient(_config(boot, "cn-hangzhou"))
    d = boot["directory_id"]
    c.enable_service()
    status = c.get_service_status().body.service_status.status
    check("set-up: sign-in service Enabled", status == "Enabled", status)
    user = c.create_user(sso.CreateUserRequest(directory_id=d, user_name=USER, display_name="CLI user")).body.user.user_id
    c.reset_user_password(sso.ResetUserPasswordRequest(
        directory_id=d, user_id=user, generate_random_password=False, password=PASSWORD,
        require_password_reset_for_next_login=False))
    group = c.create_group(sso.CreateGroupRequest(directory_id=d, group_name="cli-users")).body.group.group_id
    c.add_user_to_group(sso.AddUserToGroupRequest(directory_id=d, group_id=group, user_id=user))
    account = r.create_resource_account(rm.CreateResourceAccountRequest(display_name=ACCOUNT_NAME)).body.account.account_id
    configs = {}
    for name, principal_type, principal in [(DIRECT, "User", user), (GROUPED, "Group", group)]:
        ac = c.create_access_configuration(sso.CreateAccessConfigurationRequest(
            directory_id=d, access_configuration_name=name, description=f"{name} for the CLI checks",
            session_duration=3600)).body.access_configuration.access_configuration_id
        c.add_permission_policy_to_access_configuration(sso.AddPermissionPolicyToAccessConfigurationRequest(
            directory_id=d, access_configuration_id=ac, permission_policy_type="System",
            permission_policy_name="ReadOnlyAccess"))
        t = c.create_access_assignment(sso.CreateAccessAssignmentRequest(
            directory_id=d, access_configuration_id=ac, target_type="RD-Account", target_id=account,
            principal_type=principal_type, principal_id=principal)).body.task
        check(f"set-up: {name} assigned to the {principal_type.lower()}", _wait_task(c, d, t.task_id) == "Success")
        prov = c.list_access_configuration_provisionings(sso.ListAccessConfigurationProvisioningsRequest(
            directory_id=d, access_configuration_id=ac)).body.access_configuration_provisionings
        check(f"set-up: {name} provisioned", [p.status for p in prov] == ["Provisioned"], [p.to_map() for p in prov])
        configs[name] = ac
    root = boot["api_endpoint"].rstrip("/")
    return Setup(boot, root, d, user, group, account, configs)
