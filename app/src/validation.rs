//! Validation rules shared by the browser and the server, where the two builds differ.
//!
//! The e-mail rule: the server (the authority) applies `validator`'s full rule (RFC 5321 limits,
//! an IDNA-aware domain check); the browser applies a light structural check that accepts
//! everything the full rule accepts, so it never refuses a valid address, only catches typos
//! early. The full rule's regexes and Unicode tables were about a third of the wasm.

use validator::ValidationError;

/// Checks an e-mail address (full rule on the server, light rule in the browser).
pub fn email(value: &str) -> Result<(), ValidationError> {
    if email_ok(value) { Ok(()) } else { Err(ValidationError::new("email")) }
}

#[cfg(feature = "ssr")]
fn email_ok(value: &str) -> bool {
    validator::ValidateEmail::validate_email(&value)
}

#[cfg(not(feature = "ssr"))]
fn email_ok(value: &str) -> bool {
    light_email_ok(value)
}

/// One `@` splitting a non-empty local part (at most 64 bytes) from a non-empty domain, no
/// spaces or control characters, at most 254 bytes in all.
#[cfg_attr(feature = "ssr", allow(dead_code))]
fn light_email_ok(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else { return false };
    !local.is_empty()
        && local.len() <= 64
        && !domain.is_empty()
        && value.len() <= 254
        && !domain.contains('@')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::light_email_ok;

    #[test]
    fn the_browser_rule_never_refuses_what_the_server_accepts() {
        for address in [
            "admin@customer.com",
            "a.b+tag@sub.example.co.uk",
            "user@localhost",
            "\"quoted local\"@example.com",
            "üñîçøðé@example.com",
            "x@[127.0.0.1]",
            "o'brien@example.ie",
        ] {
            if validator::ValidateEmail::validate_email(&address) {
                assert!(light_email_ok(address), "{address} is valid on the server but refused in the browser");
            }
        }
        for typo in ["", "no-at-sign", "@example.com", "user@", "two words@example.com"] {
            assert!(!light_email_ok(typo), "{typo:?} should be caught in the browser");
        }
    }
}
