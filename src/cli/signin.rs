//! cloudsso's own CLI sign-in: `cloudsso login` (the device flow in AWS's sso-oidc protocol
//! against a portal's sign-in URL), `cloudsso credentials` (temporary credentials for an
//! account and access configuration, printed for a shell, AWS's `credential_process` or an
//! aliyun `External` profile), `cloudsso profiles populate` (aliyun and AWS profiles for
//! everything the user may use) and `cloudsso logout`.
//!
//! Tokens are cached per sign-in URL (`tokens`) and renewed with the refresh token, with no
//! browser step, when less than 15 minutes are left. Speaks only the wire protocol
//! (`portal`); the files of other tools are merged by `profiles`.

use super::config::{self, ConfigError, ConfigFile, Populated};
use super::formats::{self, Format};
use super::portal::{self, Grant, PollStep, PortalError, SignInUrl};
use super::profiles::{self, AliyunToken, AwsSession, Pair, ProfilesError};
use super::tokens::{self, Cache, CacheError, Ended, Plan, Registration, Token};
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The commands of this module.
pub const COMMANDS: [&str; 4] = ["login", "credentials", "profiles", "logout"];
/// The region written into profiles when `--region` names none.
pub const REGION_DEFAULT: &str = "cn-shanghai";
/// Longest the device flow waits for the user, whatever the server's `expiresIn` says.
pub const DEVICE_WAIT_MAX_SECONDS: u64 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Portal(#[from] PortalError),
    #[error(transparent)]
    Profiles(#[from] ProfilesError),
    #[error("no sign-in URL: give `--sign-in-url`, e.g. http://127.0.0.1:8080/default/login")]
    NoSignInUrl,
    #[error("no `HOME`: the sign-in commands keep their files under it")]
    NoHome,
    #[error("not signed in to {0}: run `cloudsso login`")]
    NotSignedIn(String),
    #[error("the sign-in to {0} has ended{1}: run `cloudsso login` again")]
    Ended(String, String),
    #[error("the sign-in did not complete: {0}")]
    DeviceFlow(String),
    #[error("no access configuration `{0}` of yours on account `{1}`")]
    NoConfiguration(String, String),
    #[error("`{0}`: {1}")]
    File(PathBuf, String),
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("unknown command `{0}`; see --help")]
    UnknownCommand(String),
}

fn sign_in_url_arg() -> Arg {
    Arg::new("sign-in-url")
        .long("sign-in-url")
        .env("CLOUDSSO_SIGN_IN_URL")
        .value_name("URL")
        .help("the portal's sign-in URL, e.g. http://127.0.0.1:8080/default/login (default: the last one `login` used)")
}

/// `login`, `credentials`, `profiles populate`, `logout`.
pub fn commands() -> Vec<Command> {
    let login = Command::new("login")
        .about("Sign in by the device flow: approve a code in the portal (tokens cached 0600, renewed without the browser)")
        .arg(sign_in_url_arg())
        .arg(
            Arg::new("no-browser")
                .long("no-browser")
                .action(ArgAction::SetTrue)
                .help("print the URL to open instead of opening a browser"),
        );
    let credentials = Command::new("credentials")
        .about("Print temporary credentials for an account and access configuration")
        .arg(sign_in_url_arg())
        .arg(Arg::new("account-id").long("account-id").value_name("ID").required(true))
        .arg(
            Arg::new("access-configuration")
                .long("access-configuration")
                .value_name("NAME_OR_ID")
                .required(true)
                .help("the access configuration's name or id"),
        )
        .arg(
            Arg::new("format")
                .long("format")
                .value_parser(Format::NAMES)
                .default_value("env")
                .help("env: shell exports; process: AWS credential_process JSON; aliyun: External profile JSON"),
        );
    let populate = Command::new("populate")
        .about("Write a profile per account and access configuration into ~/.aliyun/config.json and ~/.aws/config")
        .arg(sign_in_url_arg())
        .arg(Arg::new("region").long("region").value_name("REGION").help(
            "region of the profiles (default: the last one used, else cn-shanghai)",
        ));
    let profiles = Command::new("profiles")
        .about("Profiles of other tools for what you may use")
        .subcommand_required(true)
        .subcommand(populate);
    let logout = Command::new("logout")
        .about("End the sign-in on the server and delete the cached tokens")
        .arg(sign_in_url_arg());
    vec![login, credentials, profiles, logout]
}

