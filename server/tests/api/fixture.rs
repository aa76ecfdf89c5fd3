//! The sandbox's fixture identities (see `server/src/sandbox/default-fixture.toml`) shared by the
//! provider-client and sandbox tests, and the helpers that read them.

use server::sandbox::default_fixture;

pub const ADA: &str = "ada.admin@acme.example";
pub const BOB: &str = "bob.builder@acme.example";
pub const NORA: &str = "nora.nomember@acme.example";
pub const GINA: &str = "gina@globex.example";
pub const MIA: &str = "mia@initech.example";
pub const UMA: &str = "uma@umbrella.example";
pub const HANK: &str = "hank@hooli.example";
pub const ACME_SALES: &str = "2dc3c088-c34c-4525-8fee-7ec91a045ce8";
pub const GLOBEX: &str = "f941ebb9-c656-4ead-bd63-fa7beda083e5";
pub const INITECH_US: &str = "2a33cf38-28d0-4419-b64a-11712d2cfb1e";
pub const INITECH_EU: &str = "b1a5decb-c675-4548-9317-41c1c26313d5";
pub const HOOLI: &str = "9ed84d18-4625-4a9c-86fe-05d9a5c85960";
pub const ACME_ORG: &str = "1c8108ed-b816-4dfb-9fa7-bd1138e1932e";
pub const UMBRELLA_ORG: &str = "002fb65a-e106-4087-8333-aa6ffc8d34a9";
/// A redirect URI the sandbox accepts in tests that drive it without the portal.
pub const REDIRECT: &str = "http://127.0.0.1:3000/oauth/callback";

/// The DocuSign user id of a fixture user.
pub fn user_id(email: &str) -> String {
    default_fixture().user_by_email(email).unwrap().id.clone()
}
