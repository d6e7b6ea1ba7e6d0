//! How `cloudsso credentials` prints temporary credentials: shell exports for Alibaba's SDKs
//! and tools (`env`), AWS's `credential_process` JSON (`process`) and the aliyun CLI's
//! `External` profile JSON (`aliyun`), as research/portal.md section 3 describes them.
//!
//! Pure: a credential in, text out.

use super::client::acs_date;
use serde_json::json;

/// Temporary credentials, in either protocol's spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TempCredentials {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: String,
    pub expiration: time::OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `export` lines: Alibaba's current names, the legacy ones and Terraform's, as acs-sso
    /// prints them.
    Env,
    /// `{"Version":1,"AccessKeyId",...}` for an AWS profile's `credential_process`.
    Process,
    /// `{"mode":"StsToken",...}` for an aliyun `External` profile's `process_command`.
    Aliyun,
}

impl Format {
    pub const NAMES: [&'static str; 3] = ["env", "process", "aliyun"];

    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "env" => Some(Format::Env),
            "process" => Some(Format::Process),
            "aliyun" => Some(Format::Aliyun),
            _ => None,
        }
    }

    /// Whether the credentials come from AWS's portal (`ASIA` keys) rather than CloudSSO's.
    pub fn is_aws(self) -> bool {
        self == Format::Process
    }
}

/// The environment variables `env` sets: (name, which value).
const ENV_NAMES: [(&str, Field); 9] = [
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", Field::Id),
    ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", Field::Secret),
    ("ALIBABA_CLOUD_SECURITY_TOKEN", Field::Token),
    ("ALIBABACLOUD_ACCESS_KEY_ID", Field::Id),
    ("ALIBABACLOUD_ACCESS_KEY_SECRET", Field::Secret),
    ("SECURITY_TOKEN", Field::Token),
    ("ALICLOUD_ACCESS_KEY", Field::Id),
    ("ALICLOUD_SECRET_KEY", Field::Secret),
    ("ALICLOUD_SECURITY_TOKEN", Field::Token),
];

#[derive(Clone, Copy)]
enum Field {
    Id,
    Secret,
    Token,
}

/// `value` as one shell word: single-quoted, a quote inside written `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The text printed for `c` in `format`, ending with a newline.
pub fn render(format: Format, c: &TempCredentials) -> String {
    let expiration = acs_date(c.expiration);
    match format {
        Format::Env => ENV_NAMES
            .iter()
            .map(|(name, field)| {
                let value = match field {
                    Field::Id => &c.access_key_id,
                    Field::Secret => &c.access_key_secret,
                    Field::Token => &c.security_token,
                };
                format!("export {name}={}\n", shell_quote(value))
            })
            .collect(),
        Format::Process => {
            let doc = json!({"Version": 1, "AccessKeyId": c.access_key_id,
                "SecretAccessKey": c.access_key_secret, "SessionToken": c.security_token,
                "Expiration": expiration});
            format!("{doc}\n")
        }
        Format::Aliyun => {
            let doc = json!({"mode": "StsToken", "access_key_id": c.access_key_id,
                "access_key_secret": c.access_key_secret, "sts_token": c.security_token,
                "expiration": expiration});
            format!("{doc}\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn cred() -> TempCredentials {
        TempCredentials {
            access_key_id: "STS.abc".into(),
            access_key_secret: "s3cr'et".into(),
            security_token: "CSSO1.tok".into(),
            expiration: time::macros::datetime!(2026-12-03 12:00:05.250 +08:00),
        }
    }

    #[test]
    fn shell_words_survive_any_character() {
        for (value, quoted) in [
            ("plain", "'plain'"),
            ("", "''"),
            ("a'b", r"'a'\''b'"),
            ("$(rm -rf /) `x` \"y\" \\", "'$(rm -rf /) `x` \"y\" \\'"),
        ] {
            assert_eq!(shell_quote(value), quoted, "{value}");
        }
    }

    #[test]
    fn env_exports_every_name_acs_sso_and_the_sdks_read() {
        let text = render(Format::Env, &cred());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), ENV_NAMES.len(), "{text}");
        for (line, expected) in lines.iter().zip([
            "export ALIBABA_CLOUD_ACCESS_KEY_ID='STS.abc'",
            r"export ALIBABA_CLOUD_ACCESS_KEY_SECRET='s3cr'\''et'",
            "export ALIBABA_CLOUD_SECURITY_TOKEN='CSSO1.tok'",
            "export ALIBABACLOUD_ACCESS_KEY_ID='STS.abc'",
            r"export ALIBABACLOUD_ACCESS_KEY_SECRET='s3cr'\''et'",
            "export SECURITY_TOKEN='CSSO1.tok'",
            "export ALICLOUD_ACCESS_KEY='STS.abc'",
            r"export ALICLOUD_SECRET_KEY='s3cr'\''et'",
            "export ALICLOUD_SECURITY_TOKEN='CSSO1.tok'",
        ]) {
            assert_eq!(*line, expected);
        }
    }

    #[test]
    fn json_formats_have_the_fields_their_readers_require() {
        for (format, expected) in [
            (
                Format::Process,
                json!({"Version": 1, "AccessKeyId": "STS.abc", "SecretAccessKey": "s3cr'et",
                       "SessionToken": "CSSO1.tok", "Expiration": "2026-12-03T04:00:05Z"}),
            ),
            (
                Format::Aliyun,
                json!({"mode": "StsToken", "access_key_id": "STS.abc",
                       "access_key_secret": "s3cr'et", "sts_token": "CSSO1.tok",
                       "expiration": "2026-12-03T04:00:05Z"}),
            ),
        ] {
            let text = render(format, &cred());
            assert!(text.ends_with('\n') && text.lines().count() == 1, "{text}");
            let doc: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(doc, expected);
        }
        // `Version` is the integer 1 (botocore refuses "1").
        let doc: Value = serde_json::from_str(&render(Format::Process, &cred())).unwrap();
        assert!(doc["Version"].is_u64());
    }

    #[test]
    fn format_names_parse() {
        for name in Format::NAMES {
            assert!(Format::parse(name).is_some(), "{name}");
        }
        assert_eq!(Format::parse("ENV"), None);
        assert!(Format::Process.is_aws() && !Format::Env.is_aws() && !Format::Aliyun.is_aws());
    }
}
