//! `consent-portal demo`: the portal on a local SQLite database (in `data/demo` unless
//! `PORTAL_DATA_DIR` says otherwise) with demo staff and tenants, seeded once, wired to the
//! built-in DocuSign sandbox (one per environment, over HTTP like the real thing). A local
//! encryption key and ISV RSA key are generated on first run and kept in the data folder.

use app::auth::Role;
use app::staff::api::NewStaffInput;
use app::environment::Environment;
use app::tenants::api::TenantInput;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use secrecy::SecretString;

use crate::audit::Actor;
use crate::config::{Config, IsvEnvironment};
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::db::entities::staff_user;
use crate::{db, staff, telemetry, tenants};

/// The demo sign-ins (local demo data only; never used outside `demo`).
pub const DEMO_STAFF: &[(&str, Role, &str)] = &[
    ("admin@demo.test", Role::Admin, "demo-admin-password"),
    ("config@demo.test", Role::ConfigStaff, "demo-config-password"),
    ("manager@demo.test", Role::AccountManager, "demo-manager-password"),
];

/// Seeds the demo data (once), starts the DocuSign sandbox (one per environment) and serves the
/// portal wired to it.
pub async fn run() -> anyhow::Result<()> {
    let mut config = Config::load_with_data_dir("data/demo")?;
    if config.database_url.is_some() {
        anyhow::bail!("demo runs on its own SQLite database; unset DATABASE_URL");
    }
    telemetry::init(config.log_format);
    std::fs::create_dir_all(&config.data_dir)?;
    let mut notes = Vec::new();
    if config.encryption_keys.is_none() {
        let (spec, created) = local_secret(&config.data_dir.join("encryption.key"), || crate::crypto::Keyring::generate_spec(1))?;
        if created {
            notes.push(format!("generated a local encryption key in {}", config.data_dir.join("encryption.key").display()));
        }
        config.encryption_keys = Some(SecretString::from(spec));
    }
    let (private_pem, _) = local_secret(&config.data_dir.join("isv-private-key.pem"), generate_rsa_pem)?;
    let public_pem = public_pem_of(&private_pem)?;
    let mut sandboxes = Vec::new();
    for env in Environment::ALL {
        let redirect = config.public_url.join(&format!("oauth/callback/{}", env.as_str()))?;
        let sandbox = Sandbox::start(SandboxConfig {
            enable_control: true,
            registered_redirect_uris: vec![redirect.to_string()],
            public_key_pem: Some(public_pem.clone()),
            ..SandboxConfig::default()
        })
        .await?;
        let isv = IsvEnvironment {
            account_server: sandbox.account_server_url().parse()?,
            admin_api: sandbox.admin_api_url().parse()?,
            integration_key: sandbox.integration_key().to_owned(),
            client_secret: SecretString::from(sandbox.client_secret().to_owned()),
            private_key_pem: Some(SecretString::from(private_pem.clone())),
            private_key_file: None,
            redirect_uri: redirect,
            scopes: vec!["signature".into(), "impersonation".into()],
            admin_scopes: vec!["organization_read".into(), "domain_read".into(), "user_read".into()],
            keep_refresh_tokens: true,
            allowed_base_uri_hosts: vec!["127.0.0.1".into()],
            setup: demo_setup_profile(&config.public_url),
            // The sandbox accounts sign Connect messages with their fixture keys.
            connect_hmac_keys: sandbox
                .fixture()
                .accounts
                .iter()
                .flat_map(|a| a.hmac_keys.iter().cloned())
                .map(SecretString::from)
                .collect(),
        };
        match env {
            Environment::Demo => config.docusign.demo = Some(isv),
            Environment::Production => config.docusign.production = Some(isv),
        }
        sandboxes.push((env, sandbox));
    }
    // The demo's webhook receivers run on this machine (plain http on loopback).
    config.webhooks.allow_loopback_http = true;
    let db = db::connect_and_migrate(&config.database_url()).await?;
    seed(&db).await?;
    println!();
    println!("  Consent Portal demo: {}", config.public_url);
    for (email, role, password) in DEMO_STAFF {
        println!("  sign in as {email:<20} password {password:<24} ({})", role.label());
    }
    for (env, sb) in &sandboxes {
        println!("  DocuSign sandbox ({}): {}  control: {}", env.as_str(), sb.account_server_url(), sb.control_url().unwrap_or_default());
    }
    println!("  sandbox users sign in by picking them (e.g. mia@initech.example, ada.admin@acme.example)");
    println!("  data: {}", config.data_dir.display());
    for note in notes {
        println!("  note: {note}");
    }
    println!();
    let served = crate::startup::serve(config).await;
    drop(sandboxes);
    served
}

/// The setup profile of the demo: the default, with the listener on this portal.
fn demo_setup_profile(public_url: &url::Url) -> crate::checks::SetupProfile {
    let mut profile = crate::checks::SetupProfile::default();
    profile.connect.listener_url_template = format!("{}connect/{{tenant}}", public_url.as_str().trim_end_matches('/').to_owned() + "/");
    // The demo's listener is plain http on loopback, which DocuSign accepts only with this on.
    profile.required_settings.insert("allowConnectHttpListenerConfigs".into(), "true".into());
    profile
}

/// Reads a local secret file, or creates it (mode 600) with `make()`; says whether it created it.
fn local_secret(path: &std::path::Path, make: impl FnOnce() -> String) -> anyhow::Result<(String, bool)> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok((existing.trim().to_owned(), false));
    }
    let value = make();
    std::fs::write(path, &value)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok((value, true))
}

/// A new 2048-bit RSA private key in PKCS#8 PEM.
pub fn generate_rsa_pem() -> String {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation");
    key.to_pkcs8_pem(LineEnding::LF).expect("PEM encoding").to_string()
}

/// The public key (SPKI PEM) of a private key PEM.
pub fn public_pem_of(private_pem: &str) -> anyhow::Result<String> {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem)?;
    Ok(rsa::RsaPublicKey::from(&key).to_public_key_pem(LineEnding::LF)?)
}

/// Seeds demo staff and tenants when the database has no staff yet.
pub async fn seed(db: &DatabaseConnection) -> anyhow::Result<()> {
    if staff_user::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let actor = Actor::system("demo seed");
    let mut manager_id = None;
    for (email, role, password) in DEMO_STAFF {
        let id = staff::create(db, &actor, None, NewStaffInput { email: (*email).into(), role: *role, password: (*password).into() })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if *role == Role::AccountManager {
            manager_id = Some(id);
        }
    }
    let tenants_to_seed = [
        ("Acme Corporation", "acme", Environment::Demo, "it-admin@acme.test", manager_id),
        ("Globex Industries", "globex", Environment::Demo, "docusign-admin@globex.test", None),
        ("Initech", "initech", Environment::Production, "ops@initech.test", manager_id),
    ];
    for (name, slug, environment, email, manager) in tenants_to_seed {
        let input = TenantInput {
            display_name: name.into(),
            slug: slug.into(),
            environment,
            contact_email: email.into(),
            account_manager_id: manager,
            notes: "Demo tenant.".into(),
        };
        tenants::create(db, &actor, None, input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}
