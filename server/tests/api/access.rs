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
}

const EVERYONE: [Who; 5] = [Who::Anonymous, Who::AssignedManager, Who::OtherManager, Who::ConfigStaff, Who::Admin];

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

    let (ta, tb, mb) = (w.tenant_a.to_string(), w.tenant_b.to_string(), w.manager_b.to_string());
    use StatusCode as S;
    let deny_am = |who: Who, ok: S| match who {
        Who::Anonymous => S::UNAUTHORIZED,
        Who::AssignedManager | Who::OtherManager => S::FORBIDDEN,
        _ => ok,
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
        let cases: Vec<(&str, Vec<(String, String)>, StatusCode)> = vec![
            ("/api/auth/me", vec![], S::OK),
            ("/api/tenants/list", vec![("include_archived".into(), "false".into())], if who == Who::Anonymous { S::UNAUTHORIZED } else { S::OK }),
            (
                "/api/tenants/get",
                vec![("id".into(), ta.clone())],
                match who {
                    Who::Anonymous => S::UNAUTHORIZED,
                    Who::OtherManager => S::NOT_FOUND,
                    _ => S::OK,
                },
            ),
            ("/api/tenants/get", vec![("id".into(), tb.clone())], match who {
                Who::Anonymous => S::UNAUTHORIZED,
                Who::AssignedManager | Who::OtherManager => S::NOT_FOUND,
                _ => S::OK,
            }),
            ("/api/tenants/create", tenant_form(&slug), deny_am(who, S::OK)),
            ("/api/tenants/update", update_form, deny_am(who, S::OK)),
            ("/api/tenants/archive", vec![("id".into(), tb.clone())], deny_am(who, S::OK)),
            ("/api/tenants/restore", vec![("id".into(), tb.clone())], deny_am(who, S::OK)),
            ("/api/staff/account_managers", vec![], deny_am(who, S::OK)),
            ("/api/staff/list", vec![], if who == Who::Admin { S::OK } else { deny_am(who, S::FORBIDDEN) }),
            (
                "/api/staff/create",
                vec![
                    ("input[email]".into(), email.clone()),
                    ("input[role]".into(), "account_manager".into()),
                    ("input[password]".into(), PASSWORD.into()),
                ],
                if who == Who::Admin { S::OK } else { deny_am(who, S::FORBIDDEN) },
            ),
            (
                "/api/staff/set_active",
                vec![("id".into(), mb.clone()), ("active".into(), "true".into())],
                if who == Who::Admin { S::OK } else { deny_am(who, S::FORBIDDEN) },
            ),
            (
                "/api/onboarding/tenant_consent",
                vec![("tenant_id".into(), ta.clone())],
                match who {
                    Who::Anonymous => S::UNAUTHORIZED,
                    Who::OtherManager => S::NOT_FOUND,
                    _ => S::OK,
                },
            ),
            ("/api/onboarding/create_invite", vec![("tenant_id".into(), tb.clone())], deny_am(who, S::OK)),
            ("/api/onboarding/revoke_invite", vec![("invite_id".into(), uuid::Uuid::new_v4().to_string())], deny_am(who, S::NOT_FOUND)),
            // No DocuSign environment is configured in this app: a conflict, after authorization.
            ("/api/onboarding/staff_verify", vec![("tenant_id".into(), ta.clone())], deny_am(who, S::CONFLICT)),
            ("/api/onboarding/invite_landing", vec![("token".into(), "nope".into())], S::NOT_FOUND),
            ("/api/onboarding/redeem_invite", vec![("token".into(), "nope".into())], S::NOT_FOUND),
            // Wizard functions belong to invite sessions only: staff are refused too.
            ("/api/wizard/status", vec![], if who == Who::Anonymous { S::UNAUTHORIZED } else { S::FORBIDDEN }),
            ("/api/wizard/verify", vec![], if who == Who::Anonymous { S::UNAUTHORIZED } else { S::FORBIDDEN }),
            ("/api/wizard/choose_account", vec![("account_id".into(), "x".into())], if who == Who::Anonymous { S::UNAUTHORIZED } else { S::FORBIDDEN }),
            ("/api/wizard/name_system_user", vec![("input[user]".into(), "a@b.test".into())], if who == Who::Anonymous { S::UNAUTHORIZED } else { S::FORBIDDEN }),
        ];
        for (path, form, expected) in cases {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let reply = t.call(path, cookie, &form).await;
            assert_eq!(reply.status, expected, "{who:?} calling {path}: {}", reply.body);
        }
    }
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
