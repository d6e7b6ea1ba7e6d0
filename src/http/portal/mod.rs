//! The user portal over HTTP, at `/<directory>/...` (the directory's name, or its id when it
//! has none): sign-in, MFA enrollment and codes, the forced password change, the account list,
//! favourites, "Open console" and sign-out. Decodes forms and cookies, checks CSRF, and renders
//! `pages`; every decision is `signin`'s.
//!
//! CSRF: every state-changing form carries a synchronizer token (the session's, or for the
//! sign-in form the token of a login cookie), compared in constant time; a cross-site
//! `Sec-Fetch-Site` is refused outright.

mod device;
mod pages;
mod saml;

use super::audit::{Trail, within};
use super::query::parse_query;
use super::{Body, read_body};
use crate::app::App;
use crate::audit::{Actor, ActorKind, Settings};
use crate::error::DomainError;
use crate::signin::SignIn;
use crate::signin::flow::{PortalDirectory, Refusal};
use crate::signin::session::{
    ConsoleLink, DeepLink, DeviceLink, Origin, Session, Stage, new_token, same_token,
};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, header};
use std::net::SocketAddr;
use std::time::Duration;

/// The session cookie (scoped to the directory's path).
pub const SESSION_COOKIE: &str = "cloudsso_session";
/// The sign-in form's CSRF cookie (scoped to the sign-in page).
pub const LOGIN_CSRF_COOKIE: &str = "cloudsso_login";
/// Largest portal form body.
pub const FORM_BYTES_MAX: usize = 16 * 1024;
/// Most cookies of one name tried (several paths may each set one).
const SAME_NAME_COOKIES_MAX: usize = 4;

/// The steps under a directory's segment that the portal answers.
const STEPS: &[&str] = &[
    "login", "mfa", "password", "portal", "console", "ram-user", "logout", "saml", "device",
];

/// Whether a path is the portal's: `/<segment>/<step>[/...]` with a step it answers.
pub fn is_portal_path(path: &str) -> bool {
    let mut parts = path.trim_start_matches('/').split('/');
    let (Some(seg), Some(step)) = (parts.next(), parts.next()) else {
        return false;
    };
    !seg.is_empty() && STEPS.contains(&step)
}

/// What the route needs from a request.
struct Call {
    method: Method,
    /// Path parts after the directory segment.
    rest: Vec<String>,
    query: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
    origin: Origin,
    peer: SocketAddr,
    cross_site: bool,
}

impl Call {
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn cookies(&self, name: &str) -> impl Iterator<Item = &str> {
        self.cookies
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .take(SAME_NAME_COOKIES_MAX)
    }
}

/// A decoded form body.
struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

/// Everything a portal handler works with.
struct Portal<'a> {
    signin: &'a SignIn,
    /// For the resource names of console sign-ins.
    audit: &'a Settings,
    dir: PortalDirectory,
    /// `/<segment>`.
    base: String,
    cookie_flags: String,
}

/// Serves a portal request; a sign-in, sign-out, password change, MFA step or console
/// sign-in leaves an audit record (after the answer is decided: what the user's step wrote is
/// bookkeeping whose success is not the step's).
pub async fn handle(
    app: &App,
    trail: Trail<'_>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let scope = trail.open(&req, peer, "");
    let resp = within(scope.as_ref(), serve(app, req, peer)).await;
    let result = scope
        .as_ref()
        .map(|s| s.snapshot())
        .filter(|r| !r.action.is_empty())
        .map(|r| r.result);
    if let Some(result) = result {
        trail.close(scope, &result).await;
    }
    resp
}

