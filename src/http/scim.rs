//! SCIM 2.0 endpoints under `/scim/v2` (RFC 7644): routing, bearer authentication, decoding
//! into directory calls and encoding of responses. `dispatch` is the route table; each handler
//! decodes, calls one directory operation, and encodes. Must not hold SCIM rules (validation,
//! filtering, PATCH semantics live in `scim` and `directory`) nor build error bodies itself
//! (`http::error` maps every error).

use super::audit::{Trail, within};
use super::query::{decode, parse_query};
use super::{ApiError, Body, error_response, json_response};
use crate::audit::{Actor, ActorKind, EventName};
use crate::directory::{Directory, ListPage, ListQuery};
use crate::model::ResourceType;
use crate::model::{DirectoryId, PrincipalId};
use crate::scim::filter::{self, AttrPath};
use crate::scim::patch;
use crate::scim::schema::{self, AttributeSelection, LIST_RESPONSE_SCHEMA, ResourceKind};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub const SCIM_PREFIX: &str = "/scim/v2";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Collection(ResourceKind),
    Resource(ResourceKind, String),
    Search(Option<ResourceKind>),
    ServiceProviderConfig,
    ResourceTypes,
    ResourceType(String),
    Schemas,
    Schema(String),
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        let rest = path.strip_prefix(SCIM_PREFIX)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let rest = rest.trim_end_matches('/');
        let segs: Vec<String> = rest.split('/').skip(1).map(decode).collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        // Endpoint names match case-insensitively (Microsoft's test collection sends
        // `/users`); `/serviceConfiguration` is its name for the ServiceProviderConfig.
        let kind = |s: &str| match s.to_ascii_lowercase().as_str() {
            "users" => Some(ResourceKind::User),
            "groups" => Some(ResourceKind::Group),
            _ => None,
        };
        let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
        let first = lower.first().map(String::as_str);
        Some(match (first, segs.as_slice()) {
            (_, [".search"]) => Route::Search(None),
            (
                Some("serviceproviderconfig" | "serviceproviderconfigs" | "serviceconfiguration"),
                [_],
            ) => Route::ServiceProviderConfig,
            (Some("resourcetypes"), [_]) => Route::ResourceTypes,
            (Some("resourcetypes"), [_, id]) => Route::ResourceType((*id).to_owned()),
            (Some("schemas"), [_]) => Route::Schemas,
            (Some("schemas"), [_, id]) => Route::Schema((*id).to_owned()),
            (_, [k]) => Route::Collection(kind(k)?),
            (_, [k, ".search"]) => Route::Search(Some(kind(k)?)),
            (_, [k, id]) if !id.is_empty() => Route::Resource(kind(k)?, (*id).to_owned()),
            _ => return None,
        })
    }

    /// The route pattern, for logs (never the ids).
    fn name(&self) -> &'static str {
        match self {
            Route::Collection(ResourceKind::User) => "/Users",
            Route::Collection(ResourceKind::Group) => "/Groups",
            Route::Resource(ResourceKind::User, _) => "/Users/{id}",
            Route::Resource(ResourceKind::Group, _) => "/Groups/{id}",
            Route::Search(None) => "/.search",
            Route::Search(Some(ResourceKind::User)) => "/Users/.search",
            Route::Search(Some(ResourceKind::Group)) => "/Groups/.search",
            Route::ServiceProviderConfig => "/ServiceProviderConfig",
            Route::ResourceTypes => "/ResourceTypes",
            Route::ResourceType(_) => "/ResourceTypes/{id}",
            Route::Schemas => "/Schemas",
            Route::Schema(_) => "/Schemas/{id}",
        }
    }

    fn allows(&self, m: &Method) -> bool {
        match self {
            Route::Collection(_) => m == Method::GET || m == Method::POST,
            Route::Resource(..) => {
                m == Method::GET || m == Method::PUT || m == Method::PATCH || m == Method::DELETE
            }
            Route::Search(_) => m == Method::POST,
            _ => m == Method::GET,
        }
    }

    fn needs_auth(&self) -> bool {
        matches!(
            self,
            Route::Collection(_) | Route::Resource(..) | Route::Search(_)
        )
    }
}

