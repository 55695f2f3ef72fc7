//! The workflow pages render (admin-only ones refuse agents), admin forms work without
//! JavaScript, and every workflow endpoint is in the OpenAPI document.

use serde_json::json;

use crate::support::TestServer;

#[tokio::test]
async fn workflow_pages_render_and_endpoints_are_documented() {
    let t = TestServer::start().await;
    let (_, agent) = t.user("pat", "agent").await;
    for p in [
        "/admin/templates",
        "/admin/canned",
        "/admin/workflow",
        "/admin/pbx",
        "/admin/blocks",
    ] {
        let r = t.admin.get(p).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text());
        assert_eq!(agent.get(p).await.status, 403, "{p}");
    }
    for p in ["/contacts", "/reports", "/canned"] {
        assert_eq!(agent.get(p).await.status, 200, "{p}");
    }
    // Admin forms work without JavaScript.
    let r = t
        .admin
        .post_form(
            "/admin/workflow",
            &[("tags", "billing\nvip"), ("results", "solved")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        t.admin.get("/api/v1/tags").await.json()["items"],
        json!(["billing", "vip"])
    );
    let r = t
        .admin
        .post_form(
            "/admin/templates",
            &[
                ("name", "welcome"),
                ("language", "de"),
                ("body", "Hallo {{1}}"),
                ("channel_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(
        t.admin
            .get("/admin/templates")
            .await
            .text()
            .contains("Hallo {{1}}")
    );
    let r = t
        .admin
        .post_form(
            "/admin/pbx",
            &[
                ("kind", "ami"),
                ("host", "127.0.0.1"),
                ("port", "5038"),
                ("username", "u"),
                ("secret", "s3cr3t-value-long"),
                ("context", "from-internal"),
                ("caller_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let page = t.admin.get("/admin/pbx").await.text();
    assert!(
        !page.contains("s3cr3t-value-long"),
        "secrets are never shown back"
    );
    let doc = t.admin.get("/api/v1/openapi.json").await.json();
    for p in [
        "/api/v1/sessions/{id}/transfer",
        "/api/v1/sessions/{id}/tags",
        "/api/v1/sessions/{id}/timeline",
        "/api/v1/sessions/{id}/call",
        "/api/v1/calls",
        "/api/v1/templates",
        "/api/v1/canned",
        "/api/v1/tags",
        "/api/v1/results",
        "/api/v1/contacts",
        "/api/v1/contacts/{id}/merge",
        "/api/v1/contacts/{id}/block",
        "/api/v1/blocks",
        "/api/v1/pbx",
        "/api/v1/reports",
        "/api/v1/reports.csv",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} documented");
    }
    t.stop().await;
}