async fn serve(app: &App, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let mut parts = path.trim_start_matches('/').split('/').map(str::to_owned);
    let seg = parts.next().unwrap_or_default();
    let rest: Vec<String> = parts.collect();
    let dir = match app.signin.portal_directory(&seg).await {
        Ok(Some(d)) => d,
        Ok(None) => return not_found(&seg),
        Err(e) => return failure(&seg, &e),
    };
    let base = format!("/{}", dir.segment());
    let secure = if app.signin.is_https() {
        "; Secure"
    } else {
        ""
    };
    let p = Portal {
        signin: &app.signin,
        audit: &app.audit,
        cookie_flags: format!("; HttpOnly; SameSite=Lax{secure}"),
        dir,
        base,
    };
    let call = decode_call(&req, rest, peer);
    let form = if call.method == Method::POST {
        let timeout = Duration::from_millis(app.limits.request_read_timeout_ms);
        // The ACS takes a SAML Response; every other form is small.
        let max = if call.rest == ["saml", "acs"] {
            crate::http::console::CONSOLE_FORM_BYTES_MAX
        } else {
            FORM_BYTES_MAX
        };
        match read_body(req, max, timeout).await {
            Ok(b) => Some(Form(parse_query(&String::from_utf8_lossy(&b)))),
            Err(e) => {
                return p.message(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request refused",
                    &e.message(max, timeout),
                );
            }
        }
    } else {
        None
    };
    match p.route(&call, form.as_ref()).await {
        Ok(r) => r,
        Err(e) => failure(p.dir.segment(), &e),
    }
}

fn decode_call(req: &Request<Incoming>, rest: Vec<String>, peer: SocketAddr) -> Call {
    let header = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let cookies = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect();
    Call {
        method: req.method().clone(),
        rest,
        query: parse_query(req.uri().query().unwrap_or_default()),
        cookies,
        origin: Origin {
            source_ip: peer.ip().to_string(),
            user_agent: header(header::USER_AGENT),
        },
        peer,
        cross_site: req
            .headers()
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site"),
    }
}

