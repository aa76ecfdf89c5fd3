//! The account server: `/oauth/auth` (sign-in and consent pages), `/oauth/token` (authorization
//! code, refresh token and JWT bearer grants) and `/oauth/userinfo` (reference sections 1–3).

use std::collections::{BTreeSet, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::fixture::User;
use super::pages;
use super::state::{
    AppState, AuthCode, CODE_GRANT_TOKEN_TTL, CODE_TTL, Grantee, JWT_TOKEN_TTL, PENDING_TTL, PendingAuth, REFRESH_TTL,
    SIGN_IN_COOKIE, SIGN_IN_TTL, Token, World, random_token,
};
use super::vary::{self, Credential};
use super::wire::{self, oauth_error};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Tolerated clock skew for `iat` and `nbf` in a JWT assertion.
const SKEW: i64 = 60;

/// Scopes the sandbox recognizes (reference sections 1 and 7).
const KNOWN_SCOPES: &[&str] = &[
    "signature",
    "impersonation",
    "extended",
    "openid",
    "cors",
    "organization_read",
    "group_read",
    "permission_read",
    "user_read",
    "user_write",
    "account_read",
    "account_write",
    "domain_read",
    "identity_provider_read",
    "user_data_redact",
    "asset_group_account_read",
    "asset_group_account_clone_write",
    "asset_group_account_clone_read",
    "organization_sub_account_read",
    "organization_sub_account_write",
    "connect_org_config_read_api",
    "connect_org_config_write_api",
    "connect_org_hmac_read_api",
    "connect_org_hmac_write_api",
    "connect_org_oauth_read_api",
    "connect_org_oauth_write_api",
];

/// Routes of the account server (the control API is merged in separately).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/auth", get(authorize))
        .route("/oauth/auth/signin", post(sign_in))
        .route("/oauth/auth/consent", post(consent))
        .route("/oauth/token", post(token))
        .route("/oauth/userinfo", get(userinfo))
}

fn split_scopes(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split([' ', '+']).filter(|p| !p.is_empty()) {
        if !out.iter().any(|o| o == part) {
            out.push(part.to_owned());
        }
    }
    out
}

/// `redirect_uri?k=v&…`, keeping any query the registered URI already has. Vary mode writes the
/// parameters in the opposite order and adds one the client does not know (the reference shows
/// `code` then `state` and nothing else, but documents neither an order nor a closed list).
fn redirect_with(redirect_uri: &str, params: &[(&str, &str)], vary: bool) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return pages::error_page(StatusCode::BAD_REQUEST, "Invalid redirect_uri", "The redirect_uri is not a URL.");
    };
    {
        let mut q = url.query_pairs_mut();
        if vary {
            q.append_pair("vary_unknown_parameter", "1");
            for (k, v) in params.iter().rev() {
                q.append_pair(k, v);
            }
        } else {
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
    }
    // 302 Found, as DocuSign answers (axum's Redirect::to would be 303).
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

/// An error redirect. Every `error_description` the sandbox writes here is its own free text
/// (the reference documents none), so vary mode words each one differently.
fn redirect_error(p: &PendingLike<'_>, error: &str, description: &str) -> Response {
    let description = if p.vary { vary::ERROR_WORDING } else { description };
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = p.state {
        params.push(("state", s));
    }
    redirect_with(p.redirect_uri, &params, p.vary)
}

struct PendingLike<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    vary: bool,
}

