//! The portal's CLI sign-in page, `/<dir>/device`: with a user code (typed, or from the
//! `VerificationUriComplete` link) it shows the client asking and Approve / Deny, for an
//! active session only (the sign-in comes back here, by password or SSO). Decodes, calls one
//! `signin` function, renders.

use super::{Call, Form, Portal, audit_result, pages, refusal_status, user_actor};
use crate::error::DomainError;
use crate::http::Body;
use crate::signin::device::service::{DeviceView, UserCodeRefusal};
use crate::signin::session::Session;
use hyper::{Response, StatusCode};

/// What the page says for a wrong, expired or already used code.
const UNKNOWN_CODE: &str = "This code is wrong or has expired. Check the code your terminal shows, or start the sign-in again.";

impl Portal<'_> {
    /// The page: the code entry form, or the request a code names.
    pub(super) async fn device_page(
        &self,
        c: &Call,
        s: &Session,
    ) -> Result<Response<Body>, DomainError> {
        self.signin.forget_deep_link(s).await?;
        let Some(typed) = c.query("user_code").filter(|t| !t.is_empty()) else {
            return Ok(self.device_form(s, StatusCode::OK, None, None));
        };
        match self.signin.device_request(s, typed, c.peer.ip()).await? {
            Ok(v) => Ok(self.device_form(s, StatusCode::OK, Some(&v), None)),
            Err(r) => Ok(self.device_refused(s, &r)),
        }
    }

    /// Approve or Deny.
    pub(super) async fn device_decide(
        &self,
        c: &Call,
        s: &Session,
        f: &Form,
    ) -> Result<Response<Body>, DomainError> {
        let approve = match f.get("decision") {
            "approve" => true,
            "deny" => false,
            _ => return Ok(self.device_form(s, StatusCode::BAD_REQUEST, None, None)),
        };
        let action = if approve {
            "signin:DeviceApprove"
        } else {
            "signin:DeviceDeny"
        };
        let outcome = self
            .signin
            .decide_device(s, f.get("user_code"), approve, c.peer.ip())
            .await?;
        let v = match outcome {
            Ok(v) => v,
            Err(r) => {
                audit_result(action, user_actor(s), Vec::new(), Err("InvalidUserCode"));
                return Ok(self.device_refused(s, &r));
            }
        };
        audit_result(action, user_actor(s), Vec::new(), Ok(()));
        if let Some(back) = &v.redirect {
            // An authorization code: back to the client's loopback listener, which answers.
            return Ok(pages::redirect(back, &[]));
        }
        let (title, message) = if approve {
            (
                "Sign-in approved",
                format!(
                    "The {} signed in with code {}. You can close this page and return to your terminal.",
                    v.client.display(),
                    v.user_code
                ),
            )
        } else {
            (
                "Sign-in denied",
                format!("The sign-in with code {} was denied.", v.user_code),
            )
        };
        Ok(pages::page(
            StatusCode::OK,
            &pages::Message {
                directory: self.dir.segment(),
                title,
                message: &message,
                link: Some(format!("{}/portal", self.base)),
            },
        ))
    }

    fn device_refused(&self, s: &Session, r: &UserCodeRefusal) -> Response<Body> {
        match r {
            UserCodeRefusal::Unknown => self.device_form(
                s,
                StatusCode::NOT_FOUND,
                None,
                Some(UNKNOWN_CODE.to_owned()),
            ),
            UserCodeRefusal::Gate(g) => {
                self.device_form(s, refusal_status(g), None, Some(g.message()))
            }
        }
    }

    fn device_form(
        &self,
        s: &Session,
        status: StatusCode,
        v: Option<&DeviceView>,
        error: Option<String>,
    ) -> Response<Body> {
        let action = format!("{}/device", self.base);
        pages::approval_page(
            status,
            &pages::Device {
                directory: self.dir.segment(),
                action: &action,
                csrf: &s.record.csrf,
                user_name: &s.record.user_name,
                request: v.map(|v| pages::DeviceRequest {
                    user_code: v.user_code.clone(),
                    client: v.client.display(),
                }),
                error,
            },
        )
    }
}
