//! The account server's HTML pages: sign-in, consent and error. Plain forms, no script, no
//! external resources; everything echoed is HTML-escaped.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::fixture::User;

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f4f6;margin:0}\
main{max-width:30rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}\
h1{font-size:1.4rem}label{display:block;margin:.4rem 0}input[type=email],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}\
button{padding:.5rem 1.2rem;margin:.8rem .5rem 0 0;font-size:1rem}.error{color:#a00}.muted{color:#666;font-size:.9rem}\
ul.scopes li{margin:.3rem 0}fieldset{border:1px solid #ddd;margin:1rem 0}";

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} - DocuSign sandbox</title><style>{STYLE}</style></head>\
         <body><main><p class=\"muted\">DocuSign sandbox (not DocuSign)</p>{body}</main></body></html>",
        text(title)
    );
    let mut r = (status, axum::response::Html(html)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

/// An error the user cannot be redirected back with (bad `client_id` or `redirect_uri`).
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    page(status, title, &format!("<h1>{}</h1><p class=\"error\">{}</p>", text(title), text(message)))
}

/// The sign-in page: pick a seeded user or type an e-mail address; the password is optional.
pub fn sign_in(request_id: &str, users: &[User], error: Option<&str>, admin_consent: bool) -> Response {
    let mut body = String::from("<h1>Sign in</h1>");
    if admin_consent {
        body.push_str("<p>An application asks for <strong>organization admin consent</strong>. Sign in as an organization administrator.</p>");
    }
    if let Some(e) = error {
        body.push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>", text(e)));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/oauth/auth/signin\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{}\">\
         <fieldset><legend>Seeded users</legend>",
        attr(request_id)
    ));
    for u in users {
        body.push_str(&format!(
            "<label><input type=\"radio\" name=\"user\" value=\"{}\"> {} &lt;{}&gt;</label>",
            attr(&u.email),
            text(&u.name()),
            text(&u.email)
        ));
    }
    body.push_str(
        "</fieldset>\
         <label for=\"email\">Or e-mail address</label>\
         <input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"username\">\
         <label for=\"password\">Password (optional in the sandbox)</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">\
         <button type=\"submit\">Sign in</button></form>",
    );
    page(StatusCode::OK, "Sign in", &body)
}

/// What a scope lets the application do, for the consent page.
fn describe(scope: &str) -> &'static str {
    match scope {
        "signature" => "Create, send and manage your envelopes (eSignature)",
        "impersonation" => "Act on your behalf at any time, without you being present",
        "extended" => "Keep access without you signing in again (long-lived refresh)",
        "openid" => "Know who you are (sign-in)",
        "cors" => "Call DocuSign from a browser",
        "organization_read" => "Read your organization",
        "domain_read" => "Read your organization's claimed domains",
        "account_read" => "Read your organization's accounts",
        "user_read" => "Read your organization's users",
        "user_write" => "Change your organization's users",
        "identity_provider_read" => "Read your organization's identity providers",
        _ => "Other access",
    }
}

/// The consent page: the requested scopes and Allow / Deny.
pub fn consent(request_id: &str, user: &User, scopes: &[String], org_names: Option<&[String]>) -> Response {
    let mut body = format!("<h1>Allow access?</h1><p>Signed in as {} &lt;{}&gt;.</p>", text(&user.name()), text(&user.email));
    match org_names {
        Some(orgs) => body.push_str(&format!(
            "<p>You grant this on behalf of <strong>every user of {}</strong> whose e-mail domain is a claimed domain of the organization.</p>",
            text(&orgs.join(", "))
        )),
        None => body.push_str("<p>The application asks for:</p>"),
    }
    body.push_str("<ul class=\"scopes\">");
    for s in scopes {
        body.push_str(&format!("<li><code>{}</code>: {}</li>", text(s), text(describe(s))));
    }
    body.push_str(&format!(
        "</ul><form method=\"post\" action=\"/oauth/auth/consent\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{}\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        attr(request_id)
    ));
    page(StatusCode::OK, "Allow access", &body)
}