/// `GET /oauth/auth`: validates the request, then shows the sign-in page (or, in a browser signed
/// in here and without `prompt=login`, goes on as that user).
async fn authorize(State(app): State<AppState>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let integration = &app.fixture.integration;
    let client_id = q.get("client_id").map(String::as_str).unwrap_or_default();
    if client_id.is_empty() || client_id != integration.key {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "Invalid client_id",
            "The client_id is missing or is not an integration key registered in this environment.",
        );
    }
    let redirect_uri = q.get("redirect_uri").map(String::as_str).unwrap_or_default();
    if !integration.redirect_uris.iter().any(|r| r == redirect_uri) {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "Invalid redirect_uri",
            "The redirect_uri does not exactly match a redirect URI registered on the integration key.",
        );
    }
    let state = q.get("state").map(String::as_str);
    let back = PendingLike { redirect_uri, state, vary: app.fixture.vary };
    match q.get("response_type").map(String::as_str) {
        Some("code") => {}
        Some("token") => {
            return redirect_error(&back, "unsupported_response_type", "The sandbox supports response_type=code only.");
        }
        _ => return redirect_error(&back, "invalid_request", "response_type must be code."),
    }
    let scopes = split_scopes(q.get("scope").map(String::as_str).unwrap_or_default());
    if scopes.is_empty() {
        return redirect_error(&back, "invalid_request", "scope is required.");
    }
    if let Some(bad) = scopes.iter().find(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return redirect_error(&back, "invalid_scope", &format!("Unknown scope: {bad}"));
    }
    let admin_consent_scopes = match q.get("admin_consent_scope") {
        None => None,
        Some(a) => {
            let a = split_scopes(a);
            if scopes != ["openid"] {
                return redirect_error(&back, "invalid_request", "admin_consent_scope requires scope=openid.");
            }
            if a.is_empty() {
                return redirect_error(&back, "invalid_request", "admin_consent_scope is empty.");
            }
            if let Some(bad) = a.iter().find(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
                return redirect_error(&back, "invalid_scope", &format!("Unknown scope: {bad}"));
            }
            Some(a)
        }
    };
    let code_challenge = match (q.get("code_challenge"), q.get("code_challenge_method").map(String::as_str)) {
        (None, None) => None,
        (Some(c), Some("S256")) => {
            let well_formed = c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !well_formed {
                return redirect_error(&back, "invalid_request", "code_challenge must be base64url(SHA-256(verifier)), 43 characters.");
            }
            Some(c.clone())
        }
        (Some(_), _) => return redirect_error(&back, "invalid_request", "code_challenge_method must be S256."),
        (None, Some(_)) => return redirect_error(&back, "invalid_request", "code_challenge is missing."),
    };
    let now = app.clock.now();
    let id = random_token();
    let admin_consent = admin_consent_scopes.is_some();
    let mut world = app.world();
    world.sweep(now);
    let pending = PendingAuth {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        admin_consent_scopes,
        state: state.map(str::to_owned),
        code_challenge,
        user_id: None,
        created_at: now,
    };
    world.pending.insert(id.clone(), pending.clone());
    // A browser already signed in here goes on as that user, unless the application asked for
    // the credentials again (`prompt=login`).
    let prompt_login = q.get("prompt").is_some_and(|p| p.split(' ').any(|v| v == "login"));
    let remembered = signed_in_user(&world, &headers).filter(|_| !prompt_login);
    match remembered {
        Some(user) => after_sign_in(&app, &mut world, &id, &pending, &user, now),
        None => pages::sign_in(&id, &world.users, None, admin_consent),
    }
}

/// The user this browser signed in as, if its session cookie is current.
fn signed_in_user(world: &World, headers: &HeaderMap) -> Option<User> {
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    let token = cookies.flat_map(|v| v.split(';')).find_map(|c| c.trim().strip_prefix(SIGN_IN_COOKIE)?.strip_prefix('='))?;
    let (user_id, _) = world.sign_ins.get(token)?;
    world.users.iter().find(|u| u.id.eq_ignore_ascii_case(user_id)).cloned()
}

fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn expired_request() -> Response {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "Sign-in expired",
        "This sign-in request is unknown or has expired. Start again from the application.",
    )
}

/// Issues a code for a finished sign-in and redirects back with `code` and `state`.
fn issue_code(app: &AppState, world: &mut World, p: &PendingAuth, user_id: &str, now: i64) -> Response {
    let code = vary::credential(app, Credential::Code);
    world.codes.insert(
        code.clone(),
        AuthCode {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            user_id: user_id.to_owned(),
            scopes: p.scopes.iter().cloned().collect(),
            code_challenge: p.code_challenge.clone(),
            expires_at: now + CODE_TTL,
        },
    );
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &p.state {
        params.push(("state", s.as_str()));
    }
    redirect_with(&p.redirect_uri, &params, app.fixture.vary)
}