impl Portal<'_> {
    async fn route(&self, c: &Call, form: Option<&Form>) -> Result<Response<Body>, DomainError> {
        let rest: Vec<&str> = c.rest.iter().map(String::as_str).collect();
        // The ACS is posted to by the IdP's page: cross-site, authenticated by its signature.
        if c.cross_site && form.is_some() && rest != ["saml", "acs"] {
            return Ok(self.csrf_refused());
        }
        match (&c.method, form, rest.as_slice()) {
            (&Method::GET, _, ["saml", "login"]) => self.saml_login(c).await,
            (&Method::GET, _, ["saml", "metadata"]) => self.saml_metadata().await,
            (&Method::POST, Some(f), ["saml", "acs"]) => self.saml_acs(c, f).await,
            (&Method::GET, _, ["login"]) => self.login_page(c).await,
            (&Method::POST, Some(f), ["login"]) => self.login(c, f).await,
            (&Method::GET, _, ["password"]) => self.at(c, Stage::ChangePassword, None).await,
            (&Method::POST, Some(f), ["password"]) => {
                self.at(c, Stage::ChangePassword, Some(f)).await
            }
            (&Method::GET, _, ["mfa", "enroll"]) => self.at(c, Stage::EnrollMfa, None).await,
            (&Method::POST, Some(f), ["mfa", "enroll"]) => {
                self.at(c, Stage::EnrollMfa, Some(f)).await
            }
            (&Method::GET, _, ["mfa"]) => self.at(c, Stage::VerifyMfa, None).await,
            (&Method::POST, Some(f), ["mfa"]) => self.at(c, Stage::VerifyMfa, Some(f)).await,
            (&Method::GET, _, ["portal"]) => self.active(c, None, Page::Accounts).await,
            (&Method::POST, Some(f), ["portal", "favourite"]) => {
                self.active(c, Some(f), Page::Favourite).await
            }
            (&Method::GET, _, ["console", account, config]) => {
                let target = ConsoleLink {
                    account_id: (*account).to_owned(),
                    config_id: (*config).to_owned(),
                };
                self.active(c, None, Page::Console(target)).await
            }
            (&Method::GET, _, ["ram-user", account]) => {
                let account = (*account).to_owned();
                self.active(c, None, Page::RamUserConsole(account)).await
            }
            (&Method::GET, _, ["device"]) => self.active(c, None, Page::Device).await,
            (&Method::POST, Some(f), ["device"]) => {
                self.active(c, Some(f), Page::DeviceDecide).await
            }
            (&Method::POST, Some(f), ["logout"]) => self.logout(c, f).await,
            _ => Ok(self.message(StatusCode::NOT_FOUND, "Not found", "There is no such page.")),
        }
    }

    /// The live session of this request, at any stage.
    async fn session(&self, c: &Call) -> Result<Option<(String, Session)>, DomainError> {
        for token in c.cookies(SESSION_COOKIE) {
            if let Some(s) = self.signin.session(&self.dir.id, token).await? {
                return Ok(Some((token.to_owned(), s)));
            }
        }
        Ok(None)
    }

    /// Where a session at `stage` goes next.
    fn stage_path(&self, s: &Session) -> String {
        match (s.record.stage, &s.record.deep_link) {
            (Stage::ChangePassword, _) => format!("{}/password", self.base),
            (Stage::EnrollMfa, _) => format!("{}/mfa/enroll", self.base),
            (Stage::VerifyMfa, _) => format!("{}/mfa", self.base),
            (Stage::Active, Some(l)) => self.link_path(l),
            (Stage::Active, None) => format!("{}/portal", self.base),
        }
    }

    fn login_path(&self) -> String {
        format!("{}/login", self.base)
    }

    /// Where a deep link goes once signed in.
    fn link_path(&self, l: &DeepLink) -> String {
        match l {
            DeepLink::Console(l) => {
                format!("{}/console/{}/{}", self.base, l.account_id, l.config_id)
            }
            DeepLink::Device(l) => format!("{}/device?user_code={}", self.base, l.user_code),
        }
    }

    /// The sign-in page that comes back to `l` (or to the portal).
    fn login_path_to(&self, l: Option<&DeepLink>) -> String {
        let enc = crate::model::percent_encode;
        match l {
            Some(DeepLink::Console(l)) => format!(
                "{}?accountId={}&accessConfigurationId={}",
                self.login_path(),
                enc(&l.account_id),
                enc(&l.config_id)
            ),
            Some(DeepLink::Device(l)) => {
                format!("{}?user_code={}", self.login_path(), enc(&l.user_code))
            }
            None => self.login_path(),
        }
    }

    fn session_cookie(&self, token: &str) -> String {
        format!(
            "{SESSION_COOKIE}={token}; Path={}/{}",
            self.base, self.cookie_flags
        )
    }

    fn clear_session_cookie(&self) -> String {
        format!(
            "{SESSION_COOKIE}=; Path={}/; Max-Age=0{}",
            self.base, self.cookie_flags
        )
    }

    async fn login_page(&self, c: &Call) -> Result<Response<Body>, DomainError> {
        if let Some((_, s)) = self.session(c).await?
            && s.record.stage == Stage::Active
        {
            return Ok(pages::redirect(&self.stage_path(&s), &[]));
        }
        if self.signin.settings(&self.dir.id).await?.sso_enabled {
            let relay = deep_link(c).map(|l| self.link_path(&l));
            let to = match relay {
                Some(r) => format!(
                    "{}/saml/login?RelayState={}",
                    self.base,
                    crate::model::percent_encode(&r)
                ),
                None => format!("{}/saml/login", self.base),
            };
            return Ok(pages::redirect(&to, &[]));
        }
        Ok(self.login_form(c, StatusCode::OK, "", None))
    }

    /// The sign-in form with a fresh CSRF token (in a cookie and the form).
    fn login_form(
        &self,
        c: &Call,
        status: StatusCode,
        username: &str,
        error: Option<String>,
    ) -> Response<Body> {
        let csrf = new_token();
        let action = self.login_path_to(deep_link(c).as_ref());
        let mut resp = pages::page(
            status,
            &pages::Login {
                directory: self.dir.segment(),
                action: &action,
                csrf: &csrf,
                username,
                error,
            },
        );
        let cookie = format!(
            "{LOGIN_CSRF_COOKIE}={csrf}; Path={}{}",
            self.login_path(),
            self.cookie_flags
        );
        if let Ok(v) = hyper::header::HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
        resp
    }

    async fn login(&self, c: &Call, f: &Form) -> Result<Response<Body>, DomainError> {
        let token_ok = c
            .cookies(LOGIN_CSRF_COOKIE)
            .any(|t| !t.is_empty() && same_token(t, f.get("csrf")));
        if !token_ok {
            return Ok(self.login_form(
                c,
                StatusCode::FORBIDDEN,
                "",
                Some("The sign-in form expired. Please sign in again.".into()),
            ));
        }
        let user_name: String = f.get("username").trim().chars().take(128).collect();
        let password = f.get("password");
        let step = self
            .signin
            .sign_in(
                &self.dir.id,
                &user_name,
                password,
                &c.origin,
                c.peer.ip(),
                deep_link(c),
            )
            .await?;
        let who = Actor {
            kind: ActorKind::User,
            id: String::new(),
            name: user_name.clone(),
            directory: Some(self.dir.id.as_str().to_owned()),
        };
        match step {
            Ok((token, _)) => {
                let s = self.signin.session(&self.dir.id, &token).await?;
                let who = s.as_ref().map_or(who, user_actor);
                audit_step("signin:Login", who, Vec::new(), &Ok(()));
                let next = s.map_or_else(|| self.login_path(), |s| self.stage_path(&s));
                Ok(pages::redirect(&next, &[self.session_cookie(&token)]))
            }
            Err(r) => {
                audit_step("signin:Login", who, Vec::new(), &Err(&r));
                Ok(self.login_form(c, refusal_status(&r), &user_name, Some(r.message())))
            }
        }
    }

    /// A page of a partial stage: shown (GET) or submitted (POST).
    async fn at(
        &self,
        c: &Call,
        stage: Stage,
        form: Option<&Form>,
    ) -> Result<Response<Body>, DomainError> {
        let Some((_, s)) = self.session(c).await? else {
            return Ok(pages::redirect(&self.login_path(), &[]));
        };
        if s.record.stage != stage {
            return Ok(pages::redirect(&self.stage_path(&s), &[]));
        }
        let Some(f) = form else {
            return self.stage_page(&s, StatusCode::OK, None).await;
        };
        if !same_token(&s.record.csrf, f.get("csrf")) {
            return Ok(self.csrf_refused());
        }
        let ip = c.peer.ip();
        let step = match stage {
            Stage::ChangePassword => {
                self.signin
                    .change_password(&s, f.get("new_password"), f.get("confirm_password"))
                    .await?
            }
            Stage::EnrollMfa => {
                self.signin
                    .confirm_enrollment(&s, f.get("code"), ip)
                    .await?
            }
            Stage::VerifyMfa => self.signin.verify_mfa(&s, f.get("code"), ip).await?,
            Stage::Active => return Ok(pages::redirect(&self.stage_path(&s), &[])),
        };
        let action = match stage {
            Stage::ChangePassword => "signin:ChangePassword",
            Stage::EnrollMfa => "signin:MfaEnroll",
            _ => "signin:MfaVerify",
        };
        audit_step(
            action,
            user_actor(&s),
            Vec::new(),
            &step.as_ref().map(|_| ()),
        );
        match step {
            Ok(next) => {
                let cookies: Vec<String> = next
                    .new_token
                    .iter()
                    .map(|t| self.session_cookie(t))
                    .collect();
                Ok(pages::redirect(&self.stage_path(&next), &cookies))
            }
            Err(r) => {
                self.stage_page(&s, refusal_status(&r), Some(r.message()))
                    .await
            }
        }
    }

    async fn stage_page(
        &self,
        s: &Session,
        status: StatusCode,
        error: Option<String>,
    ) -> Result<Response<Body>, DomainError> {
        let directory = self.dir.segment();
        let action = self.stage_path(s);
        let csrf = s.record.csrf.as_str();
        Ok(match s.record.stage {
            Stage::ChangePassword => {
                let rules = self.password_rules().await?;
                pages::page(
                    status,
                    &pages::Password {
                        directory,
                        action: &action,
                        csrf,
                        rules: &rules,
                        error,
                    },
                )
            }
            Stage::EnrollMfa => {
                let (s, e) = self.signin.enrollment(s, directory).await?;
                pages::page(
                    status,
                    &pages::MfaEnroll {
                        directory,
                        action: &action,
                        csrf: &s.record.csrf,
                        secret: &e.secret,
                        qr_svg: &e.qr_svg,
                        error,
                    },
                )
            }
            Stage::VerifyMfa => pages::page(
                status,
                &pages::Mfa {
                    directory,
                    action: &action,
                    csrf,
                    error,
                },
            ),
            Stage::Active => pages::redirect(&action, &[]),
        })
    }

    async fn password_rules(&self) -> Result<String, DomainError> {
        let p = self.signin.settings(&self.dir.id).await?.password_policy;
        let mut rules = format!(
            "A password has {} to 32 characters, with an upper-case letter, a lower-case letter, a digit and a symbol",
            p.min_length.max(8)
        );
        if p.reuse_prevention > 0 {
            rules.push_str(&format!(
                ", and differs from your last {} passwords",
                p.reuse_prevention
            ));
        }
        rules.push('.');
        Ok(rules)
    }

    /// A page that needs an active session.
    async fn active(
        &self,
        c: &Call,
        form: Option<&Form>,
        page: Page,
    ) -> Result<Response<Body>, DomainError> {
        let Some((_, s)) = self.session(c).await? else {
            let link = match &page {
                Page::Console(l) => Some(DeepLink::Console(l.clone())),
                Page::Device => deep_link(c),
                _ => None,
            };
            return Ok(pages::redirect(&self.login_path_to(link.as_ref()), &[]));
        };
        if s.record.stage != Stage::Active {
            return Ok(pages::redirect(&self.stage_path(&s), &[]));
        }
        if let Some(f) = form
            && !same_token(&s.record.csrf, f.get("csrf"))
        {
            return Ok(self.csrf_refused());
        }
        match page {
            Page::Accounts => self.accounts(c, &s).await,
            Page::Favourite => {
                let f = form.ok_or(DomainError::Unauthorized)?;
                let account = f.get("account");
                if !account.is_empty() && account.len() <= 32 {
                    self.signin
                        .set_favourite(&s.directory(), &s.user(), account, f.get("on") == "1")
                        .await?;
                }
                Ok(pages::redirect(&self.list_path(f), &[]))
            }
            Page::Console(target) => self.console(&s, &target).await,
            Page::RamUserConsole(account) => self.ram_user_console(&s, &account).await,
            Page::Device => self.device_page(c, &s).await,
            Page::DeviceDecide => {
                let f = form.ok_or(DomainError::Unauthorized)?;
                self.device_decide(c, &s, f).await
            }
        }
    }

    /// The account list a pin was made on, from its form: its tab, its search (at most what
    /// the list reads, so a forged form cannot make a long Location) and its page.
    fn list_path(&self, f: &Form) -> String {
        let mut query = Vec::new();
        if f.get("tab") == RAM_USER_TAB {
            query.push(format!("tab={RAM_USER_TAB}"));
        }
        let q: String = f
            .get("q")
            .chars()
            .take(crate::signin::portal::SEARCH_LEN_MAX)
            .collect();
        if !q.is_empty() {
            query.push(format!("q={}", crate::model::percent_encode(&q)));
        }
        if let Ok(page @ 1..) = f.get("page").parse::<usize>() {
            query.push(format!("page={page}"));
        }
        if query.is_empty() {
            format!("{}/portal", self.base)
        } else {
            format!("{}/portal?{}", self.base, query.join("&"))
        }
    }

    async fn accounts(&self, c: &Call, s: &Session) -> Result<Response<Body>, DomainError> {
        let search = c.query("q").unwrap_or_default();
        let page = c
            .query("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(0);
        let ram_users = c.query("tab") == Some(RAM_USER_TAB);
        let (dir, user) = (s.directory(), s.user());
        let list = if ram_users {
            self.signin.ram_user_list(&dir, &user, search, page).await?
        } else {
            self.signin.account_list(&dir, &user, search, page).await?
        };
        Ok(pages::page(
            StatusCode::OK,
            &pages::Accounts {
                directory: self.dir.segment(),
                base: &self.base,
                csrf: &s.record.csrf,
                user_name: &s.record.user_name,
                search,
                search_q: &crate::model::percent_encode(search),
                ram_users,
                list: &list,
            },
        ))
    }

    /// Console sign-in to an account as the RAM user the user has there (user-based SSO).
    async fn ram_user_console(
        &self,
        s: &Session,
        account: &str,
    ) -> Result<Response<Body>, DomainError> {
        let (dir, user) = (s.directory(), s.user());
        let resources = vec![self.audit.arn(&format!("account/{account}"))];
        let audited = |ok: bool| {
            let r = if ok { Ok(()) } else { Err(CONSOLE_NO_ACCESS) };
            audit_result(
                "signin:RamUserConsoleSignIn",
                user_actor(s),
                resources.clone(),
                r,
            );
        };
        // `ram_user_sign_in` checks the user has the RAM user now; without it there is no
        // Response.
        let post = match self.signin.ram_user_sign_in(&dir, &user, account).await {
            Ok(post) => post,
            Err(DomainError::NotFound { .. }) => {
                audited(false);
                return Ok(self.message(
                    StatusCode::FORBIDDEN,
                    "No access",
                    "You do not have a RAM user in this account (any more).",
                ));
            }
            Err(e) => return Err(e),
        };
        audited(true);
        Ok(super::console::console_post_page(&post))
    }

    async fn console(
        &self,
        s: &Session,
        target: &ConsoleLink,
    ) -> Result<Response<Body>, DomainError> {
        let (dir, user) = (s.directory(), s.user());
        let resources = vec![
            self.audit.arn(&format!(
                "directory/{}/access-configuration/{}",
                dir.as_str(),
                target.config_id
            )),
            self.audit.arn(&format!("account/{}", target.account_id)),
        ];
        let audited = |ok: bool| {
            let r = if ok { Ok(()) } else { Err(CONSOLE_NO_ACCESS) };
            audit_result("signin:ConsoleSignIn", user_actor(s), resources.clone(), r);
        };
        self.signin.forget_deep_link(s).await?;
        // `console_sign_in` checks the user's access now; without it there is no Response.
        let post = match self
            .signin
            .console_sign_in(&dir, &user, &target.account_id, &target.config_id)
            .await
        {
            Ok(post) => post,
            Err(DomainError::NotFound { .. }) => {
                audited(false);
                return Ok(self.message(
                    StatusCode::FORBIDDEN,
                    "No access",
                    "You do not have access to this account with this access configuration (any more).",
                ));
            }
            Err(e) => return Err(e),
        };
        audited(true);
        self.signin
            .note_last_used(&dir, &user, &target.account_id, &target.config_id)
            .await?;
        Ok(super::console::console_post_page(&post))
    }

    async fn logout(&self, c: &Call, f: &Form) -> Result<Response<Body>, DomainError> {
        if let Some((token, s)) = self.session(c).await? {
            if !same_token(&s.record.csrf, f.get("csrf")) {
                return Ok(self.csrf_refused());
            }
            self.signin.end_session(&token).await?;
            audit_step("signin:Logout", user_actor(&s), Vec::new(), &Ok(()));
        }
        Ok(pages::redirect(
            &self.login_path(),
            &[self.clear_session_cookie()],
        ))
    }

    fn csrf_refused(&self) -> Response<Body> {
        self.message(
            StatusCode::FORBIDDEN,
            "Request refused",
            "This form was not sent from this portal page (CSRF check failed). Reload the page and try again.",
        )
    }

    fn message(&self, status: StatusCode, title: &str, message: &str) -> Response<Body> {
        pages::page(
            status,
            &pages::Message {
                directory: self.dir.segment(),
                title,
                message,
                link: Some(self.login_path()),
            },
        )
    }
}

