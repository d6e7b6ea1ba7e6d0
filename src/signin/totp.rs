//! TOTP multi-factor authentication (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, through
//! totp-rs): enrollment (a fresh secret, its `otpauth://` URI and that URI's QR code as inline
//! SVG), checking a code with one step of clock skew either side and a replay guard (a time
//! step is accepted once per user, and never one older than the last accepted), and a user's
//! devices (at most `state::MFA_DEVICES_MAX`, secrets sealed for `<dir>/<user>/<device>`).
//!
//! Must not keep a secret in clear at rest, log a secret or a code, or accept a time step at or
//! below the user's `last_totp_step`. Failed-code counting and lockout belong to the sign-in
//! flow, not here.

use super::SignIn;
use super::state::{MFA_DEVICES_MAX, MfaDevice, UserSignIn, now_unix};
use crate::error::{DomainError, Entity};
use crate::model::{DirectoryId, ResourceKind, UserId};
use crate::store::WriteTxn;
use crate::store::keys::{MfaDeviceKey, Prefix, SigninUserKey};
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per time step (RFC 6238's X).
pub const STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub const CODE_DIGITS: usize = 6;
/// Steps either side of now whose code is still accepted (clock drift, typing time).
pub const SKEW_STEPS: u64 = 1;
/// Bytes of a new secret: 160 bits, RFC 4226 section 4's recommendation.
pub const SECRET_BYTES: usize = 20;
/// Fewest bytes of a secret a device may be enrolled with (RFC 4226: at least 128 bits).
pub const SECRET_BYTES_MIN: usize = 16;
/// Most bytes of a secret a device may be enrolled with.
pub const SECRET_BYTES_MAX: usize = 64;
/// Most characters of a device name.
pub const DEVICE_NAME_CHARS_MAX: usize = 64;
/// The name of a device enrolled without one.
pub const DEVICE_NAME_DEFAULT: &str = "Authenticator";
/// Most characters of the issuer and of the account name in an `otpauth://` label; longer ones
/// are cut, which keeps the QR code small enough to scan.
pub const LABEL_CHARS_MAX: usize = 128;
/// Most characters of a code as typed (digits and spaces); longer input is refused unread.
pub const CODE_INPUT_CHARS_MAX: usize = 32;
/// Pixels per QR module in the SVG's own width and height (CSS may size it otherwise).
const QR_MODULE_PIXELS: u32 = 4;

/// A TOTP secret offered to a user, before one valid code confirms it (`SignIn::add_device`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    /// The secret in base32 without padding, for manual entry.
    pub secret: String,
    /// `otpauth://totp/<issuer>:<account>?secret=..&issuer=..`
    pub otpauth_uri: String,
    /// The URI's QR code: a standalone `<svg>` element (no XML declaration) with width, height
    /// and viewBox.
    pub qr_svg: String,
}

/// A fresh secret from the OS CSPRNG for `account_name` at `issuer` (the portal passes
/// "cloudsso (<directory name>)"). A `:` in either (the label's separator) becomes `-`.
pub fn new_enrollment(issuer: &str, account_name: &str) -> Result<Enrollment, DomainError> {
    let mut raw = [0u8; SECRET_BYTES];
    crate::model::fill_random(&mut raw);
    enrollment_of(issuer, account_name, raw.to_vec())
}

/// The enrollment of a secret already offered (base32): the page shown again shows the same
/// secret and QR code.
pub fn existing_enrollment(
    issuer: &str,
    account_name: &str,
    secret_base32: &str,
) -> Result<Enrollment, DomainError> {
    let raw = totp_rs::Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .map_err(|e| DomainError::Internal(format!("TOTP secret: {e:?}")))?;
    enrollment_of(issuer, account_name, raw)
}

fn enrollment_of(
    issuer: &str,
    account_name: &str,
    raw: Vec<u8>,
) -> Result<Enrollment, DomainError> {
    let totp = TOTP::new(
        Algorithm::SHA1,
        CODE_DIGITS,
        // totp-rs's own `check` is not used (see `verify_code`); the URI omits the skew.
        0,
        STEP_SECONDS,
        raw,
        Some(label_part(issuer)),
        label_part(account_name),
    )
    .map_err(|e| DomainError::Internal(format!("TOTP enrollment: {e}")))?;
    let otpauth_uri = totp.get_url();
    let qr_svg = qr_svg(&otpauth_uri)?;
    Ok(Enrollment {
        secret: totp.get_secret_base32(),
        otpauth_uri,
        qr_svg,
    })
}

