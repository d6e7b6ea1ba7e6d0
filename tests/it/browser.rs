//! A small browser for the portal tests: keeps cookies (by name, as the portal scopes them all
//! under one directory), sends forms, and reads hidden fields and ids out of the HTML.

use crate::harness::{Reply, Server, enc};
use hyper::{Method, StatusCode};
use std::collections::BTreeMap;

pub struct Browser<'a> {
    pub srv: &'a Server,
    pub cookies: BTreeMap<String, String>,
    pub user_agent: String,
    /// Extra headers sent with every request (e.g. `sec-fetch-site`).
    pub extra: Vec<(String, String)>,
}

/// A page as the browser got it.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub html: String,
    /// The answer's `x-request-id`.
    pub request_id: String,
}

impl Page {
    /// The `value` of the hidden input named `name`.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let at = self.html.find(&format!("name=\"{name}\" value=\""))?;
        let rest = &self.html[at + name.len() + 15..];
        Some(rest[..rest.find('"')?].to_owned())
    }
    /// The text of the element with id `id` (up to the next `<`).
    pub fn text_of(&self, id: &str) -> Option<String> {
        let at = self.html.find(&format!("id=\"{id}\""))?;
        let rest = &self.html[at..];
        let start = rest.find('>')? + 1;
        let rest = &rest[start..];
        Some(rest[..rest.find('<')?].trim().to_owned())
    }
}

impl<'a> Browser<'a> {
    pub fn new(srv: &'a Server) -> Browser<'a> {
        Browser {
            srv,
            cookies: BTreeMap::new(),
            user_agent: "portal-test/1.0".into(),
            extra: Vec::new(),
        }
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let body = form.map(|f| {
            f.iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes()
        });
        let mut headers: Vec<(&str, &str)> = vec![("user-agent", &self.user_agent)];
        if !cookie.is_empty() {
            headers.push(("cookie", &cookie));
        }
        if form.is_some() {
            headers.push(("content-type", "application/x-www-form-urlencoded"));
        }
        for (k, v) in &self.extra {
            headers.push((k, v));
        }
        let url = format!("http://{}{path}", self.srv.addr);
        let r: Reply = self.srv.send(method, &url, &headers, body).await;
        for v in r.headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        Page {
            status: r.status,
            location: r.header("location").map(str::to_owned),
            html: String::from_utf8_lossy(&r.raw).into_owned(),
            request_id: r.header("x-request-id").unwrap_or_default().to_owned(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }

    /// Opens the sign-in page of `dir` and submits `user`/`password`; the answer (not
    /// followed).
    pub async fn sign_in(&mut self, dir: &str, user: &str, password: &str) -> Page {
        let login = self.get(&format!("/{dir}/login")).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.html);
        let csrf = login.hidden("csrf").expect("csrf field");
        self.post(
            &format!("/{dir}/login"),
            &[("csrf", &csrf), ("username", user), ("password", password)],
        )
        .await
    }
}
