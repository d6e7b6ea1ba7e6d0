#!/usr/bin/env python3
"""Drives cloudsso's sign-in settings through the unmodified official SDK
(`alibabacloud_cloudsso20210515`): GetServiceStatus, DisableService, EnableService,
SetPasswordPolicy, GetPasswordPolicy, ResetUserPassword, SetMFAAuthenticationStatus,
GetMFAAuthenticationStatus, UpdateMFAAuthenticationSettings, GetMFAAuthenticationSettings,
GetMFAAuthenticationSettingInfo, UpdateUserMFAAuthenticationSettings,
GetUserMFAAuthenticationSettings, ListMFADevicesForUser, DeleteMFADeviceForUser,
UpdateAttributePassingSetting, GetAttributePassingSetting, SetLoginPreference,
GetLoginPreference. Reports every failed check, exits 1 if any.

Usage: sdk_signin_check.py <data dir of a running `cloudsso serve`>
"""

import json
import sys
import uuid
from pathlib import Path

from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_cloudsso20210515.client import Client as SsoClient
from alibabacloud_tea_openapi import models as open_api_models

failures = []


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(what)


def error_code(call):
    try:
        call()
    except Exception as e:
        return getattr(e, "code", repr(e))
    return None


def service(c):
    s = c.get_service_status().body.service_status
    check("GetServiceStatus: Enabled by default", s.status == "Enabled", s.status)
    check("GetServiceStatus: AccountId", bool(s.account_id), s.account_id)
    check("GetServiceStatus: RegionsInUse", s.regions_in_use == ["cn-shanghai"], s.regions_in_use)
    c.disable_service()
    s = c.get_service_status().body.service_status
    check("DisableService", (s.status, s.prerequisite_check_result) == ("Disabled", "Success"),
          (s.status, s.prerequisite_check_result))
    c.enable_service()
    check("EnableService", c.get_service_status().body.service_status.status == "Enabled")


def password_policy(c, d):
    c.set_password_policy(sso.SetPasswordPolicyRequest(
        directory_id=d, min_password_length=12, min_password_different_chars=5,
        password_not_contain_username=True, max_password_age=60, password_reuse_prevention=3,
        max_login_attempts=7))
    p = c.get_password_policy(sso.GetPasswordPolicyRequest(directory_id=d)).body.password_policy
    got = (p.min_password_length, p.min_password_different_chars, p.password_not_contain_username,
           p.max_password_age, p.password_reuse_prevention, p.max_login_attempts)
    check("Set/GetPasswordPolicy round trip", got == (12, 5, True, 60, 3, 7), got)
    fixed = (p.max_password_length, p.hard_expire, p.require_lower_case_chars,
             p.require_upper_case_chars, p.require_numbers, p.require_symbols)
    check("GetPasswordPolicy read-only fields", fixed == (32, False, True, True, True, True), fixed)
    code = error_code(lambda: c.set_password_policy(
        sso.SetPasswordPolicyRequest(directory_id=d, max_password_age=121)))
    check("SetPasswordPolicy MaxPasswordAge=121 refused", code == "InvalidParameter.MaxPasswordAge", code)
    code = error_code(lambda: c.set_password_policy(
        sso.SetPasswordPolicyRequest(directory_id=d, min_password_length=7)))
    check("SetPasswordPolicy MinPasswordLength=7 refused", code == "InvalidParameter.MinPasswordLength", code)


def reset_password(c, d, user):
    r = c.reset_user_password(sso.ResetUserPasswordRequest(
        directory_id=d, user_id=user, generate_random_password=True,
        require_password_reset_for_next_login=True)).body
    pw = r.new_password or ""
    classes = [any(f(ch) for ch in pw) for f in (str.isupper, str.islower, str.isdigit,
                                                  lambda ch: not ch.isalnum())]
    check("ResetUserPassword generated", 12 <= len(pw) <= 32 and all(classes), pw)
    r = c.reset_user_password(sso.ResetUserPasswordRequest(
        directory_id=d, user_id=user, generate_random_password=False,
        password="Zq7!Lm2#Pw9$Rt")).body
    check("ResetUserPassword given: no NewPassword", r.new_password is None, r.new_password)
    code = error_code(lambda: c.reset_user_password(sso.ResetUserPasswordRequest(
        directory_id=d, user_id=user, password="Short1!")))
    check("ResetUserPassword under the policy refused", code == "InvalidParameter.Password", code)


