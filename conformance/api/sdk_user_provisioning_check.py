#!/usr/bin/env python3
"""Drives cloudsso's RAM user provisioning (issue 14) through the unmodified official SDK
`alibabacloud_cloudsso20210515`: CreateUserProvisioning, GetUserProvisioning,
ListUserProvisionings, UpdateUserProvisioning, Get/UpdateUserProvisioningConfiguration, a
KeepBoth name clash (a Keep provisioning's RAM user left in the account, `<name>_sso` taken)
becoming an event (ListUserProvisioningEvents, GetUserProvisioningEvent,
GetUserProvisioningStatistics, GetUserProvisioningRdAccountStatistics), a retry that fails
again, DeleteUserProvisioningEvent, a TakeOver retry (RetryUserProvisioningEvent) clearing it,
DeleteUserProvisioning with each DeletionStrategy. Reports every failed check, exits 1 if any.

Usage: sdk_user_provisioning_check.py <data dir of a running `cloudsso serve`>
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


def events(c, d):
    return c.list_user_provisioning_events(
        sso.ListUserProvisioningEventsRequest(directory_id=d)
    ).body.user_provisioning_events or []


def wait(what, cond, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        v = cond()
        if v:
            check(what, True)
            return v
        time.sleep(0.05)
    check(what, False, "timed out")
    return None


def provision(c, d, account, user, deletion):
    return c.create_user_provisioning(
        sso.CreateUserProvisioningRequest(
            directory_id=d, principal_type="User", principal_id=user, target_type="RD-Account",
            target_id=account, duplication_strategy="KeepBoth", deletion_strategy=deletion,
        )
    ).body.user_provisioning


def set_status(c, d, user, status):
    c.update_user_status(sso.UpdateUserStatusRequest(directory_id=d, user_id=user, new_status=status))


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
        rm.CreateResourceAccountRequest(display_name=f"up-{tag}")
    ).body.account.account_id

    def user(name):
        return c.create_user(sso.CreateUserRequest(directory_id=d, user_name=name)).body.user.user_id

    # Records.
    ann = user(f"ann{tag}")
    up = provision(c, d, account, ann, "Delete")
    check("CreateUserProvisioning: up- id", up.user_provisioning_id.startswith("up-"), up.to_map())
    check(
        "CreateUserProvisioning: fields",
        up.principal_name == f"ann{tag}" and up.target_id == account and up.status == "Enabled"
        and up.duplication_strategy == "KeepBoth" and up.target_type == "RD-Account",
        up.to_map(),
    )
    check(
        "CreateUserProvisioning: twice",
        error_code(lambda: provision(c, d, account, ann, "Keep")) == "EntityAlreadyExists.UserProvisioning",
    )
    got = c.get_user_provisioning(
        sso.GetUserProvisioningRequest(directory_id=d, user_provisioning_id=up.user_provisioning_id)
    ).body.user_provisioning
    check("GetUserProvisioning", got.to_map() == up.to_map(), got.to_map())
    listed = c.list_user_provisionings(
        sso.ListUserProvisioningsRequest(directory_id=d, principal_type="User", principal_id=ann)
    ).body
    check(
        "ListUserProvisionings: by principal",
        [x.user_provisioning_id for x in listed.user_provisionings] == [up.user_provisioning_id]
        and listed.total_counts == 1,
        listed.to_map(),
    )
    upd = c.update_user_provisioning(
        sso.UpdateUserProvisioningRequest(
            directory_id=d, user_provisioning_id=up.user_provisioning_id,
            new_description="sdk", new_deletion_strategy="Keep",
        )
    ).body.user_provisioning
    check("UpdateUserProvisioning", upd.description == "sdk" and upd.deletion_strategy == "Keep", upd.to_map())
    cfg = c.update_user_provisioning_configuration(
        sso.UpdateUserProvisioningConfigurationRequest(directory_id=d, new_session_duration=12)
    ).body.user_provisioning_configuration
    check("UpdateUserProvisioningConfiguration", cfg.session_duration == 12, cfg.to_map())
    cfg = c.get_user_provisioning_configuration(
        sso.GetUserProvisioningConfigurationRequest(directory_id=d)
    ).body.user_provisioning_configuration
    check(
        "GetUserProvisioningConfiguration",
        cfg.session_duration == 12 and cfg.default_landing_page == "https://homenew.console.aliyun.com",
        cfg.to_map(),
    )
    check(
        "UpdateUserProvisioningConfiguration: 25 h",
        error_code(lambda: c.update_user_provisioning_configuration(
            sso.UpdateUserProvisioningConfigurationRequest(directory_id=d, new_session_duration=25)
        )) == "InvalidParameter.NewSessionDuration",
    )

    # A KeepBoth clash: `bo<tag>_sso` is taken by bo<tag>_sso's RAM user, and `bo<tag>` by bo's
    # own RAM user, left in the account (Keep) while bo is disabled.
    bo_sso = user(f"bo{tag}_sso")
    provision(c, d, account, bo_sso, "Delete")
    bo = user(f"bo{tag}")
    bo_up = provision(c, d, account, bo, "Keep").user_provisioning_id
    ev = None
    for pause in (0.3, 0.6, 1.2, 2.4):
        set_status(c, d, bo, "Disabled")
        time.sleep(pause)
        set_status(c, d, bo, "Enabled")
        end = time.time() + 2
        while time.time() < end and not ev:
            ev = next(iter(events(c, d)), None)
            time.sleep(0.05)
        if ev:
            break
    check("ListUserProvisioningEvents: the clash", ev is not None)
    if ev is None:
        return 1
    check(
        "event: KeepBoth clash",
        ev.user_provisioning_id == bo_up and ev.source_type == "StartProvisioning" and ev.error_count == 1
        and ev.error_info.startswith("OperationConflict.UserProvisioning.Process.fail.ImsUserExists"),
        ev.to_map(),
    )
    one = c.get_user_provisioning_event(
        sso.GetUserProvisioningEventRequest(directory_id=d, event_id=ev.event_id)
    ).body.user_provisioning_event
    check("GetUserProvisioningEvent", one.to_map() == ev.to_map(), one.to_map())
    st = c.get_user_provisioning_statistics(
        sso.GetUserProvisioningStatisticsRequest(directory_id=d, user_provisioning_id=bo_up)
    ).body.user_provisioning_statistics
    check("GetUserProvisioningStatistics", st.failed_event_count == 1 and st.type == "User Provisioning", st.to_map())
    st = c.get_user_provisioning_rd_account_statistics(
        sso.GetUserProvisioningRdAccountStatisticsRequest(directory_id=d, rd_member_id=account)
    ).body.user_provisioning_statistics
    check("GetUserProvisioningRdAccountStatistics", st.failed_event_count == 1 and st.type == "RD Account", st.to_map())
    c.retry_user_provisioning_event(sso.RetryUserProvisioningEventRequest(directory_id=d, event_id=ev.event_id))
    wait("RetryUserProvisioningEvent: fails again", lambda: any(e.error_count == 2 for e in events(c, d)))
    c.delete_user_provisioning_event(
        sso.DeleteUserProvisioningEventRequest(directory_id=d, user_provisioning_id=bo_up, event_id=ev.event_id)
    )
    check("DeleteUserProvisioningEvent", events(c, d) == [])
    # The next pass meets the clash again; a TakeOver retry takes `bo<tag>` over.
    c.update_user(sso.UpdateUserRequest(directory_id=d, user_id=bo, new_display_name="Bo"))
    ev = wait("event again", lambda: next(iter(events(c, d)), None))
    if ev:
        c.retry_user_provisioning_event(
            sso.RetryUserProvisioningEventRequest(directory_id=d, event_id=ev.event_id, duplication_strategy="TakeOver")
        )
        wait("RetryUserProvisioningEvent TakeOver: cleared", lambda: events(c, d) == [])

    # Deletion, with each strategy.
    for (pid, strategy) in ((bo_up, "Delete"), (up.user_provisioning_id, "Keep")):
        c.delete_user_provisioning(
            sso.DeleteUserProvisioningRequest(directory_id=d, user_provisioning_id=pid, deletion_strategy=strategy)
        )
        check(
            f"DeleteUserProvisioning {strategy}",
            error_code(lambda: c.get_user_provisioning(
                sso.GetUserProvisioningRequest(directory_id=d, user_provisioning_id=pid)
            )) == "EntityNotExists.UserProvisioning",
        )
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