/// `s` fit for an `otpauth://` label: no `:` or control characters, at most `LABEL_CHARS_MAX`.
fn label_part(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == ':' { '-' } else { c })
        .take(LABEL_CHARS_MAX)
        .collect()
}

/// The QR code of `text` as a standalone SVG element.
fn qr_svg(text: &str) -> Result<String, DomainError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| DomainError::Internal(format!("QR code: {e}")))?;
    let image = code
        .render::<svg::Color>()
        .module_dimensions(QR_MODULE_PIXELS, QR_MODULE_PIXELS)
        .build();
    // The element only: it is embedded in an HTML page.
    let start = image.find("<svg").unwrap_or(0);
    Ok(image.get(start..).unwrap_or_default().to_owned())
}

/// The secret's bytes, if `secret_base32` is base32 (any case, padding and spaces ignored).
fn secret_bytes(secret_base32: &str) -> Option<Vec<u8>> {
    let canonical: String = secret_base32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Secret::Encoded(canonical).to_bytes().ok()
}

/// The 6 digits of a code as typed, if it is 6 digits once whitespace is removed.
fn typed_code(code: &str) -> Option<String> {
    if code.chars().count() > CODE_INPUT_CHARS_MAX {
        return None;
    }
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Equality that takes the same time wherever the first difference is.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The time step `code` is accepted for: the latest step within `SKEW_STEPS` of `now_unix`'s
/// whose code it is, if that step is after `last_step`. Whitespace in `code` is ignored;
/// anything but 6 digits, or a secret that is not base32, refuses.
pub fn verify_code(
    secret_base32: &str,
    code: &str,
    now_unix: u64,
    last_step: Option<u64>,
) -> Option<u64> {
    let code = typed_code(code)?;
    let secret = secret_bytes(secret_base32)?;
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        CODE_DIGITS,
        0,
        STEP_SECONDS,
        secret,
        None,
        String::new(),
    );
    let now = now_unix / STEP_SECONDS;
    let mut accepted = None;
    // Every step of the window is computed, so the time taken does not tell which matched.
    for step in now.saturating_sub(SKEW_STEPS)..=now.saturating_add(SKEW_STEPS) {
        let Some(at) = step.checked_mul(STEP_SECONDS) else {
            continue;
        };
        let fresh = last_step.is_none_or(|last| step > last);
        if same_bytes(totp.generate(at).as_bytes(), code.as_bytes()) && fresh {
            accepted = Some(step);
        }
    }
    accepted
}