def mfa(c, d, user):
    c.set_mfaauthentication_status(sso.SetMFAAuthenticationStatusRequest(
        directory_id=d, mfaauthentication_status="Disabled"))
    s = c.get_mfaauthentication_status(sso.GetMFAAuthenticationStatusRequest(directory_id=d))
    check("Set/GetMFAAuthenticationStatus", s.body.mfaauthentication_status == "Disabled",
          s.body.mfaauthentication_status)
    c.update_mfaauthentication_settings(sso.UpdateMFAAuthenticationSettingsRequest(
        directory_id=d, mfaauthentication_settings="Byuser", operation_for_risk_login="EnforceVerify",
        allowed_verification_types=["TOTP"]))
    old = c.get_mfaauthentication_settings(sso.GetMFAAuthenticationSettingsRequest(directory_id=d))
    check("GetMFAAuthenticationSettings", old.body.mfaauthentication_advance_settings == "Byuser",
          old.body.mfaauthentication_advance_settings)
    info = c.get_mfaauthentication_setting_info(
        sso.GetMFAAuthenticationSettingInfoRequest(directory_id=d)).body.mfaauthentication_setting_info
    got = (info.mfa_authentication_advance_settings, info.operation_for_risk_login,
           info.allowed_verification_types)
    check("GetMFAAuthenticationSettingInfo", got == ("Byuser", "EnforceVerify", ["TOTP"]), got)
    c.update_user_mfaauthentication_settings(sso.UpdateUserMFAAuthenticationSettingsRequest(
        directory_id=d, user_id=user, user_mfaauthentication_settings="Disabled"))
    u = c.get_user_mfaauthentication_settings(
        sso.GetUserMFAAuthenticationSettingsRequest(directory_id=d, user_id=user))
    check("Update/GetUserMFAAuthenticationSettings",
          u.body.user_mfaauthentication_settings == "Disabled", u.body.user_mfaauthentication_settings)
    devices = c.list_mfadevices_for_user(
        sso.ListMFADevicesForUserRequest(directory_id=d, user_id=user)).body
    check("ListMFADevicesForUser: none yet", (devices.total_counts, devices.mfadevices) in
          ((0, []), (0, None)), (devices.total_counts, devices.mfadevices))
    code = error_code(lambda: c.delete_mfadevice_for_user(sso.DeleteMFADeviceForUserRequest(
        directory_id=d, user_id=user, mfadevice_id="mfa-none")))
    check("DeleteMFADeviceForUser unknown device", code == "EntityNotExists.MFADevice", code)


def login_and_attributes(c, d):
    c.set_login_preference(sso.SetLoginPreferenceRequest(
        directory_id=d, login_network_masks="10.0.0.0/8;192.168.1.7", allow_user_to_get_credentials=True))
    p = c.get_login_preference(sso.GetLoginPreferenceRequest(directory_id=d)).body.login_preference
    got = (p.login_network_masks, p.allow_user_to_get_credentials)
    check("Set/GetLoginPreference", got == ("10.0.0.0/8;192.168.1.7", True), got)
    c.set_login_preference(sso.SetLoginPreferenceRequest(directory_id=d, login_network_masks=";"))
    p = c.get_login_preference(sso.GetLoginPreferenceRequest(directory_id=d)).body.login_preference
    got = (p.login_network_masks, p.allow_user_to_get_credentials)
    check("SetLoginPreference `;` clears, credentials kept", got == ("", True), got)
    many = ";".join(f"10.0.{i}.0/24" for i in range(101))
    code = error_code(lambda: c.set_login_preference(
        sso.SetLoginPreferenceRequest(directory_id=d, login_network_masks=many)))
    check("SetLoginPreference 101 masks refused", code == "InvalidParameter.LoginNetworkMasks", code)
    c.update_attribute_passing_setting(sso.UpdateAttributePassingSettingRequest(
        directory_id=d, source_identity_passing="UserName"))
    a = c.get_attribute_passing_setting(
        sso.GetAttributePassingSettingRequest(directory_id=d)).body.attribute_passing_setting
    check("Update/GetAttributePassingSetting", a.source_identity_passing == "UserName",
          a.source_identity_passing)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    boot = json.loads((Path(sys.argv[1]) / "bootstrap.json").read_text())
    c = SsoClient(open_api_models.Config(
        access_key_id=boot["admin_access_key_id"],
        access_key_secret=boot["admin_access_key_secret"],
        endpoint=boot["api_endpoint"].split("://", 1)[-1].rstrip("/"),
        protocol="http",
        region_id="cn-shanghai",
    ))
    d = boot["directory_id"]
    user = c.create_user(sso.CreateUserRequest(
        directory_id=d, user_name=f"signin-{uuid.uuid4().hex[:6]}")).body.user.user_id
    service(c)
    password_policy(c, d)
    reset_password(c, d, user)
    mfa(c, d, user)
    login_and_attributes(c, d)
    if failures:
        print(f"{len(failures)} sign-in settings check(s) failed")
        return 1
    print("sign-in settings: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
