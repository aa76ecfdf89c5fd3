//! Everything that speaks to an identity provider, one folder per provider: its client, its error
//! classification and its call policy (budgets, retries, backoff). The rest of the portal reaches
//! a provider only through what this module exports.

pub mod docusign;
