//! Console sign-in, where cloudsso is the SAML identity provider of every account: the IdP
//! keys and metadata per directory (`keys`), the signed Response a user's browser posts to a
//! console (`response`, built from `console_sign_in`), the console sites (ACS, audience,
//! attribute names, RelayState allow-list), and the embedded provider's own console that
//! verifies such a Response (`verify`).
//!
//! Must not import hyper (`http::console` routes and renders). Every XML byte emitted or
//! canonicalized goes through `xml`.

pub mod dsig;
pub mod external;
pub mod keys;
pub mod response;
pub mod sp;
pub mod sp_metadata;
pub mod sso;
pub mod verify;
pub mod xml;

use super::SignIn;
use super::settings::{DirectorySettings, SourceIdentityPassing};
use crate::access::IdpMetadataSource;
use crate::access::assignments::{role_name, saml_provider_name};
use crate::access::provider::BoxFuture;
use crate::error::{DomainError, Entity};
use crate::model::{DirectoryId, PrincipalId, UserId};
use crate::seal::Sealer;
use crate::store::Db;
use crate::store::keys::SigninSettingsKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

/// Which cloud's role ARNs a site's Role attribute carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArnForm {
    /// `acs:ram::<account>:role/<role>,acs:ram::<account>:saml-provider/<provider>`.
    Alibaba,
    /// `arn:aws:iam::<account>:role/<role>,arn:aws:iam::<account>:saml-provider/<provider>`.
    Aws,
}

/// Where a console signs users in by SAML role: the ACS the Response is posted to, the
/// audience it must name, its attribute names, its ARNs and the RelayState it may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSite {
    pub name: &'static str,
    pub acs_url: String,
    pub audience: String,
    pub attribute_prefix: &'static str,
    pub arn_form: ArnForm,
    /// RelayState hosts: these domains and their subdomains, over https.
    relay_domains: &'static [&'static str],
    /// RelayState under this URL prefix (the embedded console's own pages).
    relay_prefix: Option<String>,
}

const ALIBABA_ATTRIBUTES: &str = "https://www.aliyun.com/SAML-Role/Attributes/";
const AWS_ATTRIBUTES: &str = "https://aws.amazon.com/SAML/Attributes/";
/// Alibaba Cloud's console domains (wave2 §A.5).
const ALIBABA_RELAY_DOMAINS: &[&str] = &[
    "aliyun.com",
    "hichina.com",
    "yunos.com",
    "taobao.com",
    "tmall.com",
    "alibabacloud.com",
    "alipay.com",
];
const AWS_RELAY_DOMAINS: &[&str] = &["console.aws.amazon.com"];
/// The embedded console's ACS path under the public URL.
pub const EMBEDDED_ACS_PATH: &str = "/saml-role/sso";
/// The embedded console's ACS of user-based SSO (RAM users), as Alibaba's is
/// `https://signin.aliyun.com/saml/SSO`.
pub const EMBEDDED_USER_ACS_PATH: &str = "/saml/SSO";
/// The domain of an account's RAM user logon names when it has no alias:
/// `<name>@<account id>.onaliyun.com`.
pub const RAM_USER_DOMAIN: &str = "onaliyun.com";

impl ConsoleSite {
    pub fn alibaba_china() -> ConsoleSite {
        ConsoleSite::alibaba(
            "alibaba-china",
            "https://signin.aliyun.com/saml-role/sso",
            "urn:alibaba:cloudcomputing",
        )
    }

    pub fn alibaba_international() -> ConsoleSite {
        ConsoleSite::alibaba(
            "alibaba-international",
            "https://signin.alibabacloud.com/saml-role/sso",
            "urn:alibaba:cloudcomputing:international",
        )
    }

    fn alibaba(name: &'static str, acs: &str, audience: &str) -> ConsoleSite {
        ConsoleSite {
            name,
            acs_url: acs.to_owned(),
            audience: audience.to_owned(),
            attribute_prefix: ALIBABA_ATTRIBUTES,
            arn_form: ArnForm::Alibaba,
            relay_domains: ALIBABA_RELAY_DOMAINS,
            relay_prefix: None,
        }
    }

