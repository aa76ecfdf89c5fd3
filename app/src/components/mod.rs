//! Building blocks shared by pages: the frame with navigation, the signed-in guard, error notices,
//! form fields with inline errors, and the not-found page.

use leptos::prelude::*;

use crate::auth::api::SignOut;
use crate::auth::{Role, StaffPrincipal};
use crate::error::AppError;

/// The signed-in staff member of the request being rendered (`None` outside the server: pages
/// render only there, see the crate docs). Read from the request context the session middleware
/// attaches, so the frame and the pages know the role without a query of their own.
pub fn signed_in_staff() -> Option<StaffPrincipal> {
    #[cfg(feature = "ssr")]
    {
        crate::ssr::render_ctx().and_then(|ctx| ctx.staff)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Whether the signed-in staff member's role passes `allowed`, for showing controls. The server
/// functions decide what a role may do; this only leaves out controls that would be refused.
pub fn staff_role_allows(allowed: fn(Role) -> bool) -> bool {
    signed_in_staff().is_some_and(|s| allowed(s.role))
}

/// The page frame: skip link, header with navigation and sign-out, and the main region.
#[component]
pub fn AppFrame(children: Children) -> impl IntoView {
    let header = signed_in_staff().map(|staff| {
        let is_admin = staff.role == Role::Admin;
        view! {
            <nav aria-label="Main">
                <a href="/overview">"Overview"</a>
                <a href="/tenants">"Tenants"</a>
                <a href="/audit">"Audit log"</a>
                {is_admin.then(|| view! {
                    <a href="/staff">"Staff"</a>
                    <a href="/settings/api">"API clients"</a>
                    <a href="/settings/webhooks">"Webhooks"</a>
                })}
            </nav>
            <div class="whoami">
                <span data-testid="whoami">{staff.email}</span>
                <span class="role">{staff.role.label()}</span>
                <SignOutButton />
            </div>
        }
    });
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/tenants">"Consent Portal"</a>
            {header}
        </header>
        <main id="main" tabindex="-1">{children()}</main>
    }
}

/// Signs out, then opens the sign-in page.
#[island]
fn SignOutButton() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            go_to("/login");
        }
    });
    view! {
        <ActionForm action=sign_out>
            <button type="submit" class="link-button">"Sign out"</button>
        </ActionForm>
    }
}

/// Renders a staff page for a signed-in staff member. The access gate already answers an
/// anonymous request for a staff page with a 303 to sign-in; this is the page's own guard, so a
/// page never renders its controls for nobody. Every navigation is a server render (islands
/// mode), so a session that ended is noticed on the next page load.
#[component]
pub fn RequireStaff(children: Children) -> impl IntoView {
    match signed_in_staff() {
        Some(_) => children().into_any(),
        None => view! {
            <section class="panel narrow">
                <h1>"Please sign in"</h1>
                <p>"Your session has ended. " <a href="/login">"Sign in"</a> " to continue."</p>
            </section>
        }
        .into_any(),
    }
}

/// Opens `path` in this tab, as a full page load: pages render on the server, so this is how an
/// island shows the state an action left behind.
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Loads the current page again (after an island's action changed what the page shows).
pub fn reload_page() {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// A `<textarea>` prefilled with user-supplied text.
///
/// Tachys writes a textarea's children into the HTML without escaping them (it treats the
/// element like `<script>`), so `<textarea>{text}</textarea>` lets stored text close the element
/// and inject markup. The text goes in as escaped inner HTML instead: the browser decodes it
/// back into the value both on a server-rendered page and when the page is built in the browser.
#[component]
pub fn TextArea(
    id: &'static str,
    name: &'static str,
    #[prop(into)] value: String,
    #[prop(default = 4)] rows: u32,
    #[prop(default = 4000)] maxlength: u32,
) -> impl IntoView {
    view! {
        <textarea id=id name=name rows=rows maxlength=maxlength aria-describedby=format!("{id}-error")
            inner_html=escape_text(&value)></textarea>
    }
}

/// Escapes text for HTML (`&`, `<`, `>` and both quotes), so it is safe in text and in attributes.
pub fn escape_text(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

/// A short, readable notice for an error that is not about one form field.
#[component]
pub fn ErrorNotice(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|err| {
            let text = match &err {
                AppError::Validation { .. } => "Please correct the highlighted fields.".to_owned(),
                other => other.to_string(),
            };
            view! { <p class="notice error" role="alert">{text}</p> }
        })
    }
}

/// The inline messages for one field, linked to its input by `id`.
#[component]
pub fn FieldMessages(id: &'static str, field: &'static str, #[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        let messages = error.get().map(|e| e.field_messages(field)).unwrap_or_default();
        (!messages.is_empty()).then(|| {
            view! {
                <p class="field-error" id=format!("{id}-error") data-testid=format!("error-{field}")>
                    {messages.join(" ")}
                </p>
            }
        })
    }
}

/// The page for any address that does not exist; answers 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(404);
    view! {
        <section class="panel narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. Check the link, or go back to the tenant list."</p>
            <p><a href="/tenants">"Go to tenants"</a></p>
        </section>
    }
}

/// The view of a page whose main data failed to load: 404s and 403s set their status on the
/// server-rendered response, everything else shows the short message.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(error.status_code());
    let title = match &error {
        AppError::NotFound { .. } => "Not found",
        AppError::Forbidden => "Not allowed",
        _ => "Something went wrong",
    };
    view! {
        <section class="panel narrow">
            <h1>{title}</h1>
            <p role="alert">{error.to_string()}</p>
            <p><a href="/tenants">"Back to tenants"</a></p>
        </section>
    }
}

/// Percent-encodes a query parameter value.
pub fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A UTC timestamp as people read it.
pub fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::urlencode;

    #[test]
    fn escaped_text_cannot_close_an_element_or_an_attribute() {
        let hostile = r#"</textarea><meta http-equiv="refresh" content="1;url=https://evil.example">&'"#;
        let escaped = super::escape_text(hostile);
        assert!(!escaped.contains('<') && !escaped.contains('>') && !escaped.contains('"') && !escaped.contains('\''));
        assert_eq!(html_escape::decode_html_entities(&escaped), hostile);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(urlencode("/tenants?x=1&y"), "/tenants%3Fx%3D1%26y");
    }
}
