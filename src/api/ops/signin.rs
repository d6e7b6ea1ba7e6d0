//! CloudSSO's sign-in settings operations (2021-05-15): the service switch, password policy
//! and resets, MFA (directory-wide, per user, devices), login preference and attribute passing,
//! over `signin`. Each operation decodes its parameters, calls one `SignIn` function and shapes
//! the answer. Must not decide a rule (ranges, masks, the SSO refusal live in `signin`).

use super::super::error::ApiFault;
use super::super::params::Params;
use super::resource::only::{directory, installation, user};
use super::{Ctx, Handler, shape};
use crate::signin::settings::{
    self, DirectorySettings, MfaMode, NewPassword, PasswordPolicyChange, RiskOperation,
    SourceIdentityPassing,
};
use crate::signin::state::MfaDevice;
use serde_json::{Value, json};

pub(super) static HANDLERS: &[Handler] = &[
    op!(CloudSso, "EnableService", installation, enable_service),
    op!(CloudSso, "DisableService", installation, disable_service),
    op!(
        CloudSso,
        "GetServiceStatus",
        installation,
        get_service_status
    ),
    op!(CloudSso, "ResetUserPassword", user, reset_user_password),
    op!(
        CloudSso,
        "SetPasswordPolicy",
        directory,
        set_password_policy
    ),
    op!(
        CloudSso,
        "GetPasswordPolicy",
        directory,
        get_password_policy
    ),
    op!(
        CloudSso,
        "SetMFAAuthenticationStatus",
        directory,
        set_mfa_status
    ),
    op!(
        CloudSso,
        "GetMFAAuthenticationStatus",
        directory,
        get_mfa_status
    ),
    op!(
        CloudSso,
        "UpdateMFAAuthenticationSettings",
        directory,
        update_mfa_settings
    ),
    op!(
        CloudSso,
        "GetMFAAuthenticationSettings",
        directory,
        get_mfa_settings
    ),
    op!(
        CloudSso,
        "GetMFAAuthenticationSettingInfo",
        directory,
        get_mfa_setting_info
    ),
    op!(
        CloudSso,
        "UpdateUserMFAAuthenticationSettings",
        user,
        update_user_mfa
    ),
    op!(
        CloudSso,
        "GetUserMFAAuthenticationSettings",
        user,
        get_user_mfa
    ),
    op!(CloudSso, "ListMFADevicesForUser", user, list_mfa_devices),
    op!(CloudSso, "DeleteMFADeviceForUser", user, delete_mfa_device),
    op!(
        CloudSso,
        "UpdateAttributePassingSetting",
        directory,
        update_attribute_passing
    ),
    op!(
        CloudSso,
        "GetAttributePassingSetting",
        directory,
        get_attribute_passing
    ),
    op!(
        CloudSso,
        "SetLoginPreference",
        directory,
        set_login_preference
    ),
    op!(
        CloudSso,
        "GetLoginPreference",
        directory,
        get_login_preference
    ),
];

/// `Enabled` or `Disabled` of a switch.
pub(super) fn status(on: bool) -> &'static str {
    if on { "Enabled" } else { "Disabled" }
}

/// A required `Enabled`/`Disabled` parameter.
fn switch(p: &Params, name: &str) -> Result<bool, ApiFault> {
    Ok(p.one_of(name, &["Enabled", "Disabled"])? == "Enabled")
}

/// An optional boolean (absent: `None`, so the current value stays).
pub(super) fn maybe_flag(p: &Params, name: &str) -> Result<Option<bool>, ApiFault> {
    p.get(name).map(|_| p.flag(name)).transpose()
}

/// An optional integer, its range checked by `signin::settings`.
fn maybe_int(p: &Params, name: &str) -> Result<Option<i64>, ApiFault> {
    p.int(name, i64::MIN..=i64::MAX)
}