/// `POST /oauth/auth/signin`: identifies the user, then consent page (or straight back when the
/// user already consented to every requested scope).
async fn sign_in(State(app): State<AppState>, body: Bytes) -> Response {
    let f = form(&body);
    let request_id = f.get("request_id").cloned().unwrap_or_default();
    let typed = f.get("email").map(|s| s.trim()).filter(|s| !s.is_empty());
    let picked = f.get("user").map(|s| s.trim()).filter(|s| !s.is_empty());
    let now = app.clock.now();
    let mut world = app.world();
    let Some(p) = world.pending.get(&request_id).filter(|p| p.created_at + PENDING_TTL > now).cloned() else {
        return expired_request();
    };
    let admin_consent = p.admin_consent_scopes.is_some();
    let user: Option<User> = typed.or(picked).and_then(|e| world.user_by_email(e)).cloned();
    let Some(user) = user else {
        let msg = match typed.or(picked) {
            None => "Pick a user or type an e-mail address.",
            Some(_) => "No DocuSign user has this e-mail address in this environment.",
        };
        return pages::sign_in(&request_id, &world.users, Some(msg), admin_consent);
    };
    let session = random_token();
    world.sign_ins.insert(session.clone(), (user.id.clone(), now + SIGN_IN_TTL));
    let mut response = after_sign_in(&app, &mut world, &request_id, &p, &user, now);
    let cookie = format!("{SIGN_IN_COOKIE}={session}; Path=/oauth/auth; Max-Age={SIGN_IN_TTL}; HttpOnly; SameSite=Lax");
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// What follows once the user of the request `request_id` is known (signed in now, or earlier in
/// this browser): the consent page, or straight back when nothing is left to consent to.
fn after_sign_in(app: &AppState, world: &mut World, request_id: &str, p: &PendingAuth, user: &User, now: i64) -> Response {
    if let Some(pending) = world.pending.get_mut(request_id) {
        pending.user_id = Some(user.id.clone());
    }
    match &p.admin_consent_scopes {
        Some(admin_scopes) => {
            let orgs = world.admin_consent_orgs(&user.id);
            if orgs.is_empty() {
                world.pending.remove(request_id);
                let back = PendingLike { redirect_uri: &p.redirect_uri, state: p.state.as_deref(), vary: app.fixture.vary };
                // Free text on purpose, with no code-like token in it: DocuSign's wording is not
                // documented, so the portal must work from `error` alone.
                return redirect_error(
                    &back,
                    "access_denied",
                    "This user cannot give consent for an organization: an administrator of an organization with an active claimed domain is needed.",
                );
            }
            let names: Vec<String> = world
                .orgs
                .iter()
                .filter(|o| orgs.contains(&o.id.to_ascii_lowercase()))
                .map(|o| o.name.clone())
                .collect();
            pages::consent(request_id, user, admin_scopes, Some(&names))
        }
        None => {
            let have = world.consented_scopes(&user.id, &p.client_id);
            if p.scopes.iter().all(|s| have.contains(s)) {
                world.pending.remove(request_id);
                return issue_code(app, world, p, &user.id, now);
            }
            pages::consent(request_id, user, &p.scopes, None)
        }
    }
}

/// `POST /oauth/auth/consent`: Allow records the consent and redirects with a code; Deny
/// redirects with `error=access_denied`.
async fn consent(State(app): State<AppState>, body: Bytes) -> Response {
    let f = form(&body);
    let request_id = f.get("request_id").cloned().unwrap_or_default();
    let now = app.clock.now();
    let mut world = app.world();
    let Some(p) = world.pending.get(&request_id).filter(|p| p.created_at + PENDING_TTL > now).cloned() else {
        return expired_request();
    };
    let Some(user_id) = p.user_id.clone() else {
        return expired_request();
    };
    world.pending.remove(&request_id);
    if f.get("decision").map(String::as_str) != Some("allow") {
        let back = PendingLike { redirect_uri: &p.redirect_uri, state: p.state.as_deref(), vary: app.fixture.vary };
        return redirect_error(&back, "access_denied", "The user denied the request.");
    }
    match &p.admin_consent_scopes {
        Some(admin_scopes) => {
            for org in world.admin_consent_orgs(&user_id) {
                world.grant(Grantee::Organization(org), &p.client_id, admin_scopes, Some(user_id.clone()), now);
            }
            world.grant(Grantee::User(user_id.to_ascii_lowercase()), &p.client_id, &p.scopes, None, now);
        }
        None => world.grant(Grantee::User(user_id.to_ascii_lowercase()), &p.client_id, &p.scopes, None, now),
    }
    issue_code(&app, &mut world, &p, &user_id, now)
}

/// Checks `Authorization: Basic base64(key:secret)` in constant time.
fn basic_auth_ok(app: &AppState, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some((scheme, b64)) = value.split_once(' ') else { return false };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else { return false };
    let expected = format!("{}:{}", app.fixture.integration.key, app.fixture.integration.secret);
    decoded.ct_eq(expected.as_bytes()).into()
}

/// The token endpoint's answer. `expires_in` is a JSON number (reference §2.5), which DocuSign's
/// SDKs type as a string: vary mode sends the string (and `token_type` in lower case).
fn token_response(app: &AppState, access: &str, ttl: i64, refresh: Option<&str>, id_token: Option<String>) -> Response {
    let expires_in = if app.fixture.vary { json!(ttl.to_string()) } else { json!(ttl) };
    // `token_type` is case-insensitive (RFC 6749 §5.1); the reference shows `Bearer`.
    let token_type = if app.fixture.vary { "bearer" } else { "Bearer" };
    let mut body = json!({ "access_token": access, "token_type": token_type, "expires_in": expires_in });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    if let Some(t) = id_token {
        body["id_token"] = json!(t);
    }
    let mut r = wire::json(StatusCode::OK, body);
    wire::no_store(&mut r);
    r
}

/// `POST /oauth/token`.
async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let f = form(&body);
    let grant = f.get("grant_type").map(String::as_str).unwrap_or_default();
    let label = match grant {
        "authorization_code" => "authorization_code",
        "refresh_token" => "refresh_token",
        JWT_BEARER => "jwt_bearer",
        _ => "unsupported",
    };
    app.world().count(format!("POST /oauth/token {label}"));
    match grant {
        "authorization_code" => code_grant(&app, &headers, &f),
        "refresh_token" => refresh_grant(&app, &headers, &f),
        JWT_BEARER => jwt_grant(&app, &f),
        _ => oauth_error("invalid_grant", Some("unsupported_grant_type")),
    }
}

