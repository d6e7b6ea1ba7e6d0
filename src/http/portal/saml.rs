//! The portal's SAML service-provider routes: `GET /<dir>/saml/login` (SP-initiated: the
//! AuthnRequest by the IdP's binding), `POST /<dir>/saml/acs` (the assertion consumer
//! service: SP- and IdP-initiated Responses; cross-site by nature, authenticated by the
//! signature, so exempt from the portal's cross-site refusal) and `GET /<dir>/saml/metadata`
//! (the SP's metadata). Decodes, calls one `signin` function, renders.

use super::{Call, Form, Portal, audit_result, pages, refusal_code, refusal_status};
use crate::audit::{Actor, ActorKind};
use crate::error::DomainError;
use crate::http::Body;
use crate::signin::saml::sp::portal_relay_state;
use crate::signin::saml::sso::{SsoRefusal, SsoStart};
use hyper::{Response, StatusCode};

/// The audit action of an SSO sign-in.
const SAML_LOGIN: &str = "signin:SamlLogin";

impl Portal<'_> {
    /// The path segments a RelayState may start with: the directory's id and name.
    fn relay_segments(&self) -> [&str; 2] {
        [self.dir.id.as_str(), self.dir.name.as_str()]
    }

    pub(super) async fn saml_login(&self, c: &Call) -> Result<Response<Body>, DomainError> {
        let relay = c
            .query("RelayState")
            .and_then(|r| portal_relay_state(r, &self.relay_segments()));
        match self
            .signin
            .sso_start(&self.dir.id, relay, c.peer.ip())
            .await?
        {
            Ok(SsoStart::Redirect(url)) => {
                // The HTTP-Redirect binding's 302.
                let mut resp = pages::redirect(&url, &[]);
                *resp.status_mut() = StatusCode::FOUND;
                Ok(resp)
            }
            Ok(SsoStart::Post {
                url,
                saml_request,
                relay_state,
            }) => Ok(crate::http::console::saml_post_page(
                "Signing in",
                "continue to your identity provider",
                &url,
                "SAMLRequest",
                &saml_request,
                relay_state.as_deref(),
            )),
            Err(SsoRefusal::Off) => Ok(pages::redirect(&self.login_path(), &[])),
            Err(r) => Ok(self.sso_refused(&r)),
        }
    }

    pub(super) async fn saml_acs(&self, c: &Call, f: &Form) -> Result<Response<Body>, DomainError> {
        let who = |name: &str, id: &str| Actor {
            kind: ActorKind::User,
            id: id.to_owned(),
            name: name.to_owned(),
            directory: Some(self.dir.id.as_str().to_owned()),
        };
        let step = self
            .signin
            .sso_finish(&self.dir.id, f.get("SAMLResponse"), &c.origin, c.peer.ip())
            .await?;
        match step {
            Ok(s) => {
                audit_result(
                    SAML_LOGIN,
                    who(&s.user_name, s.user.as_str()),
                    Vec::new(),
                    Ok(()),
                );
                let next = portal_relay_state(f.get("RelayState"), &self.relay_segments())
                    .map_or_else(|| format!("{}/portal", self.base), str::to_owned);
                Ok(pages::redirect(&next, &[self.session_cookie(&s.token)]))
            }
            Err(r) => {
                let code = match &r {
                    SsoRefusal::Gate(g) => refusal_code(g),
                    SsoRefusal::Off => "SsoDisabled",
                    SsoRefusal::Response(_) => "SamlResponseRefused",
                    SsoRefusal::User(_) => "UserNotAllowed",
                };
                audit_result(SAML_LOGIN, who("", ""), Vec::new(), Err(code));
                Ok(self.sso_refused(&r))
            }
        }
    }

    /// The SP metadata (its URL is the SP's entity id).
    pub(super) async fn saml_metadata(&self) -> Result<Response<Body>, DomainError> {
        let xml = self.signin.sp_metadata(&self.dir.id).await?;
        let mut resp = Response::new(http_body_util::Full::new(bytes::Bytes::from(xml)));
        resp.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/samlmetadata+xml"),
        );
        Ok(resp)
    }

    fn sso_refused(&self, r: &SsoRefusal) -> Response<Body> {
        let status = match r {
            SsoRefusal::Gate(g) => refusal_status(g),
            SsoRefusal::Response(v) if !v.forbidden => StatusCode::BAD_REQUEST,
            SsoRefusal::Off | SsoRefusal::Response(_) | SsoRefusal::User(_) => {
                StatusCode::FORBIDDEN
            }
        };
        self.message(status, "Sign-in refused", &r.message())
    }
}
