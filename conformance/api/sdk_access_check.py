#!/usr/bin/env python3
"""Drives cloudsso's access management through the unmodified official SDKs: an account made
with `alibabacloud_resourcemanager20200331`, then with `alibabacloud_cloudsso20210515` every
access configuration, assignment, provisioning and task operation: CreateAccessConfiguration,
GetAccessConfiguration, ListAccessConfigurations, UpdateAccessConfiguration,
AddPermissionPolicyToAccessConfiguration, ListPermissionPoliciesInAccessConfiguration,
UpdateInlinePolicyForAccessConfiguration, RemovePermissionPolicyFromAccessConfiguration,
CreateAccessAssignment, ListAccessAssignments, GetTask, GetTaskStatus, ListTasks,
ListAccessConfigurationProvisionings, ProvisionAccessConfiguration, DeleteAccessAssignment,
DeprovisionAccessConfiguration, DeleteAccessConfiguration. Reports every failed check, exits 1
if any.

Usage: sdk_access_check.py <data dir of a running `cloudsso serve`>
"""

import json
import sys
import time
import uuid
from pathlib import Path

from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_cloudsso20210515.client import Client as SsoClient
from alibabacloud_resourcemanager20200331 import models as rm
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_tea_openapi import models as open_api_models

failures = []


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(what)


def config(boot, region):
    return open_api_models.Config(
        access_key_id=boot["admin_access_key_id"],
        access_key_secret=boot["admin_access_key_secret"],
        endpoint=boot["api_endpoint"].split("://", 1)[-1].rstrip("/"),
        protocol="http",
        region_id=region,
    )


def error_code(call):
    try:
        call()
    except Exception as e:
        return getattr(e, "code", repr(e))
    return None