/// Runs `name`, one of `COMMANDS`.
pub fn run(name: &str, m: &ArgMatches) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SignInError::Runtime(e).to_string())?;
    // `profiles populate` takes its flags one level down.
    let args = match (name, m.subcommand()) {
        ("profiles", Some((_, sub))) => sub,
        _ => m,
    };
    let result = runtime.block_on(async {
        let mut ctx = Context::open(args)?;
        match (name, m.subcommand_name()) {
            ("login", _) => login(&mut ctx, args.get_flag("no-browser")).await,
            ("credentials", _) => credentials(&mut ctx, args).await,
            ("profiles", Some("populate")) => populate(&mut ctx, args).await,
            ("logout", _) => logout(&mut ctx).await,
            _ => Err(SignInError::UnknownCommand(name.to_owned())),
        }
    });
    result.map_err(|e| e.to_string())
}

fn say(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn warn(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Where the files are: `$HOME`, the CLI's config, the aliyun config, `~/.aws/config`.
struct Paths {
    home: PathBuf,
    config: PathBuf,
    aliyun: PathBuf,
    aws_config: PathBuf,
}

impl Paths {
    fn from_env() -> Result<Paths, SignInError> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .ok_or(SignInError::NoHome)?;
        let aws_config = std::env::var_os("AWS_CONFIG_FILE")
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join("config"));
        Ok(Paths {
            config: config::default_path()?,
            aliyun: home.join(".aliyun").join("config.json"),
            aws_config,
            home,
        })
    }
}

/// One command's state: the files, the sign-in URL and its cache.
struct Context {
    paths: Paths,
    config: ConfigFile,
    url: SignInUrl,
    cache_path: PathBuf,
    cache: Cache,
}

impl Context {
    fn open(m: &ArgMatches) -> Result<Context, SignInError> {
        let paths = Paths::from_env()?;
        let config = ConfigFile::load(&paths.config)?;
        let given = m
            .try_get_one::<String>("sign-in-url")
            .ok()
            .flatten()
            .cloned();
        let text = given
            .or_else(|| config.sign_in_url.clone())
            .ok_or(SignInError::NoSignInUrl)?;
        let url = SignInUrl::parse(&text)?;
        let cache_path = tokens::cache_path(&paths.home, url.as_str());
        let cache = tokens::load(&cache_path)?.unwrap_or_else(|| Cache::new(url.as_str()));
        Ok(Context {
            paths,
            config,
            url,
            cache_path,
            cache,
        })
    }

    fn origin(&self) -> String {
        self.url.origin().to_owned()
    }

    fn save_cache(&self) -> Result<(), SignInError> {
        Ok(tokens::save(&self.cache_path, &self.cache)?)
    }

    fn populated(&self) -> Option<&Populated> {
        self.config.populated.get(self.url.as_str())
    }

    fn botocore_path(&self) -> PathBuf {
        tokens::botocore_path(&self.paths.home, profiles::AWS_SESSION)
    }

    /// After a new token: the cache, and the token in the profiles `populate` wrote (aliyun
    /// profiles and botocore's cache), so the SDKs use it too.
    fn store_token(&mut self, token: Token) -> Result<(), SignInError> {
        self.cache.token = Some(token);
        self.save_cache()?;
        let Some(p) = self.populated().cloned() else {
            return Ok(());
        };
        if let Some(token) = &self.cache.token
            && let Some(mut doc) = tokens::load_at_most::<serde_json::Value>(
                &self.paths.aliyun,
                tokens::TOOL_FILE_BYTES_MAX,
            )?
        {
            let t = AliyunToken {
                sign_in_url: self.url.as_str(),
                access_token: &token.access_token,
                expires_at: token.expires_at,
            };
            if profiles::refresh_aliyun(&mut doc, &p.aliyun, t) {
                tokens::save(&self.paths.aliyun, &doc)?;
            }
        }
        if !p.aws.is_empty()
            && let Some(b) = tokens::to_botocore(&self.cache, &p.region)
        {
            tokens::save(&self.botocore_path(), &b)?;
        }
        Ok(())
    }

