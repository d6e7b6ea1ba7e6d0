//! TOTP devices through the library over a real redb file: enrollment confirmed by a code, the
//! device quota, one-time codes (also under concurrent submission), and secrets sealed at rest.

use cloudsso::app::{App, Options, WriterThread};
use cloudsso::config::Limits;
use cloudsso::error::{DomainError, Entity};
use cloudsso::model::{DirectoryId, ResourceKind, UserId};
use cloudsso::scim::schema::AttributeSelection;
use cloudsso::signin::state::MFA_DEVICES_MAX;
use cloudsso::signin::totp::{Enrollment, new_enrollment};
use cloudsso::store::keys::MfaDeviceKey;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};
use totp_rs::{Algorithm, Secret, TOTP};

struct Fixture {
    app: App,
    writer: WriterThread,
    d: DirectoryId,
    user: UserId,
    tmp: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        public_url: "http://x".into(),
        ..Options::default()
    };
    let (app, writer) = App::open(&tmp.path().join("data"), Limits::default(), options)
        .await
        .unwrap();
    let d = app
        .directory
        .bootstrap("d-totp0000000000".into(), "secret".into())
        .await
        .unwrap()
        .unwrap()
        .directory_id;
    let doc = app
        .directory
        .create(
            ResourceKind::User,
            &d,
            json!({"userName": "alice"}),
            &AttributeSelection::default(),
        )
        .await
        .unwrap();
    let user = UserId::new(doc["id"].as_str().unwrap());
    Fixture {
        app,
        writer,
        d,
        user,
        tmp,
    }
}

/// Now in Unix seconds, at least `MARGIN_SECONDS` before the current time step ends (it waits
/// for the next step otherwise), so a test's codes stay in the window it computed them for.
pub(crate) async fn settled_now() -> u64 {
    const MARGIN_SECONDS: u64 = 5;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let left = 30 - now % 30;
    if left >= MARGIN_SECONDS {
        return now;
    }
    tokio::time::sleep(std::time::Duration::from_millis(left * 1000 + 100)).await;
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code of `secret` at `unix` seconds.
pub(crate) fn code_at(secret: &str, unix: u64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new()).generate(unix)
}

fn enrollment() -> Enrollment {
    new_enrollment("cloudsso (default)", "alice").unwrap()
}

#[tokio::test]
async fn enrollment_needs_a_valid_code_and_codes_are_accepted_once() {
    let f = fixture().await;
    let s = &f.app.signin;
    assert!(!s.has_mfa_device(&f.d, &f.user).await.unwrap());
    let e = enrollment();
    let now = settled_now().await;
    for wrong in ["000000", "12345", "12a456", ""] {
        let wrong = if wrong == "000000" && code_at(&e.secret, now) == wrong {
            "111111"
        } else {
            wrong
        };
        let err = s
            .add_device(&f.d, &f.user, "", &e.secret, wrong)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DomainError::Invalid { param: "Code", .. }),
            "{err:?}"
        );
    }
    assert!(!s.has_mfa_device(&f.d, &f.user).await.unwrap());
    let code = code_at(&e.secret, now);
    let device = s
        .add_device(&f.d, &f.user, "", &e.secret, &code)
        .await
        .unwrap();
    assert!(device.id.starts_with("mfa-"), "{}", device.id);
    assert_eq!(device.name, "Authenticator");
    assert!(!device.secret_sealed.contains(&e.secret));
    assert!(s.has_mfa_device(&f.d, &f.user).await.unwrap());
    // The enrollment code's step is used: the same code does not sign in.
    assert!(!s.check_code(&f.d, &f.user, &code).await.unwrap());
    // Another user has no device.
    let other = UserId::new("u-nobody");
    assert!(!s.check_code(&f.d, &other, &code).await.unwrap());
    assert!(!s.has_mfa_device(&f.d, &other).await.unwrap());
}

#[tokio::test]
async fn a_code_is_accepted_once_and_wrong_codes_are_refused() {
    let f = fixture().await;
    let s = &f.app.signin;
    let e = enrollment();
    // Enrolled with the previous step's code (within the skew), so the current one is fresh.
    let now = settled_now().await;
    let previous = code_at(&e.secret, now - 30);
    s.add_device(&f.d, &f.user, "phone", &e.secret, &previous)
        .await
        .unwrap();
    let code = code_at(&e.secret, now);
    assert!(!s.check_code(&f.d, &f.user, &previous).await.unwrap());
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    assert!(s.check_code(&f.d, &f.user, &spaced).await.unwrap());
    assert!(!s.check_code(&f.d, &f.user, &code).await.unwrap(), "replay");
    assert!(!s.check_code(&f.d, &f.user, "12a456").await.unwrap());
}

