//! The sign-in page.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::api::{SignIn, safe_next};
use crate::components::{ErrorNotice, FieldMessages};

/// Staff sign-in: e-mail and password, with a clear message on failure.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next").as_deref());
    let action = ServerAction::<SignIn>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));

    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(signed_in)) = action.value().get() {
            navigate(&signed_in.next, Default::default());
        }
    });

    view! {
        <leptos_meta::Title text="Sign in · Consent Portal" />
        <section class="panel narrow">
            <h1>"Sign in"</h1>
            <p class="lead">"Staff sign-in for the Consent Portal."</p>
            <ErrorNotice error=error />
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="email">"E-mail"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required aria-describedby="email-error" />
                    <FieldMessages id="email" field="email" error=error />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required />
                </div>
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </section>
    }
}