/// Entry point for every request: one span with method, route, status, latency, directory.
/// A write (POST, PUT, PATCH, DELETE on a user or group) leaves an audit record: in its own
/// transaction when it succeeds, after the answer when it does not.
pub async fn handle(
    dir: Directory,
    trail: Trail<'_>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let route = Route::parse(req.uri().path());
    let scope = route
        .as_ref()
        .and_then(|r| write_action(r, &method))
        .and_then(|action| trail.open(&req, peer, action));
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = route.as_ref().map_or("unknown", Route::name),
        directory = tracing::field::Empty,
    );
    let work = async {
        match dispatch(&dir, trail, route, req).await {
            Ok(r) => {
                let result = status_result(r.status(), None);
                (r, result)
            }
            Err(e) => (error_response(&e), status_result(e.status, e.scim_type)),
        }
    };
    let (resp, result) = within(scope.as_ref(), work.instrument(span.clone())).await;
    trail.close(scope, &result).await;
    let status = resp.status().as_u16();
    let latency_us = started.elapsed().as_micros() as u64;
    span.in_scope(|| tracing::info!(status, latency_us, "request"));
    resp
}

/// The audited action of a write request (none for reads and discovery).
fn write_action(route: &Route, method: &Method) -> Option<&'static str> {
    use ResourceKind::{Group, User};
    Some(match (route, method) {
        (Route::Collection(User), &Method::POST) => "scim:CreateUser",
        (Route::Collection(Group), &Method::POST) => "scim:CreateGroup",
        (Route::Resource(User, _), &Method::PUT) => "scim:ReplaceUser",
        (Route::Resource(Group, _), &Method::PUT) => "scim:ReplaceGroup",
        (Route::Resource(User, _), &Method::PATCH) => "scim:PatchUser",
        (Route::Resource(Group, _), &Method::PATCH) => "scim:PatchGroup",
        (Route::Resource(User, _), &Method::DELETE) => "scim:DeleteUser",
        (Route::Resource(Group, _), &Method::DELETE) => "scim:DeleteGroup",
        _ => return None,
    })
}

/// An audit result: `Success` below 400, else the status and the `scimType` if any.
fn status_result(status: StatusCode, scim_type: Option<&str>) -> String {
    match (status.as_u16(), scim_type) {
        (s, _) if s < 400 => crate::audit::RESULT_SUCCESS.to_owned(),
        (s, Some(t)) => format!("{s} {t}"),
        (s, None) => s.to_string(),
    }
}

/// After authentication, names the credential and the resources in the request's audit
/// scope (if it has one) and arms it: the write's own job carries the record, with the
/// resources its change events name.
fn arm_audit(trail: Trail<'_>, call: &Call<'_>, route: &Route) {
    let Some(scope) = crate::audit::AuditScope::current() else {
        return;
    };
    let dir = call.directory.as_str();
    let relative = match route {
        Route::Collection(kind) => format!("directory/{dir}/{}/*", kind_segment(*kind)),
        Route::Resource(kind, id) => format!("directory/{dir}/{}/{id}", kind_segment(*kind)),
        _ => format!("directory/{dir}"),
    };
    scope.update(|r| {
        r.actor = Actor {
            kind: ActorKind::ScimCredential,
            id: call.credential.clone(),
            name: String::new(),
            directory: Some(dir.to_owned()),
        };
        r.resources = vec![trail.settings.arn(&relative)];
    });
    let settings = trail.settings.clone();
    scope.arm(Some(Arc::new(move |e: &EventName| {
        let kind = match e.resource {
            ResourceType::User => ResourceKind::User,
            ResourceType::Group => ResourceKind::Group,
            _ => return None,
        };
        let relative = format!("directory/{}/{}/{}", e.directory, kind_segment(kind), e.id);
        Some(settings.arn(&relative))
    })));
}