fn issue_tokens(
    app: &AppState,
    world: &mut World,
    user_id: &str,
    client_id: &str,
    scopes: BTreeSet<String>,
    refresh_expires: i64,
    now: i64,
) -> (String, String) {
    let access = vary::credential(app, Credential::Access);
    let refresh = vary::credential(app, Credential::Refresh);
    world.access.insert(
        access.clone(),
        Token { user_id: user_id.to_owned(), client_id: client_id.to_owned(), scopes: scopes.clone(), expires_at: now + CODE_GRANT_TOKEN_TTL },
    );
    world.refresh.insert(
        refresh.clone(),
        Token { user_id: user_id.to_owned(), client_id: client_id.to_owned(), scopes, expires_at: refresh_expires },
    );
    (access, refresh)
}

fn code_grant(app: &AppState, headers: &HeaderMap, f: &HashMap<String, String>) -> Response {
    // DocuSign answers a wrong secret with the same error as a bad code (reference 2.6, [I1]).
    if !basic_auth_ok(app, headers) {
        return oauth_error("invalid_grant", Some("expired_client_token"));
    }
    let now = app.clock.now();
    let mut world = app.world();
    let code = f.get("code").cloned().unwrap_or_default();
    // Single use: the code is gone after the first attempt, whatever its outcome.
    let Some(c) = world.codes.remove(&code) else {
        return oauth_error("invalid_grant", Some("expired_client_token"));
    };
    if c.expires_at <= now || c.client_id != app.fixture.integration.key {
        return oauth_error("invalid_grant", Some("expired_client_token"));
    }
    if let Some(r) = f.get("redirect_uri")
        && *r != c.redirect_uri
    {
        return oauth_error("invalid_grant", Some(invented(app, "redirect_uri_mismatch")));
    }
    if let Some(challenge) = &c.code_challenge {
        let Some(verifier) = f.get("code_verifier") else {
            return oauth_error("invalid_grant", Some(invented(app, "invalid_code_verifier")));
        };
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
            return oauth_error("invalid_grant", Some(invented(app, "invalid_code_verifier")));
        }
    }
    let id_token = c.scopes.contains("openid").then(|| id_token(app, &world, &c.user_id, now)).flatten();
    let (access, refresh) = issue_tokens(app, &mut world, &c.user_id, &c.client_id, c.scopes, now + REFRESH_TTL, now);
    token_response(app, &access, CODE_GRANT_TOKEN_TTL, Some(&refresh), id_token)
}