/// An optional value of a settings enum, by its wire spelling.
pub(super) fn maybe_spelled<T: Copy>(
    p: &Params,
    name: &str,
    all: &[(T, &'static str)],
) -> Result<Option<T>, ApiFault> {
    let names: Vec<&str> = all.iter().map(|(_, s)| *s).collect();
    Ok(p.maybe_one_of(name, &names)?
        .and_then(|s| all.iter().find(|(_, w)| *w == s).map(|(v, _)| *v)))
}

async fn enable_service(ctx: &Ctx, _: &Params) -> Result<Value, ApiFault> {
    ctx.signin().set_service_enabled(true).await?;
    Ok(json!({}))
}

async fn disable_service(ctx: &Ctx, _: &Params) -> Result<Value, ApiFault> {
    ctx.signin().set_service_enabled(false).await?;
    Ok(json!({}))
}

async fn get_service_status(ctx: &Ctx, _: &Params) -> Result<Value, ApiFault> {
    let enabled = ctx.signin().service_enabled().await?;
    let in_use = !ctx.dir().directories().await?.is_empty();
    let mut s = json!({
        "AccountId": ctx.account(),
        "Status": status(enabled),
        "RegionsInUse": if in_use { vec![ctx.region()] } else { Vec::new() },
    });
    if !enabled && let Some(o) = s.as_object_mut() {
        o.insert("PrerequisiteCheckResult".into(), json!("Success"));
    }
    Ok(json!({"ServiceStatus": s}))
}

/// `GenerateRandomPassword` or `Password`, exactly one.
fn new_password(p: &Params) -> Result<NewPassword, ApiFault> {
    let password = p.get("Password");
    match (p.flag("GenerateRandomPassword")?, password) {
        (true, None) => Ok(NewPassword::Generated),
        (false, Some(pw)) => Ok(NewPassword::Given(pw.to_owned())),
        (false, None) => Err(ApiFault::missing("Password")),
        (true, Some(_)) => Err(ApiFault::invalid(
            "Password",
            "must not be given with GenerateRandomPassword=true",
        )),
    }
}

async fn reset_user_password(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let (d, u) = (p.directory_id()?, p.user_id()?);
    let password = new_password(p)?;
    let require_change = p.flag("RequirePasswordResetForNextLogin")?;
    let generated = ctx
        .signin()
        .reset_password(&d, &u, password, require_change)
        .await?;
    Ok(match generated {
        Some(pw) => json!({"NewPassword": pw}),
        None => json!({}),
    })
}

async fn set_password_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let change = PasswordPolicyChange {
        min_length: maybe_int(p, "MinPasswordLength")?,
        min_different_chars: maybe_int(p, "MinPasswordDifferentChars")?,
        not_contain_username: maybe_flag(p, "PasswordNotContainUsername")?,
        max_age_days: maybe_int(p, "MaxPasswordAge")?,
        reuse_prevention: maybe_int(p, "PasswordReusePrevention")?,
        max_login_attempts: maybe_int(p, "MaxLoginAttempts")?,
    };
    ctx.signin()
        .update_settings(&p.directory_id()?, move |s| {
            s.password_policy = change.apply(&s.password_policy)?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn get_password_policy(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let s = ctx.signin().settings(&p.directory_id()?).await?;
    Ok(json!({"PasswordPolicy": password_policy(&s.password_policy)}))
}

async fn set_mfa_status(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let on = switch(p, "MFAAuthenticationStatus")?;
    ctx.signin()
        .update_settings(&p.directory_id()?, move |s| {
            s.mfa_status_enabled = on;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn get_mfa_status(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let s = ctx.signin().settings(&p.directory_id()?).await?;
    Ok(json!({"MFAAuthenticationStatus": status(s.mfa_status_enabled)}))
}

async fn update_mfa_settings(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let mode = maybe_spelled(p, "MFAAuthenticationSettings", MfaMode::ALL)?
        .ok_or_else(|| ApiFault::missing("MFAAuthenticationSettings"))?;
    let risk = maybe_spelled(p, "OperationForRiskLogin", RiskOperation::ALL)?;
    if let Some(types) = p.get("AllowedVerificationTypes") {
        settings::parse_verification_types(types)?;
    }
    ctx.signin()
        .update_settings(&p.directory_id()?, move |s| s.set_mfa_mode(mode, risk))
        .await?;
    Ok(json!({}))
}

async fn get_mfa_settings(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let s = ctx.signin().settings(&p.directory_id()?).await?;
    Ok(json!({"MFAAuthenticationAdvanceSettings": s.mfa.as_str()}))
}

async fn get_mfa_setting_info(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let s = ctx.signin().settings(&p.directory_id()?).await?;
    Ok(json!({"MFAAuthenticationSettingInfo": mfa_setting_info(&s)}))
}

fn mfa_setting_info(s: &DirectorySettings) -> Value {
    let mut info = json!({
        "MfaAuthenticationAdvanceSettings": s.mfa.as_str(),
        "AllowedVerificationTypes": ["TOTP"],
    });
    if let (Some(risk), Some(o)) = (s.risk_operation, info.as_object_mut()) {
        o.insert("OperationForRiskLogin".into(), json!(risk.as_str()));
    }
    info
}

async fn update_user_mfa(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let on = switch(p, "UserMFAAuthenticationSettings")?;
    ctx.signin()
        .set_user_mfa(&p.directory_id()?, &p.user_id()?, on)
        .await?;
    Ok(json!({}))
}

async fn get_user_mfa(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let rec = ctx
        .signin()
        .user_sign_in(&p.directory_id()?, &p.user_id()?)
        .await?;
    Ok(json!({"UserMFAAuthenticationSettings": status(rec.mfa_enabled)}))
}

async fn list_mfa_devices(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let u = p.user_id()?;
    let devices = ctx.signin().mfa_devices(&p.directory_id()?, &u).await?;
    let list: Vec<Value> = devices.iter().map(|d| mfa_device(d, u.as_str())).collect();
    Ok(json!({"TotalCounts": list.len(), "MFADevices": list}))
}

async fn delete_mfa_device(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let device = p.id("MFADeviceId")?;
    p.maybe_one_of("MfaType", &["TOTP"])?;
    ctx.signin()
        .delete_mfa_device(&p.directory_id()?, &p.user_id()?, device)
        .await?;
    Ok(json!({}))
}

async fn update_attribute_passing(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let passing = maybe_spelled(p, "SourceIdentityPassing", SourceIdentityPassing::ALL)?;
    ctx.signin()
        .update_settings(&p.directory_id()?, move |s| {
            if let Some(v) = passing {
                s.attribute_passing = v;
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn get_attribute_passing(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let s = ctx.signin().settings(&p.directory_id()?).await?;
    Ok(json!({"AttributePassingSetting": {
        "SourceIdentityPassing": s.attribute_passing.as_str(),
    }}))
}

async fn set_login_preference(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let masks = p
        .get("LoginNetworkMasks")
        .map(settings::parse_network_masks)
        .transpose()?;
    let credentials = maybe_flag(p, "AllowUserToGetCredentials")?;
    let max = i64::try_from(settings::CLI_REFRESH_SECONDS_MAX).unwrap_or(i64::MAX);
    let refresh = p.int("CliRefreshTokenDuration", 0..=max)?;
    ctx.signin()
        .update_settings(&p.directory_id()?, move |s| {
            if let Some(m) = masks {
                s.login.network_masks = m;
            }
            if let Some(c) = credentials {
                s.login.allow_user_to_get_credentials = c;
            }
            if let Some(r) = refresh {
                s.login.cli_refresh_seconds = u64::try_from(r).ok();
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

async fn get_login_preference(ctx: &Ctx, p: &Params) -> Result<Value, ApiFault> {
    let s = ctx.signin().settings(&p.directory_id()?).await?;
    Ok(json!({"LoginPreference": {
        "LoginNetworkMasks": s.login.network_masks.join(";"),
        "AllowUserToGetCredentials": s.login.allow_user_to_get_credentials,
        "CliRefreshTokenDuration": ctx.signin().cli_refresh_seconds(&s),
    }}))
}

/// `GetPasswordPolicy`'s `PasswordPolicy`: the settable fields and the fixed rules every
/// password follows (read-only; an expired password forces a change, it does not block).
fn password_policy(p: &settings::PasswordPolicy) -> Value {
    json!({
        "MinPasswordLength": p.min_length,
        "MinPasswordDifferentChars": p.min_different_chars,
        "PasswordNotContainUsername": p.not_contain_username,
        "MaxPasswordAge": p.max_age_days,
        "PasswordReusePrevention": p.reuse_prevention,
        "MaxLoginAttempts": p.max_login_attempts,
        "MaxPasswordLength": settings::PASSWORD_LENGTH_MAX,
        "HardExpire": false,
        "RequireLowerCaseChars": true,
        "RequireUpperCaseChars": true,
        "RequireNumbers": true,
        "RequireSymbols": true,
    })
}

/// An entry of `ListMFADevicesForUser`'s `MFADevices` (never the secret).
fn mfa_device(d: &MfaDevice, user_id: &str) -> Value {
    json!({
        "DeviceId": d.id,
        "DeviceName": d.name,
        "DeviceType": "TOTP",
        "EffectiveTime": shape::time(&d.effective_time),
        "UserId": user_id,
    })
}