#[tokio::test]
async fn a_third_device_is_refused() {
    let f = fixture().await;
    let s = &f.app.signin;
    let mut last_err = None;
    // Each enrollment uses a fresh secret; a code's step must be after the last accepted one,
    // so every enrollment after the first uses the next step's code (within the skew).
    let now = settled_now().await;
    for (i, offset) in [-30i64, 0, 30].into_iter().enumerate() {
        let e = enrollment();
        let code = code_at(&e.secret, now.checked_add_signed(offset).unwrap());
        match s
            .add_device(&f.d, &f.user, &format!("d{i}"), &e.secret, &code)
            .await
        {
            Ok(_) => assert!(i < MFA_DEVICES_MAX, "device {i} accepted"),
            Err(err) => last_err = Some((i, err)),
        }
    }
    let (i, err) = last_err.expect("the third device is refused");
    assert_eq!(i, MFA_DEVICES_MAX);
    assert!(
        matches!(
            err,
            DomainError::Quota {
                entity: Entity::MfaDevice,
                max: MFA_DEVICES_MAX
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn two_concurrent_submissions_of_one_code_one_wins() {
    let f = fixture().await;
    let s = &f.app.signin;
    let e = enrollment();
    let now = settled_now().await;
    s.add_device(&f.d, &f.user, "", &e.secret, &code_at(&e.secret, now - 30))
        .await
        .unwrap();
    let code = code_at(&e.secret, now);
    let (a, b) = tokio::join!(
        s.check_code(&f.d, &f.user, &code),
        s.check_code(&f.d, &f.user, &code)
    );
    let mut got = [a.unwrap(), b.unwrap()];
    got.sort();
    assert_eq!(got, [false, true]);
}

#[tokio::test]
async fn the_secret_is_not_in_the_database_file_in_clear() {
    let f = fixture().await;
    let e = enrollment();
    f.app
        .signin
        .add_device(
            &f.d,
            &f.user,
            "",
            &e.secret,
            &code_at(&e.secret, settled_now().await),
        )
        .await
        .unwrap();
    let Fixture {
        app, writer, tmp, ..
    } = f;
    drop(app);
    writer.join();
    let bytes = std::fs::read(tmp.path().join("data").join(cloudsso::app::DB_FILE)).unwrap();
    let raw = Secret::Encoded(e.secret.clone()).to_bytes().unwrap();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"Authenticator"), "the device record is in the file");
    assert!(!has(e.secret.as_bytes()), "base32 secret in clear");
    assert!(!has(&raw), "raw secret in clear");
}

#[tokio::test]
async fn a_device_record_swapped_to_another_user_does_not_verify() {
    let f = fixture().await;
    let s = &f.app.signin;
    let e = enrollment();
    let now = settled_now().await;
    let device = s
        .add_device(&f.d, &f.user, "", &e.secret, &code_at(&e.secret, now - 30))
        .await
        .unwrap();
    let bob = f
        .app
        .directory
        .create(
            ResourceKind::User,
            &f.d,
            json!({"userName": "bob"}),
            &AttributeSelection::default(),
        )
        .await
        .unwrap();
    let bob = UserId::new(bob["id"].as_str().unwrap());
    // Alice's sealed secret copied under Bob's key: it is sealed for Alice's owner string.
    let (d, b) = (f.d.to_string(), bob.to_string());
    f.app
        .db
        .write(move |w| {
            let key = MfaDeviceKey {
                dir: &d,
                user: &b,
                device: &device.id,
            };
            w.put(key, &device)?;
            Ok::<_, DomainError>(())
        })
        .await
        .unwrap();
    let got = s.check_code(&f.d, &bob, &code_at(&e.secret, now)).await;
    assert!(matches!(got, Err(DomainError::Internal(_))), "{got:?}");
    // Alice's own device still verifies.
    assert!(
        s.check_code(&f.d, &f.user, &code_at(&e.secret, now))
            .await
            .unwrap()
    );
}