/// An OpenID id_token, HS256-signed with the client secret (the OIDC choice for confidential
/// clients; the reference does not say how DocuSign signs it).
fn id_token(app: &AppState, world: &World, user_id: &str, now: i64) -> Option<String> {
    let user = world.user(user_id)?;
    let claims = json!({
        "iss": app.hosts.account_server,
        "sub": user.id,
        "aud": app.fixture.integration.key,
        "iat": now,
        "exp": now + CODE_GRANT_TOKEN_TTL,
        "email": user.email,
        "name": user.name(),
        "given_name": user.given_name,
        "family_name": user.family_name,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(app.fixture.integration.secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).ok()
}

fn refresh_grant(app: &AppState, headers: &HeaderMap, f: &HashMap<String, String>) -> Response {
    if !basic_auth_ok(app, headers) {
        return oauth_error("invalid_grant", Some("expired_client_token"));
    }
    let now = app.clock.now();
    let mut world = app.world();
    let presented = f.get("refresh_token").cloned().unwrap_or_default();
    // Rotation: the presented token stops working whatever happens next.
    let Some(old) = world.refresh.remove(&presented) else {
        return oauth_error("invalid_grant", None);
    };
    if old.expires_at <= now {
        return oauth_error("invalid_grant", None);
    }
    let have = world.consented_scopes(&old.user_id, &old.client_id);
    if !old.scopes.iter().all(|s| s == "openid" || have.contains(s)) {
        return oauth_error("invalid_grant", None);
    }
    // With `extended` the new refresh token gets a full lifetime; otherwise it keeps the old end.
    let refresh_expires = if old.scopes.contains("extended") { now + REFRESH_TTL } else { old.expires_at };
    let (access, refresh) = issue_tokens(app, &mut world, &old.user_id, &old.client_id, old.scopes, refresh_expires, now);
    token_response(app, &access, CODE_GRANT_TOKEN_TTL, Some(&refresh), None)
}

/// A token error description the reference does not list (the sandbox chose it): vary mode words
/// it differently, as the portal must not match it.
fn invented<'a>(app: &AppState, description: &'a str) -> &'a str {
    if app.fixture.vary { vary::ERROR_WORDING } else { description }
}

/// `issuer_not_found` as DocuSign's FAQ spells it in vary mode (`Issuer_not_found`; reference
/// §2.6: "on the wire it's lowercase (M)").
fn issuer_not_found(app: &AppState) -> Response {
    jwt_fail(if app.fixture.vary { "Issuer_not_found" } else { "issuer_not_found" })
}

fn jwt_fail(description: &str) -> Response {
    oauth_error("invalid_grant", Some(description))
}