enum Page {
    Accounts,
    Favourite,
    Console(ConsoleLink),
    /// Console sign-in to an account as the user's RAM user there.
    RamUserConsole(String),
    /// A CLI sign-in's approval page.
    Device,
    /// Its Approve or Deny.
    DeviceDecide,
}

/// A deep link in the query: `accountId` and `accessConfigurationId`, or a CLI sign-in's
/// `user_code`.
fn deep_link(c: &Call) -> Option<DeepLink> {
    if let Some(code) = c
        .query("user_code")
        .and_then(crate::signin::device::parse_user_code)
    {
        let user_code = crate::signin::device::show_user_code(&code);
        return Some(DeepLink::Device(DeviceLink { user_code }));
    }
    let ok = |v: &str| {
        !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let account = c.query("accountId").filter(|v| ok(v))?;
    let config = c.query("accessConfigurationId").filter(|v| ok(v))?;
    Some(DeepLink::Console(ConsoleLink {
        account_id: account.to_owned(),
        config_id: config.to_owned(),
    }))
}

/// The portal's RAM user tab: `/portal?tab=ram-users`.
const RAM_USER_TAB: &str = "ram-users";

/// The audit result of a console sign-in the user has no access for.
const CONSOLE_NO_ACCESS: &str = "NoAccess";

/// A signed-in (or partly signed-in) user as an audit actor.
fn user_actor(s: &Session) -> Actor {
    Actor {
        kind: ActorKind::User,
        id: s.record.user.clone(),
        name: s.record.user_name.clone(),
        directory: Some(s.record.dir.clone()),
    }
}

/// Notes a sign-in step in the request's audit record: `Success` or the refusal's code.
fn audit_step(action: &str, actor: Actor, resources: Vec<String>, r: &Result<(), &Refusal>) {
    audit_result(action, actor, resources, r.map_err(refusal_code));
}

fn audit_result(action: &str, actor: Actor, resources: Vec<String>, r: Result<(), &str>) {
    super::audit::note(|rec| {
        rec.action = action.to_owned();
        rec.actor = actor;
        rec.resources = resources;
        rec.result = r.err().unwrap_or(crate::audit::RESULT_SUCCESS).to_owned();
    });
}

/// A refusal's name in the audit trail.
fn refusal_code(r: &Refusal) -> &'static str {
    match r {
        Refusal::WrongCredentials => "WrongCredentials",
        Refusal::NetworkNotAllowed => "NetworkNotAllowed",
        Refusal::ServiceDisabled => "ServiceDisabled",
        Refusal::SsoOnly => "SsoOnly",
        Refusal::TooManyAttempts(_) => "TooManyAttempts",
        Refusal::WrongCode => "WrongCode",
        Refusal::BadPassword(_) => "BadPassword",
    }
}

