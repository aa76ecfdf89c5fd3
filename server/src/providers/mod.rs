//! Everything that speaks to an identity provider, one folder per provider, and the seam the rest
//! of the portal reaches them through.
//!
//! # The seam
//!
//! The consent flow (`onboarding/`: the OAuth start and callback, naming and pinning the system
//! user, verification, refreshing kept credentials) is written against two traits, never against
//! a provider's client:
//!
//! - [`ConsentProvider`]: the authorization URL for sign-in, individual and organization consent
//!   ([`AuthorizationRequest`]), the issuer a callback must name, the code exchange, userinfo,
//!   app tokens acting as a user (a fresh one proves consent; checks use the cached one, and a
//!   refused one is forgotten), refreshing kept tokens, the base-URI guard, and the verification
//!   call on an account;
//! - [`OrganizationDirectory`]: an organization's organizations, claimed (reserved) domains and
//!   users by e-mail, read with an organization administrator's app token.
//!
//! Both speak the provider-neutral vocabulary exported here: [`TokenSet`], [`UserInfo`] (with
//! its [`UserAccount`]s), the directory's [`Organization`], [`ReservedDomain`] and
//! [`UserProfile`], the PKCE pair ([`Pkce`], [`new_pkce`]) and `state` ([`new_state`]) the
//! portal keeps for a round trip, and the classified [`ProviderError`] every failure is mapped
//! into (its variants, not the provider's wire, decide what the admin is told). These types were
//! first written for DocuSign and live in its folder; the consent flow names them only through
//! this module.
//!
//! `state::Deps` carries the seam for one environment (`Deps::provider`,
//! `Deps::directory`), so a service reaches a provider in two hops: `Portal::deps(env)` →
//! `d.provider.…` / `d.directory.…`. The DocuSign-only eSignature calls of the setup checks
//! (account settings, Connect) stay on the concrete client (`Deps::client`): they are not part of
//! consent and have no counterpart at another provider.
//!
//! # What a provider folder holds
//!
//! `providers/<name>/` is the only code that speaks that provider's wire:
//! - its **client**, built from its settings, one per environment (for DocuSign
//!   [`docusign::DocuSignClient`] with [`docusign::ProviderSettings`]), and the implementation of
//!   the seam's traits on it (`docusign/provider.rs`);
//! - its **error classification**: every HTTP status and error body mapped into
//!   [`ProviderError`] (`docusign/error.rs`), with nothing secret in a variant;
//! - its **call policy**: bounded retries with backoff that honours `Retry-After`, and the
//!   per-account request budgets (`docusign/policy.rs`, `docusign/budget.rs`).
//!
//! Its sandbox (`server::sandbox` for DocuSign) is an emulator reached only over HTTP: nothing
//! here or in `onboarding/` imports it.
//!
//! # Adding a second provider (Microsoft Entra admin consent)
//!
//! 1. Create `providers/entra/` with its settings and client (login host, client credentials
//!    and authorization code grants, Graph), its error classification into [`ProviderError`]
//!    (add variants only for decisions the portal takes differently), and its call policy.
//! 2. `impl ConsentProvider` and `impl OrganizationDirectory` for its client: map
//!    [`AuthorizationRequest::OrganizationConsent`] to `/adminconsent` (or `/authorize` with
//!    `.default` and `prompt=consent`), the app token to the client credentials grant, the
//!    directory to Graph's `/domains` and `/users`.
//! 3. Configure and build it at start-up next to the DocuSign clients (`startup.rs`), keep it in
//!    `Portal`, and have `Portal::deps` hand out the tenant's provider as `Deps::provider` /
//!    `Deps::directory` (the tenant row then needs to name its provider).
//! 4. Give it its own sealed sandbox under `server/src/sandbox/`, reached only over HTTP, and
//!    run the onboarding API tests against it.
//!
//! The consent flow's logic and records need no change. Two things still name DocuSign and
//! would follow the tenant's provider then: the texts shown to the admin, and the DocuSign-only
//! part of `Deps` (`Deps::client` and the ISV scopes in `Deps::isv`, used by the setup checks
//! and to build the consent requests).

pub mod docusign;
mod seam;

pub use docusign::budget::AccountBudgets;
pub use docusign::{Organization, Pkce, ProviderError, ReservedDomain, TokenSet, UserAccount, UserInfo, UserProfile};
pub use seam::{AuthorizationRequest, ConsentProvider, OrganizationDirectory, new_pkce, new_state};
