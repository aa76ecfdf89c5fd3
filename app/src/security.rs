//! The Content-Security-Policy: scripts only from this origin or with the per-response nonce that
//! Leptos puts on its hydration script, wasm allowed to compile, no framing, no plugins.

/// Origins a form on our pages may lead to besides our own: the DocuSign account servers, since
/// "Sign in with DocuSign" posts to us and we redirect to them (browsers apply `form-action` to
/// that redirect too). Provided by the server through the Leptos context.
#[derive(Debug, Clone, Default)]
pub struct FormActionOrigins(pub Vec<String>);

/// The CSP header value; pages pass the response's nonce, other responses `None`.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    content_security_policy_with(nonce, &[])
}

/// The CSP header value allowing forms to lead to `form_actions` too.
pub fn content_security_policy_with(nonce: Option<&str>, form_actions: &[String]) -> String {
    let mut form_action = String::from("'self'");
    for origin in form_actions {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    let script = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'self'; {script}; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )
}

/// Sets the page's CSP (with the nonce Leptos uses for its hydration script) on the response.
#[cfg(feature = "ssr")]
pub fn set_csp_for_page() {
    use leptos::prelude::*;
    if let (Some(nonce), Some(options)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        let extra = use_context::<FormActionOrigins>().unwrap_or_default();
        if let Ok(value) = http::HeaderValue::from_str(&content_security_policy_with(Some(&nonce), &extra.0)) {
            options.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_forbids_framing_plugins_and_foreign_scripts() {
        let csp = content_security_policy(Some("abc"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("object-src 'none'"));
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("form-action 'self';"));
    }

    #[test]
    fn forms_may_lead_to_the_configured_account_servers_only() {
        let csp = content_security_policy_with(None, &["https://account-d.docusign.com".into()]);
        assert!(csp.contains("form-action 'self' https://account-d.docusign.com;"));
    }
}