def wait_task(c, d, task_id):
    for _ in range(500):
        t = c.get_task(sso.GetTaskRequest(directory_id=d, task_id=task_id)).body.task
        if t.status != "InProgress":
            return t
        time.sleep(0.02)
    return t


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    boot = json.loads((Path(sys.argv[1]) / "bootstrap.json").read_text())
    c = SsoClient(config(boot, "cn-shanghai"))
    r = RmClient(config(boot, "cn-hangzhou"))
    d = boot["directory_id"]
    tag = uuid.uuid4().hex[:6]

    account = r.create_resource_account(
        rm.CreateResourceAccountRequest(display_name=f"acct-{tag}")
    ).body.account.account_id
    check("account: 16 digits", len(account) == 16 and account.isdigit(), account)
    user = c.create_user(sso.CreateUserRequest(directory_id=d, user_name=f"u-{tag}")).body.user.user_id

    # Access configurations.
    name = f"Admin-{tag}"
    ac = c.create_access_configuration(
        sso.CreateAccessConfigurationRequest(
            directory_id=d, access_configuration_name=name, description="admins", session_duration=7200
        )
    ).body.access_configuration
    check("CreateAccessConfiguration: ac- id", ac.access_configuration_id.startswith("ac-"), ac.access_configuration_id)
    check("CreateAccessConfiguration: fields", ac.access_configuration_name == name and ac.session_duration == 7200, ac.to_map())
    acid = ac.access_configuration_id
    got = c.get_access_configuration(
        sso.GetAccessConfigurationRequest(directory_id=d, access_configuration_id=acid)
    ).body.access_configuration
    check("GetAccessConfiguration", got.description == "admins", got.to_map())
    listed = c.list_access_configurations(sso.ListAccessConfigurationsRequest(directory_id=d)).body
    check("ListAccessConfigurations", acid in [x.access_configuration_id for x in listed.access_configurations], listed.to_map())
    upd = c.update_access_configuration(
        sso.UpdateAccessConfigurationRequest(directory_id=d, access_configuration_id=acid, new_session_duration=3600)
    ).body
    check("UpdateAccessConfiguration", upd.access_configuration is None or upd.access_configuration.session_duration == 3600, upd.to_map())
    check(
        "CreateAccessConfiguration: bad SessionDuration",
        (error_code(lambda: c.create_access_configuration(sso.CreateAccessConfigurationRequest(
            directory_id=d, access_configuration_name=f"x-{tag}", session_duration=100))) or "").startswith("InvalidParameter"),
    )
    c.add_permission_policy_to_access_configuration(
        sso.AddPermissionPolicyToAccessConfigurationRequest(
            directory_id=d, access_configuration_id=acid,
            permission_policy_type="System", permission_policy_name="AdministratorAccess",
        )
    )
    inline = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]})
    c.add_permission_policy_to_access_configuration(
        sso.AddPermissionPolicyToAccessConfigurationRequest(
            directory_id=d, access_configuration_id=acid, permission_policy_type="Inline",
            permission_policy_name="ecs-read", inline_policy_document=inline,
        )
    )
    pols = c.list_permission_policies_in_access_configuration(
        sso.ListPermissionPoliciesInAccessConfigurationRequest(directory_id=d, access_configuration_id=acid)
    ).body
    kinds = sorted((p.permission_policy_type, p.permission_policy_name) for p in pols.permission_policies)
    check("ListPermissionPoliciesInAccessConfiguration", kinds == [("Inline", "ecs-read"), ("System", "AdministratorAccess")], kinds)
    check(
        "AddPermissionPolicy: unknown system policy refused",
        error_code(lambda: c.add_permission_policy_to_access_configuration(
            sso.AddPermissionPolicyToAccessConfigurationRequest(
                directory_id=d, access_configuration_id=acid,
                permission_policy_type="System", permission_policy_name="NoSuchPolicy"))) is not None,
    )

    # Assignment: the first one provisions.
    t = c.create_access_assignment(
        sso.CreateAccessAssignmentRequest(
            directory_id=d, access_configuration_id=acid, target_type="RD-Account",
            target_id=account, principal_type="User", principal_id=user,
        )
    ).body.task
    check("CreateAccessAssignment: a task", t.task_id.startswith("t-") and t.task_type == "CreateAccessAssignment", t.to_map())
    done = wait_task(c, d, t.task_id)
    check("GetTask: Success", done.status == "Success", done.to_map())
    st = c.get_task_status(sso.GetTaskStatusRequest(directory_id=d, task_id=t.task_id)).body.task_status
    check("GetTaskStatus", st.status == "Success", st.to_map())
    tasks = c.list_tasks(sso.ListTasksRequest(directory_id=d, access_configuration_id=acid)).body
    check("ListTasks", t.task_id in [x.task_id for x in tasks.tasks], tasks.to_map())
    assigned = c.list_access_assignments(
        sso.ListAccessAssignmentsRequest(directory_id=d, principal_type="User", principal_id=user)
    ).body
    check("ListAccessAssignments", [(a.access_configuration_id, a.target_id) for a in assigned.access_assignments] == [(acid, account)], assigned.to_map())
    check(
        "CreateAccessAssignment twice",
        error_code(lambda: c.create_access_assignment(sso.CreateAccessAssignmentRequest(
            directory_id=d, access_configuration_id=acid, target_type="RD-Account",
            target_id=account, principal_type="User", principal_id=user))) == "EntityAlreadyExists.AccessAssignment",
    )
    prov = c.list_access_configuration_provisionings(
        sso.ListAccessConfigurationProvisioningsRequest(directory_id=d, access_configuration_id=acid)
    ).body.access_configuration_provisionings
    check("ListAccessConfigurationProvisionings: Provisioned", [p.status for p in prov] == ["Provisioned"], [p.to_map() for p in prov])

    # A policy edit flips it; provisioning again brings it back.
    c.update_inline_policy_for_access_configuration(
        sso.UpdateInlinePolicyForAccessConfigurationRequest(
            directory_id=d, access_configuration_id=acid, inline_policy_name="ecs-read",
            new_inline_policy_document=json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}),
        )
    )
    prov = c.list_access_configuration_provisionings(
        sso.ListAccessConfigurationProvisioningsRequest(directory_id=d, access_configuration_id=acid)
    ).body.access_configuration_provisionings
    check("policy edit: ReprovisionRequired", [p.status for p in prov] == ["ReprovisionRequired"], [p.to_map() for p in prov])
    got = c.get_access_configuration(
        sso.GetAccessConfigurationRequest(directory_id=d, access_configuration_id=acid)
    ).body.access_configuration
    check("StatusNotifications: ReprovisionRequired", list(got.status_notifications or []) == ["ReprovisionRequired"], got.to_map())
    pt = c.provision_access_configuration(
        sso.ProvisionAccessConfigurationRequest(
            directory_id=d, access_configuration_id=acid, target_type="RD-Account", target_id=account
        )
    ).body.tasks[0]
    check("ProvisionAccessConfiguration: Success", wait_task(c, d, pt.task_id).status == "Success")
    prov = c.list_access_configuration_provisionings(
        sso.ListAccessConfigurationProvisioningsRequest(directory_id=d, access_configuration_id=acid)
    ).body.access_configuration_provisionings
    check("reprovisioned", [p.status for p in prov] == ["Provisioned"], [p.to_map() for p in prov])
    c.remove_permission_policy_from_access_configuration(
        sso.RemovePermissionPolicyFromAccessConfigurationRequest(
            directory_id=d, access_configuration_id=acid, permission_policy_type="Inline", permission_policy_name="ecs-read",
        )
    )

    # Guards, then the way out: unassign, deprovision, delete.
    check(
        "DeprovisionAccessConfiguration while assigned",
        (error_code(lambda: c.deprovision_access_configuration(sso.DeprovisionAccessConfigurationRequest(
            directory_id=d, access_configuration_id=acid, target_type="RD-Account", target_id=account))) or "").startswith("DeletionConflict"),
    )
    check(
        "DeleteAccessConfiguration while assigned",
        (error_code(lambda: c.delete_access_configuration(sso.DeleteAccessConfigurationRequest(
            directory_id=d, access_configuration_id=acid))) or "").startswith("DeletionConflict"),
    )
    dt = c.delete_access_assignment(
        sso.DeleteAccessAssignmentRequest(
            directory_id=d, access_configuration_id=acid, target_type="RD-Account", target_id=account,
            principal_type="User", principal_id=user, deprovision_strategy="None",
        )
    ).body.task
    check("DeleteAccessAssignment", wait_task(c, d, dt.task_id).status == "Success")
    dp = c.deprovision_access_configuration(
        sso.DeprovisionAccessConfigurationRequest(
            directory_id=d, access_configuration_id=acid, target_type="RD-Account", target_id=account
        )
    ).body.tasks[0]
    check("DeprovisionAccessConfiguration", wait_task(c, d, dp.task_id).status == "Success")
    prov = c.list_access_configuration_provisionings(
        sso.ListAccessConfigurationProvisioningsRequest(directory_id=d, access_configuration_id=acid)
    ).body.access_configuration_provisionings
    check("deprovisioned", prov == [], [p.to_map() for p in prov])
    c.delete_access_configuration(
        sso.DeleteAccessConfigurationRequest(directory_id=d, access_configuration_id=acid, force_remove_permission_policies=True)
    )
    check(
        "GetAccessConfiguration after delete",
        error_code(lambda: c.get_access_configuration(sso.GetAccessConfigurationRequest(
            directory_id=d, access_configuration_id=acid))) == "EntityNotExists.AccessConfiguration",
    )
    r.delete_account(rm.DeleteAccountRequest(account_id=account))

    print("all passed" if not failures else f"{len(failures)} failed: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
