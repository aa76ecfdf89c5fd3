//! Building blocks shared by pages: the frame with navigation, the signed-in guard, error notices,
//! form fields with inline errors, the not-found page, and the in-page confirmation dialog
//! ([`confirm`]).

pub mod confirm;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};

use crate::auth::api::{SignOut, current_staff};
use crate::auth::{Role, StaffPrincipal};
use crate::error::AppError;

/// The signed-in staff member, refetched on every navigation so an expired session is noticed.
#[derive(Clone, Copy)]
pub struct CurrentStaff(pub Resource<Result<Option<StaffPrincipal>, AppError>>);

/// The current-staff resource provided by [`AppFrame`].
pub fn use_current_staff() -> Resource<Result<Option<StaffPrincipal>, AppError>> {
    expect_context::<CurrentStaff>().0
}

/// The page frame: skip link, header with navigation and sign-out, and the main region.
#[component]
pub fn AppFrame(children: Children) -> impl IntoView {
    let location = use_location();
    let me = Resource::new(move || location.pathname.get(), |_| current_staff());
    provide_context(CurrentStaff(me));
    let sign_out = ServerAction::<SignOut>::new();

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/tenants">"Consent Portal"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(staff)) => {
                            let is_admin = staff.role == Role::Admin;
                            view! {
                                <nav aria-label="Main">
                                    <A href="/overview">"Overview"</A>
                                    <A href="/tenants">"Tenants"</A>
                                    <A href="/audit">"Audit log"</A>
                                    <Show when=move || is_admin>
                                        <A href="/staff">"Staff"</A>
                                        <A href="/settings/api">"API clients"</A>
                                        <A href="/settings/webhooks">"Webhooks"</A>
                                    </Show>
                                </nav>
                                <div class="whoami">
                                    <span data-testid="whoami">{staff.email.clone()}</span>
                                    <span class="role">{staff.role.label()}</span>
                                    <ActionForm action=sign_out>
                                        <button type="submit" class="link-button">"Sign out"</button>
                                    </ActionForm>
                                </div>
                            }
                                .into_any()
                        }
                        _ => ().into_any(),
                    }
                })}
            </Transition>
        </header>
        <main id="main" tabindex="-1">{children()}</main>
    }
}

/// Renders a staff page; in the browser, sends anyone whose session has ended to the sign-in
/// page, keeping the address they wanted.
///
/// The page (`children`) is built exactly once, when the route renders, and never inside a
/// `<Suspense>`: a Suspense re-runs its child closure (on the server once to register the
/// resources read under it, once more to check for reads nested behind them, and once to render;
/// in the browser whenever a resource it awaited changes), so a page built in there created,
/// fetched and embedded its resources three times. The guard decides nothing on the server: the
/// access gate already answers anonymous requests for staff pages with a 303 to sign-in. In the
/// browser it waits for the settled answer of [`use_current_staff`] (refetched on every
/// navigation) and redirects when nobody is signed in; it reads that resource in an effect, not
/// in a second Suspense boundary beside the frame's.
#[component]
pub fn RequireStaff(children: Children) -> impl IntoView {
    let me = use_current_staff();
    let location = use_location();
    let navigate = use_navigate();
    let redirected = StoredValue::new(false);
    Effect::new(move |_| {
        // Re-check whenever the answer changes; the previous check is cancelled with this run.
        me.track();
        let navigate = navigate.clone();
        leptos::task::spawn_local_scoped_with_cancellation(async move {
            // A settled answer: while it reloads after a navigation the resource still holds the
            // previous page's answer (for example the sign-in page's "nobody").
            if matches!(me.await, Ok(Some(_))) || redirected.get_value() {
                return;
            }
            redirected.set_value(true);
            let wanted = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
            navigate(&format!("/login?next={}", urlencode(&wanted)), NavigateOptions { replace: true, ..Default::default() });
        });
    });
    children()
}

/// Whether the signed-in staff member's role passes `allowed`, for showing controls: `false` on
/// the server and while hydrating (so both render the same), then the role's answer once the page
/// is interactive. Read in an effect, so the frame's Suspense stays the only boundary that reads
/// the current-staff resource. The server functions decide what a role may do; this only hides
/// controls that would be refused.
pub fn staff_role_allows(allowed: fn(Role) -> bool) -> Signal<bool> {
    let me = use_current_staff();
    let allows = RwSignal::new(false);
    Effect::new(move |_| {
        let now = me.get().and_then(Result::ok).flatten().is_some_and(|s| allowed(s.role));
        if allows.get_untracked() != now {
            allows.set(now);
        }
    });
    allows.into()
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
        <leptos_meta::Title text="Page not found · Consent Portal" />
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
        AppError::Validation { .. } => "This address asks for something the portal cannot show",
        _ => "Something went wrong",
    };
    // A page that failed to load has no form fields to highlight (its input came from the
    // address), so a validation error says each rule it broke in words.
    let message = match &error {
        AppError::Validation { fields } => fields.values().flatten().cloned().collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    };
    view! {
        <section class="panel narrow">
            <h1>{title}</h1>
            <p role="alert">{message}</p>
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