/// `user` or `group`, as resource names spell them.
fn kind_segment(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "user",
        ResourceKind::Group => "group",
    }
}

async fn dispatch(
    dir: &Directory,
    trail: Trail<'_>,
    route: Option<Route>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let Some(route) = route else {
        return Err(ApiError::not_found(format!(
            "no endpoint at `{}`",
            req.uri().path()
        )));
    };
    if !route.allows(req.method()) {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            format!("method {} is not allowed on {}", req.method(), route.name()),
        ));
    }
    let base = dir.scim_base_url().to_owned();
    if !route.needs_auth() {
        return discovery(dir, &route, &base);
    }
    let call = Call::authenticate(dir, &req).await?;
    arm_audit(trail, &call, &route);
    let method = req.method().clone();
    match (route, method) {
        (Route::Collection(kind), Method::GET) => list(call, kind).await,
        (Route::Collection(kind), Method::POST) => create(call, kind, req).await,
        (Route::Resource(kind, id), Method::GET) => get(call, kind, &id).await,
        (Route::Resource(kind, id), Method::PUT) => replace(call, kind, &id, req).await,
        (Route::Resource(kind, id), Method::PATCH) => patch(call, kind, &id, req).await,
        (Route::Resource(kind, id), Method::DELETE) => delete(call, kind, &id).await,
        (Route::Search(kind), Method::POST) => {
            let body = read_json(dir, req).await?;
            search(dir, &call.directory, kind, &body).await
        }
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "method not allowed",
        )),
    }
}

/// What every authenticated request carries into its handler: the directory it is
/// authenticated for, its query parameters and its precondition headers.
struct Call<'d> {
    dir: &'d Directory,
    directory: DirectoryId,
    /// The credential (or OAuth client) that authenticated the request.
    credential: String,
    params: Vec<(String, String)>,
    if_match: Option<String>,
    if_none_match: Option<String>,
}

impl<'d> Call<'d> {
    /// Authenticates the bearer token and records the directory on the request's span.
    async fn authenticate(dir: &'d Directory, req: &Request<Incoming>) -> Result<Self, ApiError> {
        let (directory, credential) = authenticate(dir, req).await?;
        tracing::Span::current().record("directory", directory.as_str());
        Ok(Call {
            dir,
            directory,
            credential,
            params: parse_query(req.uri().query().unwrap_or("")),
            if_match: header_str(req, header::IF_MATCH),
            if_none_match: header_str(req, header::IF_NONE_MATCH),
        })
    }

    fn selection(&self) -> Result<AttributeSelection, ApiError> {
        selection(self.dir, &self.params)
    }
}

/// `GET /Users`, `GET /Groups` (RFC 7644 section 3.4.2).
async fn list(call: Call<'_>, kind: ResourceKind) -> Result<Response<Body>, ApiError> {
    let q = list_query(call.dir, &call.params, Some(kind))?;
    let sel = q.selection.clone();
    let page = call.dir.list(kind, &call.directory, q).await?;
    Ok(json_response(
        StatusCode::OK,
        &list_body(page, |d| shape(kind, d, &sel)),
    ))
}

