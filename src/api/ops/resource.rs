//! The ARN tails CloudSSO operations share (`directory/{DirectoryId}/user/{UserId}` and
//! friends), read from the request's parameters. Pure: the region and account are added by
//! `Ctx::arn`.

use super::super::error::ApiFault;
use super::super::params::Params;

/// `directory/{DirectoryId}`.
pub fn dir(p: &Params) -> Result<String, ApiFault> {
    Ok(format!("directory/{}", &p.directory_id()?))
}

/// `directory/{DirectoryId}/user/{UserId}`.
pub fn user(p: &Params) -> Result<String, ApiFault> {
    Ok(format!("{}/user/{}", dir(p)?, &p.user_id()?))
}

/// `directory/{DirectoryId}/group/{GroupId}`.
pub fn group(p: &Params) -> Result<String, ApiFault> {
    Ok(format!("{}/group/{}", dir(p)?, &p.group_id()?))
}

/// `directory/{DirectoryId}/{kind}/*`: every `kind` of the directory (to create or list).
pub fn all_in_dir(p: &Params, kind: &str) -> Result<String, ApiFault> {
    Ok(format!("{}/{kind}/*", dir(p)?))
}

/// `directory/{DirectoryId}/access-configuration/{AccessConfigurationId}`.
pub fn config(p: &Params) -> Result<String, ApiFault> {
    Ok(format!(
        "{}/access-configuration/{}",
        dir(p)?,
        p.id("AccessConfigurationId")?
    ))
}

/// The one-ARN resource lists the handler tables of several products share.
pub mod only {
    use super::super::super::error::ApiFault;
    use super::super::super::params::Params;

    /// `*`: the whole installation (the service switch, the delegated administrator).
    pub fn installation(_: &Params) -> Result<Vec<String>, ApiFault> {
        Ok(vec!["*".into()])
    }

    /// `directory/{DirectoryId}`.
    pub fn directory(p: &Params) -> Result<Vec<String>, ApiFault> {
        Ok(vec![super::dir(p)?])
    }

    /// `directory/{DirectoryId}/user/{UserId}`.
    pub fn user(p: &Params) -> Result<Vec<String>, ApiFault> {
        Ok(vec![super::user(p)?])
    }

    /// `directory/{DirectoryId}/access-configuration/{AccessConfigurationId}`.
    pub fn config(p: &Params) -> Result<Vec<String>, ApiFault> {
        Ok(vec![super::config(p)?])
    }

    /// `directory/{DirectoryId}/access-configuration/*`.
    pub fn configs(p: &Params) -> Result<Vec<String>, ApiFault> {
        Ok(vec![super::all_in_dir(p, "access-configuration")?])
    }
}
