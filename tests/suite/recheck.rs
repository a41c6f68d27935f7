//! 复核 (第十四条): the clusters whose live title falls due in a year, by scope.

use serde_json::Value;

use crate::fixtures::{CHANGSHA, confirmed_round, field_message, get_page};
use crate::revocation::revoke_by_case;
use crate::support;
use crate::{call, token};

fn names(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["cluster_name"].as_str().unwrap().to_string(),
                r["due_on"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clusters_due_in_a_year_are_listed_three_years_after_designation() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let province = token(&t, "province").await;
    let due = |year: &str| format!("/api/v1/rechecks/due?year={year}");
    let (status, v) = call(&t, &province, "GET", &due("2029"), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        names(&v),
        [
            (CHANGSHA.to_string(), "2029-12-04".to_string()),
            ("岳阳石化产业集群".to_string(), "2029-12-04".to_string())
        ]
    );
    assert_eq!(v[0]["certificate_number"], "湘集群培〔2026〕第001号");
    for year in ["2027", "2028", "2030"] {
        let (_, v) = call(&t, &province, "GET", &due(year), None).await;
        assert_eq!(names(&v), [], "{year}");
    }
    let (_, v) = call(&t, &province, "GET", &due("2032"), None).await;
    assert_eq!(names(&v).len(), 2);
    let (status, v) = call(&t, &province, "GET", &due("明年"), None).await;
    assert_eq!(status, 422);
    assert!(field_message(&v, "year").contains("明年"), "{v}");

    // Each reader within its scope.
    let (_, v) = call(&t, &token(&t, "changsha").await, "GET", &due("2029"), None).await;
    assert_eq!(names(&v).len(), 1);
    assert_eq!(v[0]["cluster_name"], CHANGSHA);
    let (_, v) = call(
        &t,
        &token(&t, "applicant2").await,
        "GET",
        &due("2029"),
        None,
    )
    .await;
    assert_eq!(v[0]["cluster_name"], "岳阳石化产业集群");
    assert_eq!(names(&v).len(), 1);
    let (status, _) = call(&t, &token(&t, "partner").await, "GET", &due("2029"), None).await;
    assert_eq!(status, 403);

    // A revoked title is no longer due.
    revoke_by_case(&t, f.entries[2].cluster_id, "applicant2").await;
    let (_, v) = call(&t, &province, "GET", &due("2029"), None).await;
    assert_eq!(
        names(&v),
        [(CHANGSHA.to_string(), "2029-12-04".to_string())]
    );
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, "/rechecks/due?year=2029").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("2029年12月4日") && html.contains(CHANGSHA),
        "{html}"
    );
}