/// Reads the claims without verifying, to find the issuer's keys first.
fn peek_claims(assertion: &str) -> Option<serde_json::Value> {
    let mut parts = assertion.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn jwt_grant(app: &AppState, f: &HashMap<String, String>) -> Response {
    let assertion = f.get("assertion").map(String::as_str).unwrap_or_default();
    let Some(claims) = peek_claims(assertion) else {
        return jwt_fail("no_valid_keys_or_signatures");
    };
    let integration = &app.fixture.integration;
    let iss = claims.get("iss").and_then(|v| v.as_str()).unwrap_or_default();
    if iss != integration.key {
        return issuer_not_found(app);
    }
    // `aud` must be exactly the account server's host. The right host written with a scheme or a
    // trailing slash is a malformed assertion; another host is the wrong environment.
    let aud = claims.get("aud").and_then(|v| v.as_str()).unwrap_or_default();
    if aud != app.hosts.account_host {
        let bare = aud.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
        return if bare == app.hosts.account_host {
            jwt_fail("no_valid_keys_or_signatures")
        } else {
            issuer_not_found(app)
        };
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let verified = integration.public_keys.iter().any(|pem| {
        jsonwebtoken::DecodingKey::from_rsa_pem(pem.trim().as_bytes())
            .ok()
            .is_some_and(|key| jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &validation).is_ok())
    });
    if !verified {
        return jwt_fail("no_valid_keys_or_signatures");
    }
    let now = app.clock.now();
    let Some(exp) = claims.get("exp").and_then(|v| v.as_i64()) else {
        return jwt_fail("no_valid_keys_or_signatures");
    };
    let Some(iat) = claims.get("iat").and_then(|v| v.as_i64()) else {
        return jwt_fail("no_valid_keys_or_signatures");
    };
    if iat > now + SKEW {
        return jwt_fail("no_valid_keys_or_signatures");
    }
    if let Some(nbf) = claims.get("nbf").and_then(|v| v.as_i64())
        && nbf > now + SKEW
    {
        return jwt_fail("no_valid_keys_or_signatures");
    }
    if exp <= now {
        return jwt_fail("expired_grant");
    }
    let mut world = app.world();
    let sub = claims.get("sub").and_then(|v| v.as_str()).unwrap_or_default();
    let Some(user) = world.user(sub).cloned() else {
        return jwt_fail("user_not_found");
    };
    let requested = split_scopes(claims.get("scope").and_then(|v| v.as_str()).unwrap_or("signature"));
    // Impersonating a user needs consent to `impersonation` as well as to each requested scope.
    let have = world.consented_scopes(&user.id, &integration.key);
    if !have.contains("impersonation") || !requested.iter().all(|s| have.contains(s)) {
        return oauth_error("consent_required", None);
    }
    let access = vary::credential(app, Credential::Access);
    world.access.insert(
        access.clone(),
        Token {
            user_id: user.id.clone(),
            client_id: integration.key.clone(),
            scopes: requested.into_iter().collect(),
            expires_at: now + JWT_TOKEN_TTL,
        },
    );
    token_response(app, &access, JWT_TOKEN_TTL, None, None)
}

/// `GET /oauth/userinfo`.
async fn userinfo(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let now = app.clock.now();
    let world = app.world();
    let Some(user_id) = wire::bearer(&headers)
        .and_then(|t| world.access.get(&t).filter(|t| t.expires_at > now).map(|t| t.user_id.clone()))
    else {
        return wire::json(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_token", "error_description": "The access token provided is expired, revoked or malformed."}),
        );
    };
    let Some(user) = world.user(&user_id) else {
        return wire::json(StatusCode::UNAUTHORIZED, json!({"error": "invalid_token", "error_description": "Unknown user."}));
    };
    let accounts: Vec<serde_json::Value> = user
        .memberships
        .iter()
        .filter_map(|m| {
            let a = world.account(&m.account)?;
            let mut base_uri = app.hosts.base_uris.get(&a.seed.base_uri).cloned().unwrap_or_default();
            // The reference's example has no trailing slash, but nothing says there is none.
            if app.fixture.vary {
                base_uri.push('/');
            }
            // `is_default` is a JSON boolean; DocuSign's SDKs type it as a string (reference §3):
            // vary mode sends the string.
            let is_default = if app.fixture.vary { json!(m.is_default.to_string()) } else { json!(m.is_default) };
            let mut v = json!({
                "account_id": a.seed.id,
                "is_default": is_default,
                "account_name": a.seed.name,
                "base_uri": base_uri,
            });
            if let Some(org) = world.org_of_account(&a.seed.id) {
                v["organization"] = json!({
                    "organization_id": org.id,
                    "links": [{"rel": "self", "href": format!("{}/organizations/{}", app.hosts.account_server, org.id)}],
                });
            }
            Some(v)
        })
        .collect();
    wire::json(
        StatusCode::OK,
        json!({
            "sub": user.id,
            "name": user.name(),
            "given_name": user.given_name,
            "family_name": user.family_name,
            "created": user.created,
            "email": user.email,
            "accounts": accounts,
        }),
    )
}