    pub fn aws() -> ConsoleSite {
        ConsoleSite {
            name: "aws",
            acs_url: "https://signin.aws.amazon.com/saml".to_owned(),
            audience: "https://signin.aws.amazon.com/saml".to_owned(),
            attribute_prefix: AWS_ATTRIBUTES,
            arn_form: ArnForm::Aws,
            relay_domains: AWS_RELAY_DOMAINS,
            relay_prefix: None,
        }
    }

    /// cloudsso's own console at `<public_url>/saml-role/sso`, speaking Alibaba's dialect.
    pub fn embedded(public_url: &str) -> ConsoleSite {
        let base = public_url.trim_end_matches('/');
        ConsoleSite {
            name: "embedded",
            acs_url: format!("{base}{EMBEDDED_ACS_PATH}"),
            audience: "urn:alibaba:cloudcomputing".to_owned(),
            attribute_prefix: ALIBABA_ATTRIBUTES,
            arn_form: ArnForm::Alibaba,
            relay_domains: &[],
            relay_prefix: Some(format!("{base}/")),
        }
    }

    /// cloudsso's own console's user-based SSO for `account`: RAM users sign in at
    /// `<public_url>/saml/SSO`, and the audience is the account's SP entity id,
    /// `<public_url>/<account>/saml/SSO` (Alibaba's is
    /// `https://signin.aliyun.com/<account>/saml/SSO`).
    pub fn embedded_user_sso(public_url: &str, account: &str) -> ConsoleSite {
        let base = public_url.trim_end_matches('/');
        ConsoleSite {
            name: "embedded-user-sso",
            acs_url: format!("{base}{EMBEDDED_USER_ACS_PATH}"),
            audience: format!("{base}/{account}/saml/SSO"),
            ..ConsoleSite::embedded(public_url)
        }
    }

    /// The Role attribute's value: the role and the SAML provider it trusts.
    pub fn role_value(&self, account: &str, role: &str, provider: &str) -> String {
        match self.arn_form {
            ArnForm::Alibaba => {
                format!(
                    "acs:ram::{account}:role/{role},acs:ram::{account}:saml-provider/{provider}"
                )
            }
            ArnForm::Aws => format!(
                "arn:aws:iam::{account}:role/{role},arn:aws:iam::{account}:saml-provider/{provider}"
            ),
        }
    }

    /// Whether `url` may be posted as RelayState to this site: an https URL on one of its
    /// domains (or under the embedded console's prefix), with no credentials, spaces or
    /// backslashes.
    pub fn relay_state_allowed(&self, url: &str) -> bool {
        if url.len() > RELAY_STATE_BYTES_MAX
            || url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return false;
        }
        if let Some(prefix) = &self.relay_prefix {
            return url.starts_with(prefix.as_str());
        }
        let Some(rest) = url.strip_prefix("https://") else {
            return false;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return false;
        }
        let host = authority
            .split(':')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        self.relay_domains
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
    }
}

/// Longest RelayState passed on (SAML bindings allow 80 bytes; consoles take longer URLs,
/// browsers about 2,000).
pub const RELAY_STATE_BYTES_MAX: usize = 2048;

/// What the portal posts to a console: the form's target and fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsolePost {
    pub acs_url: String,
    /// The signed Response, base64.
    pub saml_response: String,
    pub relay_state: Option<String>,
}

/// The console site of an account. Every account is the embedded provider's, so every
/// account uses the embedded console; a real-cloud provider would name its site here.
pub fn site_of(public_url: &str, _account: &str) -> ConsoleSite {
    ConsoleSite::embedded(public_url)
}

/// The user-based SSO site of an account's RAM users (every account is the embedded
/// provider's, as in `site_of`).
pub fn user_sso_site_of(public_url: &str, account: &str) -> ConsoleSite {
    ConsoleSite::embedded_user_sso(public_url, account)
}

/// A RAM user's logon name (its UPN) in an account without an alias:
/// `<name>@<account id>.onaliyun.com`.
pub fn ram_user_logon_name(name: &str, account: &str) -> String {
    format!("{name}@{account}.{RAM_USER_DOMAIN}")
}