/// `POST /Users`, `POST /Groups` (section 3.3): 201 with `Location` and `ETag`.
async fn create(
    call: Call<'_>,
    kind: ResourceKind,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let body = read_json(call.dir, req).await?;
    let sel = call.selection()?;
    let doc = call.dir.create(kind, &call.directory, body, &sel).await?;
    let mut resp = resource_response(StatusCode::CREATED, kind, &doc, &sel);
    if let Some(loc) = doc
        .get("meta")
        .and_then(|m| m.get("location"))
        .and_then(Value::as_str)
        && let Ok(v) = HeaderValue::from_str(loc)
    {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `GET /Users/{id}` (section 3.4.1): 304 when `If-None-Match` matches the version.
async fn get(call: Call<'_>, kind: ResourceKind, id: &str) -> Result<Response<Body>, ApiError> {
    let sel = call.selection()?;
    let doc = call
        .dir
        .get(&call.directory, &PrincipalId::new(kind, id), &sel)
        .await?;
    if let (Some(h), Some(v)) = (&call.if_none_match, version(&doc))
        && crate::directory::etag_matches(h, v)
    {
        let mut resp = empty(StatusCode::NOT_MODIFIED);
        set_etag(&mut resp, &doc);
        return Ok(resp);
    }
    Ok(resource_response(StatusCode::OK, kind, &doc, &sel))
}

/// `PUT /Users/{id}` (section 3.5.1).
async fn replace(
    call: Call<'_>,
    kind: ResourceKind,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let body = read_json(call.dir, req).await?;
    let sel = call.selection()?;
    let doc = call
        .dir
        .replace(
            &call.directory,
            &PrincipalId::new(kind, id),
            body,
            call.if_match,
            &sel,
        )
        .await?;
    Ok(resource_response(StatusCode::OK, kind, &doc, &sel))
}

/// `PATCH /Users/{id}` (section 3.5.2).
async fn patch(
    call: Call<'_>,
    kind: ResourceKind,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let body = read_json(call.dir, req).await?;
    let limits = call.dir.limits();
    let ops = patch::parse_request(&body, limits.patch_operations_max, &limits.filter)?;
    let sel = call.selection()?;
    // Entra expects 204 on group PATCH; a body when asked for attributes, and always
    // for users (Okta reads it).
    let want_body = kind == ResourceKind::User || sel != AttributeSelection::default();
    let doc = call
        .dir
        .patch(
            &call.directory,
            &PrincipalId::new(kind, id),
            ops,
            call.if_match,
            want_body.then_some(&sel),
        )
        .await?;
    match doc {
        Some(doc) => Ok(resource_response(StatusCode::OK, kind, &doc, &sel)),
        None => Ok(empty(StatusCode::NO_CONTENT)),
    }
}

/// `DELETE /Users/{id}` (section 3.6): 204.
async fn delete(call: Call<'_>, kind: ResourceKind, id: &str) -> Result<Response<Body>, ApiError> {
    call.dir
        .delete(&call.directory, &PrincipalId::new(kind, id), call.if_match)
        .await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

fn discovery(dir: &Directory, route: &Route, base: &str) -> Result<Response<Body>, ApiError> {
    let ok = |v: Value| Ok(json_response(StatusCode::OK, &v));
    let list = |items: Vec<Value>| {
        json!({
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": items.len(),
            "itemsPerPage": items.len(),
            "startIndex": 1,
            "Resources": items,
        })
    };
    let types = [
        schema::resource_type(ResourceKind::User),
        schema::resource_type(ResourceKind::Group),
    ];
    match route {
        Route::ServiceProviderConfig => ok(schema::service_provider_config(
            dir.limits().page_size_max,
            base,
        )),
        Route::ResourceTypes => ok(list(
            types
                .iter()
                .map(|rt| schema::resource_type_document(rt, base))
                .collect(),
        )),
        Route::ResourceType(id) => match types.iter().find(|rt| rt.name.eq_ignore_ascii_case(id)) {
            Some(rt) => ok(schema::resource_type_document(rt, base)),
            None => Err(ApiError::not_found(format!(
                "resource type `{id}` not found"
            ))),
        },
        Route::Schemas => ok(list(
            schema::all_schemas()
                .iter()
                .map(|s| schema::schemas_document(s, base))
                .collect(),
        )),
        Route::Schema(id) => match schema::all_schemas()
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id))
        {
            Some(s) => ok(schema::schemas_document(s, base)),
            None => Err(ApiError::not_found(format!("schema `{id}` not found"))),
        },
        _ => Err(ApiError::not_found("not found")),
    }
}

async fn authenticate(
    dir: &Directory,
    req: &Request<Incoming>,
) -> Result<(DirectoryId, String), ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            None,
            "a valid bearer token is required",
        )
    };
    let mut values = req.headers().get_all(header::AUTHORIZATION).iter();
    let (value, more) = (values.next(), values.next());
    if more.is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "more than one Authorization header",
        ));
    }
    let value = value
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthorized());
    }
    let (directory, credential) = dir.authenticate_credential(token.trim()).await?;
    Ok((DirectoryId::new(directory), credential))
}