    /// A valid access token: the cached one, renewed first (no browser) when less than 15
    /// minutes are left; boto3's newer one when it renewed last.
    async fn access_token(&mut self) -> Result<String, SignInError> {
        let _lock = self.lock_cache()?;
        // Another command may have renewed the token while this one waited for the lock.
        if let Some(cache) = tokens::load(&self.cache_path)? {
            self.cache = cache;
        }
        if self.populated().is_some_and(|p| !p.aws.is_empty())
            && let Ok(Some(theirs)) = tokens::load(&self.botocore_path())
            && tokens::adopt_newer(&mut self.cache, &theirs)
            && let Some(token) = self.cache.token.clone()
        {
            self.store_token(token)?;
        }
        let url = self.url.as_str().to_owned();
        match tokens::plan(&self.cache, now()) {
            Plan::Use => {}
            Plan::LoginAgain(Ended::NotSignedIn) => return Err(SignInError::NotSignedIn(url)),
            Plan::LoginAgain(Ended::Expired) => {
                return Err(SignInError::Ended(
                    url,
                    " (the access token expired)".into(),
                ));
            }
            Plan::Refresh { still_valid } => self.refresh(still_valid).await?,
        }
        self.cache
            .token
            .as_ref()
            .map(|t| t.access_token.clone())
            .ok_or(SignInError::NotSignedIn(url))
    }