/// A logon name -> (RAM user name, account id): the part after the last `@` must be
/// `<digits>.onaliyun.com`.
pub fn parse_logon_name(upn: &str) -> Option<(&str, &str)> {
    let (name, domain) = upn.rsplit_once('@')?;
    let account = domain.strip_suffix(RAM_USER_DOMAIN)?.strip_suffix('.')?;
    let ok = !name.is_empty()
        && !account.is_empty()
        && account.len() <= 32
        && account.bytes().all(|b| b.is_ascii_digit());
    ok.then_some((name, account))
}

/// The SourceIdentity attribute attribute passing asks for (`IdP` passes the external
/// IdP's, which a password sign-in does not have).
fn source_identity(settings: &DirectorySettings, user_name: &str) -> Option<String> {
    match settings.attribute_passing {
        SourceIdentityPassing::UserName => Some(format!("acs:sso:{user_name}")),
        SourceIdentityPassing::IdP | SourceIdentityPassing::Disabled => None,
    }
}

/// The IdP's entity id for a directory: `<public-url>/<directory id>/saml` (stable across
/// renames).
pub fn entity_id(public_url: &str, dir: &str) -> String {
    format!("{}/{dir}/saml", public_url.trim_end_matches('/'))
}

/// A RoleSessionName from a user name: characters outside `[a-zA-Z_0-9+=,.@-]` become `-`,
/// at most 64; shorter than 2, the user id stands in.
pub fn session_name(user_name: &str, user_id: &str) -> String {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    let fit = |s: &str| -> String {
        s.chars()
            .map(|c| if ok(c) { c } else { '-' })
            .take(64)
            .collect()
    };
    let name = fit(user_name);
    if name.chars().count() >= 2 {
        name
    } else {
        fit(user_id)
    }
}

/// The IdP keys and metadata of every directory, over the database and the sealer. Holds no
/// `Access`, so `Access` may hold it (as its `IdpMetadataSource`) without a cycle.
#[derive(Clone)]
pub struct IdpKeys {
    db: Db,
    sealer: Sealer,
    public_url: String,
}