/// A device name as given, or the default when blank: at most `DEVICE_NAME_CHARS_MAX`
/// characters, no control characters.
fn device_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    let invalid = |message: String| DomainError::Invalid {
        param: "DeviceName",
        message,
    };
    if name.is_empty() {
        return Ok(DEVICE_NAME_DEFAULT.to_owned());
    }
    if name.chars().count() > DEVICE_NAME_CHARS_MAX {
        return Err(invalid(format!(
            "a device name is at most {DEVICE_NAME_CHARS_MAX} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(
            "a device name must not contain control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// `secret_base32` re-encoded canonically (upper case, no padding), if it is base32 of
/// `SECRET_BYTES_MIN` to `SECRET_BYTES_MAX` bytes.
fn enrollable_secret(secret_base32: &str) -> Result<String, DomainError> {
    match secret_bytes(secret_base32) {
        Some(b) if (SECRET_BYTES_MIN..=SECRET_BYTES_MAX).contains(&b.len()) => {
            Ok(Secret::Raw(b).to_encoded().to_string())
        }
        _ => Err(DomainError::Invalid {
            param: "Secret",
            message: format!(
                "a TOTP secret is base32 of {SECRET_BYTES_MIN} to {SECRET_BYTES_MAX} bytes"
            ),
        }),
    }
}

/// The refusal of a code that is wrong, malformed or already used.
fn wrong_code() -> DomainError {
    DomainError::Invalid {
        param: "Code",
        message: "the code is wrong, expired or already used".into(),
    }
}

/// Now as an unsigned Unix time (0 before the epoch).
fn now_u64() -> u64 {
    u64::try_from(now_unix()).unwrap_or(0)
}

/// Records `step` as the user's last accepted TOTP step.
fn record_step(txn: &WriteTxn, dir: &str, user: &str, step: u64) -> Result<(), DomainError> {
    let key = SigninUserKey { dir, user };
    let mut rec: UserSignIn = txn.get(key)?.unwrap_or_default();
    rec.last_totp_step = Some(step);
    txn.put(key, &rec)?;
    Ok(())
}

/// The user's last accepted TOTP step.
fn last_step(txn: &WriteTxn, dir: &str, user: &str) -> Result<Option<u64>, DomainError> {
    let rec: Option<UserSignIn> = txn.get(SigninUserKey { dir, user })?;
    Ok(rec.and_then(|r| r.last_totp_step))
}

impl SignIn {
    /// Confirms an enrollment with one valid code and stores the device, its secret sealed.
    /// The quota, the user's existence and the replay guard are checked in the same write
    /// that stores the device and the accepted step.
    pub async fn add_device(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        name: &str,
        secret: &str,
        code: &str,
    ) -> Result<MfaDevice, DomainError> {
        let name = device_name(name)?;
        let secret = enrollable_secret(secret)?;
        let code = typed_code(code).ok_or_else(wrong_code)?;
        let (d, u) = (dir.to_string(), user.to_string());
        let id = crate::model::new_ordered_id("mfa-");
        let device = MfaDevice {
            secret_sealed: self.sealer().seal(&format!("{d}/{u}/{id}"), &secret),
            id,
            name,
            effective_time: crate::model::now_rfc3339(),
        };
        let now = now_u64();
        self.write(move |txn| {
            super::existing(txn.resource(ResourceKind::User, &d, &u)?, &u)?;
            let devices: Vec<MfaDevice> = txn.scan(Prefix::MfaDevicesOf { dir: &d, user: &u })?;
            if devices.len() >= MFA_DEVICES_MAX {
                return Err(DomainError::Quota {
                    entity: Entity::MfaDevice,
                    max: MFA_DEVICES_MAX,
                });
            }
            let step =
                verify_code(&secret, &code, now, last_step(txn, &d, &u)?).ok_or_else(wrong_code)?;
            let key = MfaDeviceKey {
                dir: &d,
                user: &u,
                device: &device.id,
            };
            txn.put(key, &device)?;
            record_step(txn, &d, &u, step)?;
            Ok(device)
        })
        .await
    }

    /// Whether `code` is a fresh code of one of the user's devices; if so its step becomes the
    /// user's last, in a write that checks it again (of two submissions of one code, one wins).
    /// A read checks first, so a wrong code costs no write. False for an unknown user or a user
    /// without devices.
    pub async fn check_code(
        &self,
        dir: &DirectoryId,
        user: &UserId,
        code: &str,
    ) -> Result<bool, DomainError> {
        let Some(code) = typed_code(code) else {
            return Ok(false);
        };
        let (d, u, c) = (dir.to_string(), user.to_string(), code.clone());
        let (this, now) = (self.clone(), now_u64());
        let seen = self
            .read(move |txn| {
                let devices = txn.scan(Prefix::MfaDevicesOf { dir: &d, user: &u })?;
                let rec: Option<UserSignIn> = txn.get(SigninUserKey { dir: &d, user: &u })?;
                let last = rec.and_then(|r| r.last_totp_step);
                this.accepted_step(&d, &u, &devices, &c, now, last)
            })
            .await?;
        if seen.is_none() {
            return Ok(false);
        }
        let (d, u, this) = (dir.to_string(), user.to_string(), self.clone());
        self.write(move |txn| {
            let devices = txn.scan(Prefix::MfaDevicesOf { dir: &d, user: &u })?;
            let last = last_step(txn, &d, &u)?;
            match this.accepted_step(&d, &u, &devices, &code, now, last)? {
                Some(step) => record_step(txn, &d, &u, step).map(|()| true),
                None => Ok(false),
            }
        })
        .await
    }

    /// The latest step after `last` for which `code` is the code of one of `devices`.
    fn accepted_step(
        &self,
        dir: &str,
        user: &str,
        devices: &[MfaDevice],
        code: &str,
        now: u64,
        last: Option<u64>,
    ) -> Result<Option<u64>, DomainError> {
        let mut accepted = None;
        for device in devices {
            let secret = self
                .sealer()
                .open(
                    &format!("{dir}/{user}/{}", device.id),
                    &device.secret_sealed,
                )
                .map_err(|e| DomainError::Internal(format!("MFA device `{}`: {e}", device.id)))?;
            accepted = accepted.max(verify_code(&secret, code, now, last));
        }
        Ok(accepted)
    }

    /// Whether the user has at least one TOTP device.
    pub async fn has_mfa_device(
        &self,
        dir: &DirectoryId,
        user: &UserId,
    ) -> Result<bool, DomainError> {
        let (d, u) = (dir.to_string(), user.to_string());
        self.read(move |txn| Ok(txn.any_under(Prefix::MfaDevicesOf { dir: &d, user: &u })?))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret: ASCII "12345678901234567890".
    fn rfc_secret() -> String {
        Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string()
    }

    fn code_at(secret: &str, unix: u64) -> String {
        let bytes = secret_bytes(secret).unwrap();
        TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new()).generate(unix)
    }

    #[test]
    fn rfc6238_sha1_vectors_truncated_to_six_digits() {
        let s = rfc_secret();
        let cases = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ];
        for (t, code) in cases {
            assert_eq!(verify_code(&s, code, t, None), Some(t / 30), "T={t}");
            assert_eq!(code_at(&s, t), code, "T={t}");
        }
    }

    #[test]
    fn skew_of_one_step_either_side_only() {
        let s = rfc_secret();
        let now = 1_234_567_890u64;
        let step = now / 30;
        let cases: [(i64, Option<i64>); 5] = [
            (-2, None),
            (-1, Some(-1)),
            (0, Some(0)),
            (1, Some(1)),
            (2, None),
        ];
        for (offset, want) in cases {
            let at = (step as i64 + offset) as u64 * 30;
            let got = verify_code(&s, &code_at(&s, at), now, None);
            assert_eq!(
                got,
                want.map(|o| (step as i64 + o) as u64),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn a_step_is_accepted_once_and_never_an_older_one() {
        let s = rfc_secret();
        let now = 1_234_567_890u64;
        let step = now / 30;
        let cases = [
            // (code's step, last accepted step, accepted)
            (step, None, true),
            (step, Some(step - 1), true),
            (step, Some(step), false),
            (step - 1, Some(step), false),
            (step + 1, Some(step), true),
            (step - 1, Some(step + 1), false),
            (step + 1, Some(step + 1), false),
        ];
        for (at, last, ok) in cases {
            let got = verify_code(&s, &code_at(&s, at * 30), now, last);
            assert_eq!(got, ok.then_some(at), "step {at} after {last:?}");
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        let s = rfc_secret();
        let t = 59;
        for code in [
            "",
            "12345",
            "1234567",
            "12a456",
            "2870820",
            "28708",
            "-287082",
            "+87082",
            "287 08",
            "２８７０８２",
        ] {
            assert_eq!(verify_code(&s, code, t, None), None, "{code:?}");
        }
        for code in ["287082", "287 082", " 287082 ", "2 8 7 0 8 2", "287\t082"] {
            assert_eq!(verify_code(&s, code, t, None), Some(1), "{code:?}");
        }
    }

    #[test]
    fn typed_code_length_limit() {
        let at_limit = format!("287082{}", " ".repeat(CODE_INPUT_CHARS_MAX - 6));
        let past = format!("287082{}", " ".repeat(CODE_INPUT_CHARS_MAX - 5));
        assert_eq!(typed_code(&at_limit).as_deref(), Some("287082"));
        assert_eq!(typed_code(&past), None);
    }

    #[test]
    fn bad_secrets_and_extreme_times_refuse_without_panic() {
        assert_eq!(verify_code("not base32!", "123456", 59, None), None);
        let s = rfc_secret();
        for now in [0, 1, 29, u64::MAX, u64::MAX - 30] {
            let code = code_at(&s, now);
            let _ = verify_code(&s, &code, now, None);
        }
        // At time 0 the previous step does not exist; step 0 still verifies.
        assert_eq!(verify_code(&s, &code_at(&s, 0), 0, None), Some(0));
    }

    #[test]
    fn enrollment_secret_uri_and_qr() {
        let e = new_enrollment("cloudsso (acme)", "alice@example.com").unwrap();
        assert_eq!(e.secret.len(), 32, "160 bits in base32 without padding");
        assert!(!e.secret.contains('='));
        assert_eq!(secret_bytes(&e.secret).unwrap().len(), SECRET_BYTES);
        let parsed = TOTP::from_url(&e.otpauth_uri).unwrap();
        assert_eq!(parsed.get_secret_base32(), e.secret);
        assert_eq!(parsed.issuer.as_deref(), Some("cloudsso (acme)"));
        assert_eq!(parsed.account_name, "alice@example.com");
        assert_eq!((parsed.digits, parsed.step), (6, 30));
        assert_eq!(parsed.algorithm, Algorithm::SHA1);
        let other = new_enrollment("cloudsso (acme)", "alice@example.com").unwrap();
        assert_ne!(other.secret, e.secret);
    }

    #[test]
    fn qr_svg_is_standalone_xml_with_a_size() {
        let e = new_enrollment("cloudsso (acme)", "bob").unwrap();
        assert!(e.qr_svg.starts_with("<svg"), "{}", &e.qr_svg[..40]);
        assert!(!e.qr_svg.contains("<?xml"));
        let doc = roxmltree::Document::parse(&e.qr_svg).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        let w: u32 = root.attribute("width").unwrap().parse().unwrap();
        let h: u32 = root.attribute("height").unwrap().parse().unwrap();
        assert_eq!(w, h);
        assert_eq!(
            root.attribute("viewBox"),
            Some(format!("0 0 {w} {h}").as_str())
        );
        assert!(e.qr_svg.len() < 40_000, "{} bytes", e.qr_svg.len());
    }

    #[test]
    fn labels_lose_colons_and_are_cut() {
        let long = "a".repeat(LABEL_CHARS_MAX + 1);
        let cases = [
            ("a:b", "a-b".to_owned()),
            ("x\u{7}y", "xy".to_owned()),
            (&long[1..], "a".repeat(LABEL_CHARS_MAX)),
            (long.as_str(), "a".repeat(LABEL_CHARS_MAX)),
        ];
        for (input, want) in cases {
            assert_eq!(label_part(input), want);
        }
        let e = new_enrollment("cloudsso (a:b)", "user:x").unwrap();
        let parsed = TOTP::from_url(&e.otpauth_uri).unwrap();
        assert_eq!(parsed.issuer.as_deref(), Some("cloudsso (a-b)"));
        assert_eq!(parsed.account_name, "user-x");
        let e = new_enrollment(&long, &long).unwrap();
        assert!(TOTP::from_url(&e.otpauth_uri).is_ok());
    }

    #[test]
    fn device_names() {
        let at_limit = "n".repeat(DEVICE_NAME_CHARS_MAX);
        let past = "n".repeat(DEVICE_NAME_CHARS_MAX + 1);
        let cases: [(&str, Option<&str>); 6] = [
            ("", Some(DEVICE_NAME_DEFAULT)),
            ("   ", Some(DEVICE_NAME_DEFAULT)),
            (" phone ", Some("phone")),
            (&at_limit, Some(&at_limit)),
            (&past, None),
            ("a\nb", None),
        ];
        for (input, want) in cases {
            let got = device_name(input).ok();
            assert_eq!(got.as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn enrollable_secret_bounds() {
        let of = |n: usize| Secret::Raw(vec![7u8; n]).to_encoded().to_string();
        let cases = [
            (of(SECRET_BYTES_MIN - 1), false),
            (of(SECRET_BYTES_MIN), true),
            (of(SECRET_BYTES_MAX), true),
            (of(SECRET_BYTES_MAX + 1), false),
            ("not base32!".to_owned(), false),
            (of(20).to_lowercase(), true),
        ];
        for (secret, ok) in cases {
            let got = enrollable_secret(&secret);
            assert_eq!(got.is_ok(), ok, "{secret}");
            if let Ok(canonical) = got {
                assert_eq!(canonical, canonical.to_uppercase());
            }
        }
    }
}