fn refusal_status(r: &Refusal) -> StatusCode {
    match r {
        Refusal::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
        Refusal::NetworkNotAllowed | Refusal::ServiceDisabled | Refusal::SsoOnly => {
            StatusCode::FORBIDDEN
        }
        Refusal::BadPassword(_) => StatusCode::BAD_REQUEST,
        Refusal::WrongCredentials | Refusal::WrongCode => StatusCode::UNAUTHORIZED,
    }
}

fn not_found(seg: &str) -> Response<Body> {
    pages::page(
        StatusCode::NOT_FOUND,
        &pages::Message {
            directory: seg,
            title: "Not found",
            message: "There is no directory with this sign-in address.",
            link: None,
        },
    )
}

fn failure(seg: &str, e: &DomainError) -> Response<Body> {
    let (status, message) = match e {
        DomainError::Unauthorized => (StatusCode::UNAUTHORIZED, "Please sign in again.".to_owned()),
        DomainError::NotFound { .. } => (StatusCode::NOT_FOUND, e.to_string()),
        DomainError::Quota { .. } | DomainError::Invalid { .. } | DomainError::Conflict { .. } => {
            (StatusCode::BAD_REQUEST, e.to_string())
        }
        _ => {
            tracing::error!(error = %e, "portal request failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The portal could not answer. Try again in a moment.".to_owned(),
            )
        }
    };
    pages::page(
        status,
        &pages::Message {
            directory: seg,
            title: "Something went wrong",
            message: &message,
            link: Some(format!("/{seg}/login")),
        },
    )
}