impl IdpKeys {
    /// Also starts making a spare key (`keys::prefetch`).
    pub fn new(db: Db, sealer: Sealer, public_url: &str) -> IdpKeys {
        keys::prefetch();
        IdpKeys {
            db,
            sealer,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    pub async fn key_set(&self, dir: &str) -> Result<keys::IdpKeySet, DomainError> {
        keys::key_set(&self.db, &self.sealer, dir).await
    }

    pub async fn rotate(&self, dir: &str) -> Result<keys::IdpKeySet, DomainError> {
        keys::rotate(&self.db, &self.sealer, dir).await
    }

    pub async fn finish_rotation(&self, dir: &str) -> Result<keys::IdpKeySet, DomainError> {
        keys::finish_rotation(&self.db, &self.sealer, dir).await
    }

    /// The metadata document of directory `dir`.
    pub async fn metadata(&self, dir: &str) -> Result<String, DomainError> {
        let set = self.key_set(dir).await?;
        let sso = format!("{}/{dir}/saml/sso", self.public_url);
        Ok(keys::metadata(
            &entity_id(&self.public_url, dir),
            &sso,
            &set,
        ))
    }
}

impl IdpMetadataSource for IdpKeys {
    fn idp_metadata<'a>(&'a self, dir: &'a str) -> BoxFuture<'a, Result<String, DomainError>> {
        Box::pin(self.metadata(dir))
    }
}

impl SignIn {
    /// The IdP keys and metadata.
    pub fn idp(&self) -> &IdpKeys {
        &self.inner.idp
    }

    /// A signed Response that signs `user` in to `account_id`'s console with the role of
    /// configuration `config_id`, refused (`NotFound`) unless the user has that access now.
    pub async fn console_sign_in(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        account_id: &str,
        config_id: &str,
    ) -> Result<ConsolePost, DomainError> {
        self.check_access_now(dir, user, account_id, config_id)
            .await?;
        let config = self.access().config(dir, config_id).await?;
        let user_name = self.user_name(dir, user).await?;
        let settings = self.directory_settings(dir).await?;
        let set = self.idp().key_set(dir.as_str()).await?;
        let key = keys::signing_key(dir.as_str(), &set.current, self.sealer())?;
        let site = site_of(self.public_url(), account_id);
        let claims = response::Claims {
            site: &site,
            issuer: &entity_id(self.public_url(), dir.as_str()),
            subject: user.as_str(),
            account_id,
            session_duration: config.session_duration,
            logon: response::Logon::Role {
                role_name: &role_name(&config.name),
                provider_name: &saml_provider_name(dir.as_str()),
                session_name: &session_name(&user_name, user.as_str()),
                source_identity: source_identity(&settings, &user_name),
            },
            now: time::OffsetDateTime::now_utc(),
        };
        let xml = response::signed_response(&claims, &key, &set.current.certificate);
        let relay = Some(config.relay_state.clone()).filter(|r| site.relay_state_allowed(r));
        Ok(ConsolePost {
            acs_url: site.acs_url.clone(),
            saml_response: B64.encode(xml),
            relay_state: relay,
        })
    }

    /// A signed Response that signs `user` in to `account_id`'s console as the RAM user it
    /// has there (user-based SSO), refused (`NotFound`) unless it has one now. The session
    /// lasts the directory's RAM user provisioning configuration's duration and lands on its
    /// default landing page when the console allows it.
    pub async fn ram_user_sign_in(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        account_id: &str,
    ) -> Result<ConsolePost, DomainError> {
        let ram = self
            .access()
            .ram_user_access(dir, user)
            .await?
            .into_iter()
            .find(|u| u.account_id == account_id)
            .ok_or_else(|| DomainError::NotFound {
                entity: Entity::UserProvisioning,
                id: format!("{account_id}/{user}"),
            })?;
        let config = self.access().user_provisioning_config(dir).await?;
        let set = self.idp().key_set(dir.as_str()).await?;
        let key = keys::signing_key(dir.as_str(), &set.current, self.sealer())?;
        let site = user_sso_site_of(self.public_url(), account_id);
        let claims = response::Claims {
            site: &site,
            issuer: &entity_id(self.public_url(), dir.as_str()),
            subject: &ram_user_logon_name(&ram.name, account_id),
            account_id,
            session_duration: config.session_duration_hours.saturating_mul(3600),
            logon: response::Logon::RamUser,
            now: time::OffsetDateTime::now_utc(),
        };
        let xml = response::signed_response(&claims, &key, &set.current.certificate);
        let relay = Some(config.default_landing_page).filter(|r| site.relay_state_allowed(r));
        Ok(ConsolePost {
            acs_url: site.acs_url.clone(),
            saml_response: B64.encode(xml),
            relay_state: relay,
        })
    }

    /// `NotFound` unless `user` may use `config_id` on `account_id` now.
    async fn check_access_now(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        account_id: &str,
        config_id: &str,
    ) -> Result<(), DomainError> {
        if self.granted_now(dir, user, account_id, config_id).await? {
            return Ok(());
        }
        Err(DomainError::NotFound {
            entity: Entity::AccessAssignment,
            id: format!("{account_id}/{config_id}"),
        })
    }

    /// Whether effective access grants `user` configuration `config_id` on `account_id` now
    /// (`NotFound` when the user is gone).
    pub(in crate::signin) async fn granted_now(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        account_id: &str,
        config_id: &str,
    ) -> Result<bool, DomainError> {
        let grants = self.access().effective_access(dir, user).await?;
        Ok(grants
            .iter()
            .any(|g| g.account_id == account_id && g.config_id == config_id))
    }

    pub(in crate::signin) async fn user_name(
        &self,
        dir: &DirectoryId,
        user: &UserId,
    ) -> Result<String, DomainError> {
        let id = PrincipalId::User(user.clone());
        let doc = self
            .directory()
            .get(
                dir,
                &id,
                &crate::scim::schema::AttributeSelection::default(),
            )
            .await?;
        Ok(doc
            .get("userName")
            .and_then(|v| v.as_str())
            .unwrap_or(user.as_str())
            .to_owned())
    }

    async fn directory_settings(
        &self,
        dir: &DirectoryId,
    ) -> Result<DirectorySettings, DomainError> {
        let d = dir.to_string();
        self.read(move |txn| Ok(txn.get(SigninSettingsKey { dir: &d })?.unwrap_or_default()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_fit_the_pattern() {
        let cases = [
            ("alice@example.com", "u-1", "alice@example.com"),
            ("Zoë Smith", "u-1", "Zo--Smith"),
            ("x", "u-1234", "u-1234"),
            ("", "u-1234", "u-1234"),
        ];
        for (name, id, want) in cases {
            assert_eq!(session_name(name, id), want, "{name}");
        }
        assert_eq!(session_name(&"a".repeat(100), "u").len(), 64);
    }

    #[test]
    fn relay_states_are_allow_listed_per_site() {
        let ali = ConsoleSite::alibaba_china();
        let aws = ConsoleSite::aws();
        let emb = ConsoleSite::embedded("http://127.0.0.1:8080/");
        let cases: &[(&ConsoleSite, &str, bool)] = &[
            (&ali, "https://homenew.console.aliyun.com/", true),
            (&ali, "https://ecs.console.alibabacloud.com/#/home", true),
            (&ali, "https://aliyun.com", true),
            (&ali, "http://homenew.console.aliyun.com/", false),
            (&ali, "https://evil.com/?x=.aliyun.com", false),
            (&ali, "https://aliyun.com.evil.com/", false),
            (&ali, "https://user@evil.com@aliyun.com/", false),
            (&ali, "https://evilaliyun.com/", false),
            (&ali, "https://a.aliyun.com/ x", false),
            (&ali, "javascript:alert(1)", false),
            (
                &aws,
                "https://eu-central-1.console.aws.amazon.com/athena/home",
                true,
            ),
            (&aws, "https://console.aws.amazon.com/", true),
            (&aws, "https://signin.aws.amazon.com/", false),
            (&emb, "http://127.0.0.1:8080/x", true),
            (&emb, "http://127.0.0.1:80800/x", false),
            (&emb, "https://homenew.console.aliyun.com/", false),
        ];
        for (site, url, want) in cases {
            assert_eq!(site.relay_state_allowed(url), *want, "{} {url}", site.name);
        }
        let long = format!("https://a.aliyun.com/{}", "x".repeat(RELAY_STATE_BYTES_MAX));
        assert!(!ali.relay_state_allowed(&long));
        let fits = format!(
            "https://a.aliyun.com/{}",
            "x".repeat(RELAY_STATE_BYTES_MAX - 30)
        );
        assert!(ali.relay_state_allowed(&fits));
    }

    #[test]
    fn logon_names() {
        assert_eq!(
            ram_user_logon_name("alice", "1000000000000001"),
            "alice@1000000000000001.onaliyun.com"
        );
        let cases = [
            (
                "alice@1000000000000001.onaliyun.com",
                Some(("alice", "1000000000000001")),
            ),
            ("a@b@1.onaliyun.com", Some(("a@b", "1"))),
            ("alice@x1.onaliyun.com", None),
            ("alice@1.onaliyun.com.evil", None),
            ("alice@.onaliyun.com", None),
            ("@1.onaliyun.com", None),
            ("alice@1onaliyun.com", None),
            ("alice", None),
        ];
        for (upn, want) in cases {
            assert_eq!(parse_logon_name(upn), want, "{upn}");
        }
    }

    #[test]
    fn role_values_per_cloud() {
        assert_eq!(
            ConsoleSite::alibaba_international().role_value("1", "R", "P"),
            "acs:ram::1:role/R,acs:ram::1:saml-provider/P"
        );
        assert_eq!(
            ConsoleSite::aws().role_value("1", "R", "P"),
            "arn:aws:iam::1:role/R,arn:aws:iam::1:saml-provider/P"
        );
    }
}
