//! A whole round through the services, as the province, the experts and the public meet it,
//! with the audit trail it leaves.

use jiqun::app::Principal;
use jiqun::services::rounds::{self, OpenRoundInput};
use jiqun::store::entity::{organisation, user};
use jiqun_domain::access::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::support::{self, TestApp};

/// The demo account as a principal of the services.
pub async fn principal(t: &TestApp, username: &str) -> Principal {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&t.app.db)
        .await
        .expect("user query")
        .expect("demo user");
    let org = organisation::Entity::find_by_id(u.org_id)
        .one(&t.app.db)
        .await
        .expect("org query")
        .expect("org");
    Principal {
        role: Role::from_key(&u.role).expect("role"),
        user: u,
        org,
        client_addr: "127.0.0.1".into(),
    }
}

/// Beijing time "YYYY-MM-DDTHH:MM", `days` from the test clock's now.
pub fn local_in(t: &TestApp, days: i64) -> String {
    jiqun::services::competitions::datetime_local_value(
        t.app.clock.now() + time::Duration::days(days),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preliminary_round_is_opened_and_assigned_without_conflicts() {
    let t = support::spawn().await;
    let show = jiqun::demo::seed_showcase(&t.app).await.expect("showcase");
    let province = principal(&t, "province").await;
    let input = OpenRoundInput {
        kind: "preliminary".into(),
        experts_per_application: 3,
        panel_note: "演示：专家库规模有限".into(),
        quotas: [("leading".to_string(), 1), ("specialty".to_string(), 1)]
            .into_iter()
            .collect(),
        scoring_opens_at: local_in(&t, 0),
        scoring_closes_at: local_in(&t, 7),
        defence: false,
    };
    let r = rounds::open_round(&t.app, &province, show.competition_id, &input)
        .await
        .expect("open");
    let entries = rounds::entries(&t.app.db, r.id).await.unwrap();
    assert_eq!(entries.len(), 3);
    let pool: Vec<i64> = jiqun::store::entity::expert::Entity::find()
        .all(&t.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    rounds::set_panel(&t.app, &province, r.id, &pool, &[])
        .await
        .expect("panel");
    let out = rounds::auto_assign(&t.app, &province, r.id)
        .await
        .expect("assign");
    assert_eq!(out.added, 9, "{out:?}");
    assert!(out.shortfalls.is_empty());
    rounds::open_scoring(&t.app, &province, r.id)
        .await
        .expect("open scoring");
}