/// A header's value. One that is not visible ASCII is kept as bytes read lossily, so an
/// unreadable `If-Match` fails to match instead of being ignored.
fn header_str(req: &Request<Incoming>, name: header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Reads a JSON body: media type checked (415), size bounded (413), syntax checked (400).
async fn read_json(dir: &Directory, req: Request<Incoming>) -> Result<Value, ApiError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if essence != "application/scim+json" && essence != "application/json" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                format!("content type `{essence}` is not supported: use application/scim+json"),
            ));
        }
    }
    let max = dir.limits().body_bytes_max;
    let timeout = std::time::Duration::from_millis(dir.limits().request_read_timeout_ms);
    let bytes = super::read_body(req, max, timeout).await.map_err(|e| {
        let status = match e {
            super::BodyError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            super::BodyError::Timeout => StatusCode::REQUEST_TIMEOUT,
            super::BodyError::Unreadable => StatusCode::BAD_REQUEST,
        };
        let scim_type = (e == super::BodyError::Unreadable).then_some("invalidSyntax");
        ApiError::new(status, scim_type, e.message(max, timeout))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            format!("request body is not valid JSON: {e}"),
        )
    })
}

fn selection(dir: &Directory, params: &[(String, String)]) -> Result<AttributeSelection, ApiError> {
    let mut sel = AttributeSelection::default();
    for (k, v) in params {
        if k.eq_ignore_ascii_case("attributes") {
            sel.attributes.extend(schema::parse_attribute_list(v));
        } else if k.eq_ignore_ascii_case("excludedAttributes") {
            sel.excluded.extend(schema::parse_attribute_list(v));
        }
    }
    limit_selection(dir, sel)
}

/// At most `attribute_paths_max` entries in `attributes` and in `excludedAttributes`.
fn limit_selection(
    dir: &Directory,
    sel: AttributeSelection,
) -> Result<AttributeSelection, ApiError> {
    let max = dir.limits().attribute_paths_max;
    if sel.attributes.len() > max || sel.excluded.len() > max {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
            format!("at most {max} entries are accepted in `attributes` or `excludedAttributes`"),
        ));
    }
    Ok(sel)
}

/// The common inputs of a list (query string) or a search (body), already as strings.
#[derive(Default)]
struct ListParams {
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
}

fn parse_int(name: &str, v: &str) -> Result<i64, ApiError> {
    v.trim().parse::<i64>().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
            format!("`{name}` must be an integer, got `{v}`"),
        )
    })
}

fn list_query(
    dir: &Directory,
    params: &[(String, String)],
    kind: Option<ResourceKind>,
) -> Result<ListQuery, ApiError> {
    let mut p = ListParams::default();
    for (k, v) in params {
        match k.to_ascii_lowercase().as_str() {
            "filter" => p.filter = Some(v.clone()),
            "sortby" => p.sort_by = Some(v.clone()),
            "sortorder" => p.sort_order = Some(v.clone()),
            "startindex" => p.start_index = Some(parse_int("startIndex", v)?),
            "count" => p.count = Some(parse_int("count", v)?),
            _ => {}
        }
    }
    build_query(dir, p, selection(dir, params)?, kind)
}

