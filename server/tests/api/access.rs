//! The access matrix: every server function × {anonymous, account manager assigned / not
//! assigned, config staff, admin}, called over the router as a browser would.

use http::StatusCode;

use crate::support::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Anonymous,
    AssignedManager,
    OtherManager,
    ConfigStaff,
    Admin,
    /// A customer admin in an invite session for tenant A.
    Invitee,
}

/// A server function, its form, and the status the caller must get.
type Case = (&'static str, Vec<(String, String)>, StatusCode);

const EVERYONE: [Who; 6] = [Who::Anonymous, Who::AssignedManager, Who::OtherManager, Who::ConfigStaff, Who::Admin, Who::Invitee];

#[test]
fn every_registered_server_function_has_an_access_policy() {
    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p.to_owned()).collect();
    assert!(!registered.is_empty());
    for path in &registered {
        assert!(app::policy::server_fn_access(path).is_some(), "{path} has no entry in app::policy::SERVER_FN_POLICY");
    }
    for (path, _) in app::policy::SERVER_FN_POLICY {
        assert!(registered.iter().any(|p| p == path), "{path} is in the policy table but no server function serves it");
    }
}

#[tokio::test]
async fn the_access_matrix_holds_for_every_server_function() {
    let t = TestApp::new().await;
    let w = &t.world;
    let mut cookies = std::collections::HashMap::new();
    cookies.insert(Who::AssignedManager, t.sign_in("am-a@isv.test").await);
    cookies.insert(Who::OtherManager, t.sign_in("am-b@isv.test").await);
    cookies.insert(Who::ConfigStaff, t.sign_in("config@isv.test").await);
    cookies.insert(Who::Admin, t.sign_in("admin@isv.test").await);
    let token = t.invite_token(cookies.get(&Who::ConfigStaff).map(String::as_str), w.tenant_a).await;
    let redeemed = t.call("/api/onboarding/redeem_invite", None, &[("token", &token)]).await;
    cookies.insert(Who::Invitee, cookie_from(&redeemed.headers).expect("an invite session"));
    let mut exercised = std::collections::BTreeSet::new();

    let (ta, tb, mb) = (w.tenant_a.to_string(), w.tenant_b.to_string(), w.manager_b.to_string());
    use StatusCode as S;
    let deny_am = |who: Who, ok: S| match who {
        Who::Anonymous => S::UNAUTHORIZED,
        Who::AssignedManager | Who::OtherManager | Who::Invitee => S::FORBIDDEN,
        _ => ok,
    };
    // Staff-only reads: an invite session is refused, an anonymous caller must sign in.
    let staff_read = |who: Who, ok: S| match who {
        Who::Anonymous => S::UNAUTHORIZED,
        Who::Invitee => S::FORBIDDEN,
        _ => ok,
    };
    let only_invitee = |who: Who, ok: S| match who {
        Who::Anonymous => S::UNAUTHORIZED,
        Who::Invitee => ok,
        _ => S::FORBIDDEN,
    };
    let only_admin = |who: Who| match who {
        Who::Admin => S::OK,
        other => deny_am(other, S::FORBIDDEN),
    };
    let only_admin_gets = |who: Who, ok: S| match who {
        Who::Admin => ok,
        other => deny_am(other, S::FORBIDDEN),
    };
    for who in EVERYONE {
        let cookie = cookies.get(&who).map(String::as_str);
        let tag = format!("{who:?}").to_lowercase();
        let slug = format!("new-{tag}");
        let email = format!("new-{tag}@isv.test");
        let tenant_form = |slug: &str| {
            vec![
                ("input[display_name]".to_owned(), "New".to_owned()),
                ("input[slug]".to_owned(), slug.to_owned()),
                ("input[environment]".to_owned(), "production".to_owned()),
                ("input[contact_email]".to_owned(), "a@b.test".to_owned()),
                ("input[account_manager_id]".to_owned(), String::new()),
                ("input[notes]".to_owned(), String::new()),
            ]
        };
        let mut update_form = tenant_form("acme");
        update_form.push(("id".into(), ta.clone()));
        let cases: Vec<Case> = vec![
            ("/api/auth/me", vec![], S::OK),
            // Anyone may try to sign in; a wrong pair is a field error (a distinct account per
            // caller: failures are throttled per account and address).
            ("/api/auth/sign_in", vec![("email".into(), format!("ghost-{tag}@isv.test")), ("password".into(), "not-the-password".into())], S::UNPROCESSABLE_ENTITY),
            ("/api/tenants/list", vec![("include_archived".into(), "false".into())], staff_read(who, S::OK)),
            ("/api/tenants/page", vec![("query[include_archived]".into(), "false".into()), ("query[q]".into(), "acme".into())], staff_read(who, S::OK)),
            ("/api/tenants/get", vec![("id".into(), ta.clone())], staff_read(who, if who == Who::OtherManager { S::NOT_FOUND } else { S::OK })),
            (
                "/api/tenants/get",
                vec![("id".into(), tb.clone())],
                staff_read(who, if matches!(who, Who::AssignedManager | Who::OtherManager) { S::NOT_FOUND } else { S::OK }),
            ),
            // Scoped like tenants/get: another manager's tenant is "not found".
            (
                "/api/tenants/timeline",
                vec![("id".into(), ta.clone()), ("query[kind]".into(), "consent".into())],
                staff_read(who, if who == Who::OtherManager { S::NOT_FOUND } else { S::OK }),
            ),
            (
                "/api/tenants/timeline",
                vec![("id".into(), tb.clone()), ("query[kind]".into(), "invites".into())],
                staff_read(who, if matches!(who, Who::AssignedManager | Who::OtherManager) { S::NOT_FOUND } else { S::OK }),
            ),
            ("/api/audit/log", vec![("query[actor]".into(), "isv".into())], staff_read(who, S::OK)),
            ("/api/tenants/overview", vec![], staff_read(who, S::OK)),
            ("/api/tenants/create", tenant_form(&slug), deny_am(who, S::OK)),
            ("/api/tenants/update", update_form, deny_am(who, S::OK)),
            ("/api/tenants/archive", vec![("id".into(), tb.clone())], deny_am(who, S::OK)),
            ("/api/tenants/restore", vec![("id".into(), tb.clone())], deny_am(who, S::OK)),
            ("/api/staff/account_managers", vec![], deny_am(who, S::OK)),
            ("/api/staff/list", vec![], only_admin(who)),
            (
                "/api/staff/create",
                vec![
                    ("input[email]".into(), email.clone()),
                    ("input[role]".into(), "account_manager".into()),
                    ("input[password]".into(), PASSWORD.into()),
                ],
                only_admin(who),
            ),
            ("/api/staff/set_active", vec![("id".into(), mb.clone()), ("active".into(), "true".into())], only_admin(who)),
            ("/api/api_clients/list", vec![], only_admin(who)),
            (
                "/api/api_clients/create",
                vec![("input[name]".into(), format!("client {tag}")), ("input[env_demo]".into(), "on".into()), ("input[scope_tenants_read]".into(), "on".into())],
                only_admin(who),
            ),
            // Unknown id: the admin hears "not found", everyone else is refused before the lookup.
            ("/api/api_clients/revoke", vec![("id".into(), uuid::Uuid::new_v4().to_string())], if who == Who::Admin { S::NOT_FOUND } else { deny_am(who, S::FORBIDDEN) }),
            ("/api/onboarding/tenant_consent", vec![("tenant_id".into(), ta.clone())], staff_read(who, if who == Who::OtherManager { S::NOT_FOUND } else { S::OK })),
            ("/api/onboarding/create_invite", vec![("tenant_id".into(), tb.clone())], deny_am(who, S::OK)),
            ("/api/onboarding/revoke_invite", vec![("invite_id".into(), uuid::Uuid::new_v4().to_string())], deny_am(who, S::NOT_FOUND)),
            // No DocuSign environment is configured in this app: a conflict, after authorization.
            ("/api/onboarding/staff_verify", vec![("tenant_id".into(), ta.clone())], deny_am(who, S::CONFLICT)),
            ("/api/onboarding/invite_landing", vec![("token".into(), "nope".into())], S::NOT_FOUND),
            // A distinct bad link per caller: failures are throttled per link.
            ("/api/onboarding/redeem_invite", vec![("token".into(), format!("nope-{tag}"))], S::NOT_FOUND),
            ("/api/onboarding/request_invite_link", vec![("token".into(), format!("nope-ask-{tag}"))], S::NOT_FOUND),
            ("/api/onboarding/end_customer_sessions", vec![("tenant_id".into(), tb.clone())], deny_am(who, S::OK)),
            // Wizard functions belong to invite sessions only: staff are refused too. No DocuSign
            // environment is configured here, so those that need one answer 409 to the invitee.
            ("/api/wizard/status", vec![], only_invitee(who, S::OK)),
            ("/api/wizard/verify", vec![], only_invitee(who, S::CONFLICT)),
            ("/api/wizard/choose_account", vec![("account_id".into(), "x".into())], only_invitee(who, S::CONFLICT)),
            ("/api/wizard/name_system_user", vec![("input[user]".into(), "a@b.test".into())], only_invitee(who, S::CONFLICT)),
            ("/api/wizard/check_organization", vec![], only_invitee(who, S::CONFLICT)),
            // Nothing was read of an organization in this session yet: a conflict.
            ("/api/wizard/intended_system_user", vec![("input[email]".into(), "a@b.test".into())], only_invitee(who, S::CONFLICT)),
            ("/api/wizard/check_latest", vec![], only_invitee(who, S::OK)),
            ("/api/wizard/check_start", vec![], only_invitee(who, S::CONFLICT)),
            ("/api/wizard/check_run_one", vec![("run_id".into(), uuid::Uuid::new_v4().to_string()), ("check_id".into(), "system_user".into())], only_invitee(who, S::CONFLICT)),
            ("/api/wizard/check_apply_fix", vec![("run_id".into(), uuid::Uuid::new_v4().to_string()), ("check_id".into(), "account_settings".into())], only_invitee(who, S::CONFLICT)),
            // Setup-check functions for staff: account managers read their own tenants only.
            ("/api/checks/latest", vec![("tenant_id".into(), ta.clone())], staff_read(who, if who == Who::OtherManager { S::NOT_FOUND } else { S::OK })),
            ("/api/checks/history", vec![("tenant_id".into(), ta.clone())], staff_read(who, if who == Who::OtherManager { S::NOT_FOUND } else { S::OK })),
            ("/api/checks/start", vec![("tenant_id".into(), ta.clone())], deny_am(who, S::CONFLICT)),
            ("/api/checks/run_one", vec![("tenant_id".into(), ta.clone()), ("run_id".into(), uuid::Uuid::new_v4().to_string()), ("check_id".into(), "system_user".into())], deny_am(who, S::CONFLICT)),
            ("/api/checks/apply_fix", vec![("tenant_id".into(), ta.clone()), ("run_id".into(), uuid::Uuid::new_v4().to_string()), ("check_id".into(), "account_settings".into())], deny_am(who, S::CONFLICT)),
            ("/api/checks/attest", vec![("tenant_id".into(), ta.clone()), ("justification".into(), "Seen the domain as active in DocuSign admin.".into())], deny_am(who, S::CONFLICT)),
            // Overrides: every staff member who sees the tenant reads them; config staff and
            // admins decide (here tenant A has no check run, so there is nothing to override: 422
            // after authorization; nothing is in force to withdraw: 404).
            ("/api/overrides/active", vec![("tenant_id".into(), ta.clone())], staff_read(who, if who == Who::OtherManager { S::NOT_FOUND } else { S::OK })),
            (
                "/api/overrides/create",
                vec![
                    ("tenant_id".into(), ta.clone()),
                    ("input[subject]".into(), "account_settings".into()),
                    ("input[justification]".into(), "Agreed with the customer on a call.".into()),
                    ("input[expires_in_days]".into(), "30".into()),
                ],
                deny_am(who, S::UNPROCESSABLE_ENTITY),
            ),
            ("/api/overrides/withdraw", vec![("tenant_id".into(), ta.clone()), ("subject".into(), "consent".into())], deny_am(who, S::NOT_FOUND)),
            // Webhook endpoints: administrators only (an unknown id is 404 after authorization).
            ("/api/webhooks/list", vec![], only_admin(who)),
            (
                "/api/webhooks/create",
                vec![
                    ("input[environment]".into(), "demo".into()),
                    ("input[url]".into(), format!("https://hooks.example.com/{tag}")),
                    ("input[event_types][0]".into(), "tenant.consent.revoked".into()),
                ],
                only_admin(who),
            ),
            ("/api/webhooks/disable", vec![("id".into(), uuid::Uuid::new_v4().to_string())], only_admin_gets(who, S::NOT_FOUND)),
            ("/api/webhooks/deliveries", vec![("endpoint_id".into(), uuid::Uuid::new_v4().to_string())], only_admin_gets(who, S::NOT_FOUND)),
            ("/api/webhooks/redeliver", vec![("delivery_id".into(), uuid::Uuid::new_v4().to_string())], only_admin_gets(who, S::NOT_FOUND)),
            // Last: these end sessions (the caller's own, or manager B's).
            ("/api/staff/end_sessions", vec![("id".into(), mb.clone())], only_admin(who)),
            ("/api/wizard/leave", vec![], only_invitee(who, S::OK)),
            ("/api/auth/sign_out", vec![], S::OK),
        ];
        for (path, form, expected) in cases {
            exercised.insert(path.to_owned());
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let reply = t.call(path, cookie, &form).await;
            assert_eq!(reply.status, expected, "{who:?} calling {path}: {}", reply.body);
        }
    }
    let listed: std::collections::BTreeSet<String> = app::policy::SERVER_FN_POLICY.iter().map(|(p, _)| (*p).to_owned()).collect();
    let missing: Vec<&String> = listed.difference(&exercised).collect();
    assert!(missing.is_empty(), "server functions not in the matrix: {missing:?}");
}

