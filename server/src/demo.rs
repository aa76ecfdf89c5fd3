//! `consent-portal demo`: the portal on a local SQLite database (in `data/demo` unless
//! `PORTAL_DATA_DIR` says otherwise) with demo staff and tenants, seeded once.

use app::auth::Role;
use app::staff::api::NewStaffInput;
use app::tenants::api::{Environment, TenantInput};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use crate::audit::Actor;
use crate::config::Config;
use crate::db::entities::staff_user;
use crate::{db, staff, telemetry, tenants};

/// The demo sign-ins (local demo data only; never used outside `demo`).
pub const DEMO_STAFF: &[(&str, Role, &str)] = &[
    ("admin@demo.test", Role::Admin, "demo-admin-password"),
    ("config@demo.test", Role::ConfigStaff, "demo-config-password"),
    ("manager@demo.test", Role::AccountManager, "demo-manager-password"),
];

/// Seeds the demo data (once) and serves the portal.
pub async fn run() -> anyhow::Result<()> {
    let config = Config::load_with_data_dir("data/demo")?;
    if config.database_url.is_some() {
        anyhow::bail!("demo runs on its own SQLite database; unset DATABASE_URL");
    }
    telemetry::init(config.log_format);
    let db = db::connect_and_migrate(&config.database_url()).await?;
    seed(&db).await?;
    println!();
    println!("  Consent Portal demo: {}", config.public_url);
    for (email, role, password) in DEMO_STAFF {
        println!("  sign in as {email:<20} password {password:<24} ({})", role.label());
    }
    println!("  data: {}", config.data_dir.display());
    println!();
    crate::cli::serve(config).await
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