fn build_query(
    dir: &Directory,
    p: ListParams,
    selection: AttributeSelection,
    kind: Option<ResourceKind>,
) -> Result<ListQuery, ApiError> {
    let limits = dir.limits();
    let filter = match p.filter.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => {
            let f = filter::parse_filter(text, &limits.filter)?;
            match kind {
                Some(kind) => filter::check(&f, schema::resource_type(kind))?,
                // The root search: checked against both types (an attribute one type lacks is
                // unknown there, not an error).
                None => {
                    filter::check(&f, schema::resource_type(ResourceKind::User))?;
                    filter::check(&f, schema::resource_type(ResourceKind::Group))?;
                }
            }
            Some(f)
        }
        _ => None,
    };
    let sort_by: Option<AttrPath> = p
        .sort_by
        .as_deref()
        .and_then(|s| schema::parse_attribute_list(s).into_iter().next());
    let descending = p
        .sort_order
        .as_deref()
        .is_some_and(|o| o.eq_ignore_ascii_case("descending"));
    let start_index = usize::try_from(p.start_index.unwrap_or(1).max(1)).unwrap_or(1);
    let count = match p.count {
        None => limits.page_size_default,
        Some(c) => usize::try_from(c.max(0))
            .unwrap_or(0)
            .min(limits.page_size_max),
    };
    Ok(ListQuery {
        filter,
        sort_by,
        descending,
        start_index,
        count,
        selection,
    })
}

/// POST `.search` (RFC 7644 section 3.4.3) on a resource type or on the root.
async fn search(
    dir: &Directory,
    directory: &DirectoryId,
    kind: Option<ResourceKind>,
    body: &Value,
) -> Result<Response<Body>, ApiError> {
    let q = search_query(dir, kind, body)?;
    let sel = q.selection.clone();
    let body = match kind {
        Some(kind) => {
            let page = dir.list(kind, directory, q).await?;
            list_body(page, |d| shape(kind, d, &sel))
        }
        None => list_body(search_root(dir, directory, q).await?, Clone::clone),
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// Users then groups, paged as one sequence: the groups' page starts where the users end.
/// The page's resources come back already shaped.
async fn search_root(
    dir: &Directory,
    directory: &DirectoryId,
    q: ListQuery,
) -> Result<ListPage, ApiError> {
    let users = dir.list(ResourceKind::User, directory, q.clone()).await?;
    let mut gq = q.clone();
    gq.start_index = q.start_index.saturating_sub(users.total).max(1);
    gq.count = q.count.saturating_sub(users.resources.len());
    let groups = dir.list(ResourceKind::Group, directory, gq).await?;
    let sel = &q.selection;
    let resources: Vec<Value> = users
        .resources
        .iter()
        .map(|d| shape(ResourceKind::User, d, sel))
        .chain(
            groups
                .resources
                .iter()
                .map(|d| shape(ResourceKind::Group, d, sel)),
        )
        .collect();
    Ok(ListPage {
        total: users.total + groups.total,
        start_index: q.start_index,
        resources,
    })
}

/// Decodes a SearchRequest body into a list query. Member names match case-insensitively.
fn search_query(
    dir: &Directory,
    kind: Option<ResourceKind>,
    body: &Value,
) -> Result<ListQuery, ApiError> {
    let obj = body.as_object().ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "a SearchRequest must be a JSON object",
        )
    })?;
    search_schemas(obj)?;
    let mut selection = AttributeSelection::default();
    if let Some(a) = search_text(obj, "attributes")? {
        selection.attributes = schema::parse_attribute_list(&a);
    }
    if let Some(a) = search_text(obj, "excludedAttributes")? {
        selection.excluded = schema::parse_attribute_list(&a);
    }
    let selection = limit_selection(dir, selection)?;
    let p = ListParams {
        filter: search_text(obj, "filter")?,
        sort_by: search_text(obj, "sortBy")?,
        sort_order: search_text(obj, "sortOrder")?,
        start_index: search_int(obj, "startIndex")?,
        count: search_int(obj, "count")?,
    };
    build_query(dir, p, selection, kind)
}