#[tokio::test]
async fn the_access_matrix_holds_for_every_plain_route() {
    let t = TestApp::new().await;
    let staff = t.sign_in("config@isv.test").await;
    let token = t.invite_token(Some(&staff), t.world.tenant_a).await;
    let invitee = cookie_from(&t.call("/api/onboarding/redeem_invite", None, &[("token", &token)]).await.headers).unwrap();
    let mut exercised = std::collections::BTreeSet::new();
    for (who, cookie) in [("anonymous", None), ("staff", Some(staff.as_str())), ("invitee", Some(invitee.as_str()))] {
        let is_invitee = who == "invitee";
        let cases: Vec<(&str, &str, http::Request<axum::body::Body>, Vec<StatusCode>)> = vec![
            ("GET", "/healthz", http::Request::get("/healthz").body(axum::body::Body::empty()).unwrap(), vec![StatusCode::OK]),
            (
                "POST",
                "/oauth/start",
                {
                    let mut r = http::Request::post("/oauth/start").header(http::header::ORIGIN, ORIGIN).header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                    if let Some(c) = cookie { r = r.header(http::header::COOKIE, c); }
                    r.body(axum::body::Body::from("purpose=sign_in")).unwrap()
                },
                // Only an invite session may start a DocuSign flow (here the environment is not
                // configured, which the wizard explains after a redirect).
                if is_invitee { vec![StatusCode::SEE_OTHER] } else { vec![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::SEE_OTHER] },
            ),
            (
                "GET",
                "/oauth/callback/demo",
                {
                    let mut r = http::Request::get("/oauth/callback/demo?code=c&state=s");
                    if let Some(c) = cookie { r = r.header(http::header::COOKIE, c); }
                    r.body(axum::body::Body::empty()).unwrap()
                },
                if is_invitee { vec![StatusCode::SEE_OTHER] } else { vec![StatusCode::UNAUTHORIZED] },
            ),
            (
                "GET",
                "/oauth/callback/production",
                {
                    let mut r = http::Request::get("/oauth/callback/production?code=c&state=s");
                    if let Some(c) = cookie { r = r.header(http::header::COOKIE, c); }
                    r.body(axum::body::Body::empty()).unwrap()
                },
                if is_invitee { vec![StatusCode::SEE_OTHER] } else { vec![StatusCode::UNAUTHORIZED] },
            ),
            (
                "POST",
                "/connect/{tenant_id}",
                http::Request::post(format!("/connect/{}", t.world.tenant_a)).body(axum::body::Body::from("{}")).unwrap(),
                // Authenticated by the message signature, whoever the caller is.
                vec![StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE],
            ),
            (
                "GET",
                "/tenants/export.csv",
                {
                    let mut r = http::Request::get("/tenants/export.csv");
                    if let Some(c) = cookie { r = r.header(http::header::COOKIE, c); }
                    r.body(axum::body::Body::empty()).unwrap()
                },
                // Staff only: anyone else is sent to sign in, before any row is read.
                if who == "staff" { vec![StatusCode::OK] } else { vec![StatusCode::SEE_OTHER] },
            ),
            (
                "GET",
                "/tenants/receipts.csv",
                {
                    let mut r = http::Request::get("/tenants/receipts.csv");
                    if let Some(c) = cookie { r = r.header(http::header::COOKIE, c); }
                    r.body(axum::body::Body::empty()).unwrap()
                },
                if who == "staff" { vec![StatusCode::OK] } else { vec![StatusCode::SEE_OTHER] },
            ),
            (
                "GET",
                "/audit/export.csv",
                {
                    let mut r = http::Request::get("/audit/export.csv");
                    if let Some(c) = cookie { r = r.header(http::header::COOKIE, c); }
                    r.body(axum::body::Body::empty()).unwrap()
                },
                if who == "staff" { vec![StatusCode::OK] } else { vec![StatusCode::SEE_OTHER] },
            ),
        ];
        for (method, route, req, allowed) in cases {
            exercised.insert((method.to_owned(), route.to_owned()));
            let reply = t.send(req).await;
            assert!(allowed.contains(&reply.status), "{who} {method} {route}: {} {}", reply.status, reply.body);
            if is_invitee && route.starts_with("/oauth/callback") {
                let to = reply.headers.get(http::header::LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
                assert!(!to.contains("code=") && !to.contains("state="), "the callback never forwards its query: {to}");
            }
        }
    }
    let listed: std::collections::BTreeSet<(String, String)> = app::policy::ROUTE_POLICY.iter().map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(listed, exercised, "every plain route in the policy table is exercised, and only those");
}

#[tokio::test]
async fn an_account_manager_cannot_read_another_tenants_data_by_guessing_its_id() {
    let t = TestApp::new().await;
    let cookie = t.sign_in("am-b@isv.test").await;
    for id in [t.world.tenant_a, t.world.tenant_b, uuid::Uuid::new_v4()] {
        let reply = t.call("/api/tenants/get", Some(&cookie), &[("id", &id.to_string())]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(!reply.body.contains("acme") && !reply.body.contains("globex"), "{}", reply.body);
    }
    let list = t.call("/api/tenants/list", Some(&cookie), &[("include_archived", "true")]).await;
    assert_eq!(list.json(), serde_json::json!([]));
}

#[tokio::test]
async fn an_invite_session_reaches_only_its_own_tenant_and_no_staff_function() {
    let o = crate::onboarding::Onboarding::new(Backend::Sqlite).await;
    let b = o.redeem(&o.invite(o.app.world.tenant_a).await).await;
    let w = o.wizard(&b).await;
    assert_eq!(w["tenant_name"], "Tenant acme");
    for (path, form) in [
        ("/api/tenants/list", vec![("include_archived", "false")]),
        ("/api/tenants/get", [("id", o.app.world.tenant_b.to_string())].iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()),
        ("/api/onboarding/tenant_consent", vec![]),
        ("/api/staff/list", vec![]),
    ] {
        let r = o.app.call(path, Some(&b.cookie), &form).await;
        assert!(matches!(r.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), "{path}: {}", r.status);
    }
    let page = o.app.get("/tenants", Some(&b.cookie)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "an invitee is sent to sign-in, not shown staff pages");
}
