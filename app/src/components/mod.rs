//! Building blocks shared by pages: the frame with navigation, the signed-in guard, error notices,
//! form fields with inline errors, and the not-found page.

use leptos::prelude::*;
use leptos_router::components::{A, Redirect};
use leptos_router::hooks::use_location;

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
                                    <A href="/tenants">"Tenants"</A>
                                    <Show when=move || is_admin>
                                        <A href="/staff">"Staff"</A>
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

/// Renders `children` for signed-in staff; sends everyone else to the sign-in page, keeping the
/// address they wanted.
#[component]
pub fn RequireStaff(children: ChildrenFn) -> impl IntoView {
    let me = use_current_staff();
    let location = use_location();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match me.await {
                        Ok(Some(_)) => children().into_any(),
                        _ => {
                            let wanted = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
                            let target = format!("/login?next={}", urlencode(&wanted));
                            view! { <Redirect path=target /> }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
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
    fn query_values_are_percent_encoded() {
        assert_eq!(urlencode("/tenants?x=1&y"), "/tenants%3Fx%3D1%26y");
    }
}