    /// Holds `<cache>.lock` exclusively until dropped, so that two commands at once (an SDK
    /// running `credential_process` in parallel) never both present the same refresh token:
    /// the server takes the second for a stolen copy and ends the whole sign-in. `None`
    /// without a cache folder (nothing to renew).
    fn lock_cache(&self) -> Result<Option<std::fs::File>, SignInError> {
        let path = self.cache_path.with_extension("lock");
        if !path.parent().is_some_and(Path::exists) {
            return Ok(None);
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let err = |e: std::io::Error| SignInError::File(path.clone(), e.to_string());
        let file = opts.open(&path).map_err(err)?;
        file.lock().map_err(err)?;
        Ok(Some(file))
    }

    async fn refresh(&mut self, still_valid: bool) -> Result<(), SignInError> {
        let (Some(reg), Some(old)) = (self.cache.registration.clone(), self.cache.token.clone())
        else {
            return Err(SignInError::NotSignedIn(self.url.as_str().to_owned()));
        };
        let refresh_token = old.refresh_token.clone().unwrap_or_default();
        let origin = self.origin();
        match portal::create_token(&origin, &reg, Grant::Refresh(&refresh_token)).await {
            Ok(mut token) => {
                // No rotation: the old refresh token goes on.
                token.refresh_token = token.refresh_token.or(old.refresh_token);
                self.store_token(token)
            }
            Err(e) if still_valid => {
                warn(&format!(
                    "could not renew the access token ({e}); using it while it lasts"
                ));
                Ok(())
            }
            Err(PortalError::Refused { code, message, .. }) if renewal_ended(&code) => {
                Err(SignInError::Ended(
                    self.url.as_str().to_owned(),
                    format!(" (renewal refused: {code}: {message})"),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether a refused renewal means the sign-in is over (rather than a passing failure).
pub fn renewal_ended(code: &str) -> bool {
    matches!(
        code,
        "InvalidGrantException"
            | "ExpiredTokenException"
            | "InvalidClientException"
            | "UnauthorizedClientException"
            | "AccessDeniedException"
    )
}

/// The registration for a new login: the cached one while it lasts, else a new one (cached
/// at once, so an abandoned login does not register again). Whether it was cached.
async fn registration(ctx: &mut Context) -> Result<(Registration, bool), SignInError> {
    if let Some(r) = ctx.cache.usable_registration(now()) {
        return Ok((r.clone(), true));
    }
    let r = portal::register(&ctx.origin()).await?;
    ctx.cache.registration = Some(r.clone());
    ctx.save_cache()?;
    Ok((r, false))
}

async fn login(ctx: &mut Context, no_browser: bool) -> Result<(), SignInError> {
    let origin = ctx.origin();
    let (mut reg, cached) = registration(ctx).await?;
    let start = match portal::start_device(&origin, &reg, ctx.url.as_str()).await {
        // The server no longer knows the cached registration: register again, once.
        Err(e) if cached && e.code() == Some("InvalidClientException") => {
            ctx.cache.registration = None;
            reg = registration(ctx).await?.0;
            portal::start_device(&origin, &reg, ctx.url.as_str()).await?
        }
        other => other?,
    };
    say(&format!(
        "To sign in, open\n\n    {}\n\nand check that the page shows the code {}\n(or open {} and enter the code).",
        start.verification_uri_complete, start.user_code, start.verification_uri
    ));
    if !no_browser && open_browser(&start.verification_uri_complete) {
        say("A browser was opened on that page.");
    }
    let token = poll(&origin, &reg, &start).await?;
    let expires_at = token.expires_at;
    let replaced = ctx.cache.token.take();
    ctx.store_token(token)?;
    // The sign-in this one replaces ends on the server too (it may have ended already).
    if let Some(old) = replaced {
        let _ = portal::logout(&origin, &old.access_token).await;
    }
    ctx.config.sign_in_url = Some(ctx.url.as_str().to_owned());
    ctx.config.save(&ctx.paths.config)?;
    say(&format!(
        "Signed in to {} until {} (renewed without the browser while the sign-in lasts).",
        ctx.url.as_str(),
        super::client::acs_date(
            time::OffsetDateTime::from_unix_timestamp(expires_at)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        )
    ));
    Ok(())
}

/// How long the device flow waits for the user: the code's life, at most
/// `DEVICE_WAIT_MAX_SECONDS`.
pub fn device_wait_seconds(expires_in: u64) -> u64 {
    expires_in.min(DEVICE_WAIT_MAX_SECONDS)
}

/// Polls `/token` at the interval until the user decides or the code expires.
async fn poll(
    origin: &str,
    reg: &Registration,
    start: &portal::DeviceStart,
) -> Result<Token, SignInError> {
    let mut interval = portal::next_interval(
        start
            .interval
            .unwrap_or(portal::POLL_INTERVAL_DEFAULT_SECONDS),
        PollStep::Wait,
    );
    let deadline = Instant::now() + Duration::from_secs(device_wait_seconds(start.expires_in));
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let e = match portal::create_token(origin, reg, Grant::DeviceCode(&start.device_code)).await
        {
            Ok(token) => return Ok(token),
            Err(e) => e,
        };
        let step = e.code().map_or(PollStep::Stop, portal::poll_step);
        if step == PollStep::Stop {
            let why = match e.code() {
                Some("ExpiredTokenException") => "the code expired before it was approved".into(),
                Some("AccessDeniedException") => "the request was denied in the portal".into(),
                _ => e.to_string(),
            };
            return Err(SignInError::DeviceFlow(why));
        }
        if Instant::now() >= deadline {
            return Err(SignInError::DeviceFlow(
                "the code expired before it was approved".into(),
            ));
        }
        interval = portal::next_interval(interval, step);
    }
}

/// Opens `url` in the desktop's browser when there is a display; whether it was launched.
fn open_browser(url: &str) -> bool {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        let display = ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
        if !display {
            return false;
        }
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

async fn credentials(ctx: &mut Context, m: &ArgMatches) -> Result<(), SignInError> {
    let arg = |id: &str| m.get_one::<String>(id).cloned().unwrap_or_default();
    let (account, wanted) = (arg("account-id"), arg("access-configuration"));
    let format = Format::parse(&arg("format")).unwrap_or(Format::Env);
    let token = ctx.access_token().await?;
    let origin = ctx.origin();
    let configs = portal::configurations(&origin, &token, &account).await?;
    let config = pick_configuration(&configs, &wanted)
        .ok_or_else(|| SignInError::NoConfiguration(wanted.clone(), account.clone()))?;
    let c = if format.is_aws() {
        portal::role_credentials(&origin, &token, &account, &config.name).await?
    } else {
        portal::cloud_credentials(&origin, &token, &account, &config.id).await?
    };
    let _ = std::io::stdout()
        .lock()
        .write_all(formats::render(format, &c).as_bytes());
    Ok(())
}

/// The configuration `wanted` names: by id, else by name, else by the one name equal to it
/// ignoring case.
pub fn pick_configuration<'a>(
    configs: &'a [portal::Configuration],
    wanted: &str,
) -> Option<&'a portal::Configuration> {
    let folded: Vec<_> = configs
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(wanted))
        .collect();
    configs
        .iter()
        .find(|c| c.id == wanted)
        .or_else(|| configs.iter().find(|c| c.name == wanted))
        .or(match folded.as_slice() {
            [one] => Some(*one),
            _ => None,
        })
}

/// Every (account, configuration) the user may use, sorted by names then ids.
async fn pairs(origin: &str, token: &str) -> Result<Vec<Pair>, SignInError> {
    let mut all = Vec::new();
    for account in portal::accounts(origin, token).await? {
        for configuration in portal::configurations(origin, token, &account.id).await? {
            all.push(Pair {
                account: account.clone(),
                configuration,
            });
        }
    }
    all.sort_by(|a, b| {
        let key = |p: &Pair| {
            (
                p.account.name.clone(),
                p.account.id.clone(),
                p.configuration.name.clone(),
                p.configuration.id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(all)
}

/// `~/.aws/config`'s text ("" when there is none).
fn read_text(path: &Path) -> Result<String, SignInError> {
    let bytes = tokens::read_at_most(path, tokens::TOOL_FILE_BYTES_MAX)?.unwrap_or_default();
    String::from_utf8(bytes).map_err(|e| SignInError::File(path.to_owned(), e.to_string()))
}

async fn populate(ctx: &mut Context, m: &ArgMatches) -> Result<(), SignInError> {
    let previous = ctx.populated().cloned().unwrap_or_default();
    let region = m
        .get_one::<String>("region")
        .cloned()
        .or_else(|| Some(previous.region.clone()).filter(|r| !r.is_empty()))
        .unwrap_or_else(|| REGION_DEFAULT.to_owned());
    let token = ctx.access_token().await?;
    let origin = ctx.origin();
    let pairs = pairs(&origin, &token).await?;
    let names = profiles::names(&pairs);
    let (url, paths) = (ctx.url.as_str().to_owned(), &ctx.paths);
    let expires_at = ctx.cache.token.as_ref().map_or(0, |t| t.expires_at);
    let t = AliyunToken {
        sign_in_url: &url,
        access_token: &token,
        expires_at,
    };
    let wanted = names
        .iter()
        .zip(&pairs)
        .map(|(n, p)| profiles::aliyun_profile(n, p, t, &region))
        .collect();
    let existing = tokens::load_at_most(&paths.aliyun, tokens::TOOL_FILE_BYTES_MAX)?;
    let file = paths.aliyun.display().to_string();
    let aliyun = profiles::merge_aliyun(existing, &file, wanted, &previous.aliyun, &url)?;
    tokens::save(&paths.aliyun, &aliyun.doc)?;
    let session = AwsSession {
        sign_in_url: &url,
        origin: &origin,
        region: &region,
    };
    let named: Vec<(String, &Pair)> = names.iter().cloned().zip(&pairs).collect();
    let aws = profiles::merge_aws(
        &read_text(&paths.aws_config)?,
        session,
        &named,
        &previous.aws,
    );
    config::save_private(&paths.aws_config, aws.doc.as_bytes())
        .map_err(|e| SignInError::File(paths.aws_config.clone(), e.to_string()))?;
    for name in aliyun.skipped.iter().chain(&aws.skipped) {
        warn(&format!(
            "profile `{name}` exists and was not written by cloudsso: left as it is"
        ));
    }
    report_populated(&names, &pairs, &aliyun.written, &aws.written, paths);
    let populated = Populated {
        region,
        aliyun: aliyun.written,
        aws: aws.written,
    };
    ctx.config.populated.insert(url, populated);
    ctx.config.save(&ctx.paths.config)?;
    if let Some(token) = ctx.cache.token.clone() {
        ctx.store_token(token)?;
    }
    Ok(())
}

fn report_populated(
    names: &[String],
    pairs: &[Pair],
    aliyun: &[String],
    aws: &[String],
    paths: &Paths,
) {
    if names.is_empty() {
        say("You may use no account yet: no profile written.");
    }
    for (name, p) in names.iter().zip(pairs) {
        let into: Vec<&str> = [("aliyun", aliyun), ("aws", aws)]
            .iter()
            .filter(|(_, w)| w.contains(name))
            .map(|(tool, _)| *tool)
            .collect();
        say(&format!(
            "{name}\taccount {} ({}), access configuration {} ({})\t{}",
            p.account.name,
            p.account.id,
            p.configuration.name,
            p.configuration.id,
            into.join(",")
        ));
    }
    say(&format!(
        "Written: {} and {}",
        paths.aliyun.display(),
        paths.aws_config.display()
    ));
}

async fn logout(ctx: &mut Context) -> Result<(), SignInError> {
    let ended = match &ctx.cache.token {
        Some(t) => match portal::logout(&ctx.origin(), &t.access_token).await {
            Ok(()) => Ok(()),
            // Already ended on the server.
            Err(PortalError::Refused { status: 401, .. }) => Ok(()),
            Err(e) => Err(e),
        },
        None => Ok(()),
    };
    remove(&ctx.cache_path)?;
    let botocore = ctx.botocore_path();
    if let Ok(Some(b)) = tokens::load::<tokens::BotocoreToken>(&botocore)
        && b.start_url == ctx.url.as_str()
    {
        remove(&botocore)?;
    }
    ended?;
    say(&format!("Signed out of {}.", ctx.url.as_str()));
    Ok(())
}

fn remove(path: &Path) -> Result<(), SignInError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SignInError::File(path.to_owned(), e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(id: &str, name: &str) -> portal::Configuration {
        portal::Configuration {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_configuration_is_named_by_id_or_name() {
        let configs = [
            config("ac-1", "Admin"),
            config("ac-2", "ReadOnly"),
            config("ac-3", "readonly"),
            config("ac-4", "ac-1"),
            config("ac-5", "Billing"),
        ];
        for (wanted, expected) in [
            ("ac-2", Some("ac-2")),
            ("Admin", Some("ac-1")),
            ("admin", Some("ac-1")),
            ("ReadOnly", Some("ac-2")),
            ("readonly", Some("ac-3")),
            ("READONLY", None),
            ("ac-1", Some("ac-1")),
            ("billing", Some("ac-5")),
            ("nope", None),
            ("", None),
        ] {
            assert_eq!(
                pick_configuration(&configs, wanted).map(|c| c.id.as_str()),
                expected,
                "{wanted}"
            );
        }
    }

    #[test]
    fn the_device_flow_waits_the_codes_life_within_its_bound() {
        for (expires_in, wait) in [
            (0, 0),
            (600, 600),
            (DEVICE_WAIT_MAX_SECONDS, DEVICE_WAIT_MAX_SECONDS),
            (DEVICE_WAIT_MAX_SECONDS + 1, DEVICE_WAIT_MAX_SECONDS),
            (u64::MAX, DEVICE_WAIT_MAX_SECONDS),
        ] {
            assert_eq!(device_wait_seconds(expires_in), wait, "{expires_in}");
        }
    }

    #[test]
    fn only_a_refused_grant_or_client_ends_the_sign_in() {
        for (code, ended) in [
            ("InvalidGrantException", true),
            ("ExpiredTokenException", true),
            ("InvalidClientException", true),
            ("UnauthorizedClientException", true),
            ("AccessDeniedException", true),
            ("InternalServerException", false),
            ("TooManyRequestsException", false),
            ("HttpError", false),
        ] {
            assert_eq!(renewal_ended(code), ended, "{code}");
        }
    }

    #[test]
    fn the_commands_parse() {
        let cmd = || Command::new("cloudsso").subcommands(commands());
        for (args, ok) in [
            (
                vec!["login", "--sign-in-url", "http://h/d/login", "--no-browser"],
                true,
            ),
            (vec!["login"], true),
            (
                vec![
                    "credentials",
                    "--account-id",
                    "1",
                    "--access-configuration",
                    "A",
                ],
                true,
            ),
            (
                vec![
                    "credentials",
                    "--account-id",
                    "1",
                    "--access-configuration",
                    "A",
                    "--format",
                    "process",
                ],
                true,
            ),
            (vec!["credentials", "--account-id", "1"], false),
            (
                vec![
                    "credentials",
                    "--account-id",
                    "1",
                    "--access-configuration",
                    "A",
                    "--format",
                    "xml",
                ],
                false,
            ),
            (
                vec!["profiles", "populate", "--region", "cn-hangzhou"],
                true,
            ),
            (vec!["profiles"], false),
            (vec!["logout"], true),
        ] {
            let r = cmd().try_get_matches_from(std::iter::once("cloudsso").chain(args.clone()));
            assert_eq!(r.is_ok(), ok, "{args:?}: {r:?}");
        }
    }
}
