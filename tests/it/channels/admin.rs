//! The channels API (admins; agents read their own channels without secrets) and admin page.

use serde_json::json;
use switchboard::ids::ChannelId;

use super::*;
use crate::fakes::whatsapp;

#[tokio::test]
async fn channels_api_masks_secrets_and_limits_agents_to_their_channels() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let (agent_id, agent) = t.user("ann", "agent").await;
    let r = t.admin.get(&format!("/api/v1/channels/{ch}")).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["kind"], "whatsapp");
    assert_ne!(v["credentials"]["access_token"], whatsapp::TOKEN);
    assert!(
        v["credentials"]["access_token"]
            .as_str()
            .unwrap()
            .starts_with('•')
    );
    assert!(!r.text().contains(whatsapp::APP_SECRET));
    assert_eq!(
        v["webhook_urls"][0],
        format!("{}/hooks/whatsapp/{ch}", t.base())
    );
    assert!(v["health"].is_object());
    // Agents: not a member → not found; cannot create.
    assert_eq!(
        agent.get(&format!("/api/v1/channels/{ch}")).await.status,
        404
    );
    assert!(
        agent
            .get("/api/v1/channels")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = agent
        .post("/api/v1/channels", json!({"kind": "sms", "name": "x"}))
        .await;
    assert_eq!(r.status, 403);
    // Membership through PATCH; masked values sent back keep the stored secret.
    let masked = v["credentials"].clone();
    let r = t
        .admin
        .patch(
            &format!("/api/v1/channels/{ch}"),
            json!({"members": [agent_id], "name": "WhatsApp Sales", "credentials": masked}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let stored = t
        .state()
        .store
        .read(move |rtx| switchboard::domain::channels::get(rtx, ChannelId(ch)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.credentials.access_token, whatsapp::TOKEN);
    let r = agent.get(&format!("/api/v1/channels/{ch}")).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["name"], "WhatsApp Sales");
    assert_eq!(v["credentials"]["access_token"], "");
    assert!(v["webhook_urls"].as_array().unwrap().is_empty());
    assert_eq!(
        agent
            .patch(&format!("/api/v1/channels/{ch}"), json!({"name": "x"}))
            .await
            .status,
        403
    );
    // Validation and delete.
    let r = t
        .admin
        .post("/api/v1/channels", json!({"name": "no kind"}))
        .await;
    assert_eq!(r.status, 422);
    let r = t
        .admin
        .post(
            "/api/v1/channels",
            json!({"kind": "sms", "name": "S", "max_file_mb": 500}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(
        t.admin
            .delete(&format!("/api/v1/channels/{ch}"))
            .await
            .status,
        204
    );
    assert_eq!(
        t.admin.get(&format!("/api/v1/channels/{ch}")).await.status,
        404
    );
    let openapi = t.admin.get("/api/v1/openapi.json").await.text();
    assert!(openapi.contains("/api/v1/channels/{id}"));
    t.stop().await;
}

#[tokio::test]
async fn admin_page_lists_webhook_urls_and_health_and_creates_channels() {
    let t = TestServer::start().await;
    let (agent_id, _) = t.user("bea", "agent").await;
    let r = t
        .admin
        .post_form(
            "/admin/channels",
            &[
                ("kind", "sms"),
                ("name", "Front desk SMS"),
                ("account_sid", "AC123"),
                ("auth_token", "supersecret-token-1"),
                ("from_number", "+4930123456"),
                ("members_present", "1"),
                ("members", &agent_id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let page = t.admin.get("/admin/channels").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Front desk SMS"));
    let page = t.admin.get("/admin/channels/1").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains(&format!("{}/hooks/twilio/1/status", t.base())),
        "{html}"
    );
    assert!(html.contains("Last inbound:"));
    assert!(!html.contains("supersecret-token-1"));
    assert!(html.contains("data-copy="));
    // Required provider fields are refused by name.
    let r = t
        .admin
        .post_form("/admin/channels", &[("kind", "whatsapp"), ("name", "WA")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("Phone number ID"), "{}", r.text());
    let list = t.admin.get("/api/v1/channels").await.json();
    assert_eq!(list[0]["members"], json!([agent_id]));
    // Edit through the form: rename, members cleared, secret kept when left empty.
    let r = t
        .admin
        .post_form(
            "/admin/channels/1",
            &[
                ("name", "Renamed"),
                ("auth_token", ""),
                ("members_present", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let v = t.admin.get("/api/v1/channels/1").await.json();
    assert_eq!(v["name"], "Renamed");
    assert_eq!(v["members"], json!([]));
    assert_eq!(v["credentials"]["auth_token"], "••••en-1");
    // Bad input is shown on the page, not a crash.
    let r = t
        .admin
        .post_form("/admin/channels", &[("kind", "fax"), ("name", "x")])
        .await;
    assert_eq!(r.status, 422);
    t.stop().await;
}