fn search_member<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A string member; `attributes` and `excludedAttributes` may also be arrays of strings,
/// joined with commas.
fn search_text(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match search_member(obj, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(items)) if name.ends_with("ttributes") => {
            Ok(Some(strings(name, items)?.join(",")))
        }
        Some(_) => Err(wrong_type(name)),
    }
}

/// Every item of a SearchRequest array member as a string; any other item is refused.
fn strings<'v>(name: &str, items: &'v [Value]) -> Result<Vec<&'v str>, ApiError> {
    items
        .iter()
        .map(|v| v.as_str().ok_or_else(|| wrong_type(name)))
        .collect()
}

fn wrong_type(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        Some("invalidValue"),
        format!("`{name}` has the wrong type"),
    )
}

/// `schemas`, when sent, must be an array of strings (clients that leave it out are served:
/// several IdPs do).
fn search_schemas(obj: &Map<String, Value>) -> Result<(), ApiError> {
    match search_member(obj, "schemas") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(items)) => strings("schemas", items).map(|_| ()),
        Some(_) => Err(wrong_type("schemas")),
    }
}

/// An integer member, as a JSON number or a string of digits.
fn search_int(obj: &Map<String, Value>, name: &str) -> Result<Option<i64>, ApiError> {
    let not_integer = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
            format!("`{name}` must be an integer"),
        )
    };
    match search_member(obj, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(not_integer),
        Some(Value::String(s)) => parse_int(name, s).map(Some),
        Some(_) => Err(not_integer()),
    }
}

fn shape(kind: ResourceKind, doc: &Value, sel: &AttributeSelection) -> Value {
    schema::shape(doc, schema::resource_type(kind), sel)
}

fn list_body(page: ListPage, shape: impl Fn(&Value) -> Value) -> Value {
    let resources: Vec<Value> = page.resources.iter().map(shape).collect();
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": page.total,
        "itemsPerPage": resources.len(),
        "startIndex": page.start_index,
        "Resources": resources,
    })
}

fn version(doc: &Value) -> Option<&str> {
    doc.get("meta")?.get("version")?.as_str()
}

fn set_etag(resp: &mut Response<Body>, doc: &Value) {
    if let Some(v) = version(doc).and_then(|v| HeaderValue::from_str(v).ok()) {
        resp.headers_mut().insert(header::ETAG, v);
    }
}

fn resource_response(
    status: StatusCode,
    kind: ResourceKind,
    doc: &Value,
    sel: &AttributeSelection,
) -> Response<Body> {
    let mut resp = json_response(status, &shape(kind, doc, sel));
    set_etag(&mut resp, doc);
    resp
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(Body::new(Bytes::new()));
    *resp.status_mut() = status;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        use ResourceKind::*;
        let cases: Vec<(&str, Option<Route>)> = vec![
            ("/scim/v2/Users", Some(Route::Collection(User))),
            ("/scim/v2/Users/", Some(Route::Collection(User))),
            (
                "/scim/v2/Groups/abc",
                Some(Route::Resource(Group, "abc".into())),
            ),
            ("/scim/v2/Users/.search", Some(Route::Search(Some(User)))),
            ("/scim/v2/.search", Some(Route::Search(None))),
            (
                "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
                Some(Route::Schema(
                    "urn:ietf:params:scim:schemas:core:2.0:User".into(),
                )),
            ),
            (
                "/scim/v2/ResourceTypes/User",
                Some(Route::ResourceType("User".into())),
            ),
            ("/scim/v2/users", Some(Route::Collection(User))),
            (
                "/scim/v2/serviceConfiguration",
                Some(Route::ServiceProviderConfig),
            ),
            ("/scim/v2/Devices", None),
            ("/scim/v2XYZ/Users", None),
            ("/scim/v2", None),
            ("/other", None),
            ("/scim/v2/Users/a/b", None),
        ];
        for (path, want) in cases {
            assert_eq!(Route::parse(path), want, "{path}");
        }
    }
}
