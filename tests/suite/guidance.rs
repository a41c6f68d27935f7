//! Guided work: every irreversible step taken on a page asks for a tick whose label states the
//! consequence, and the page handler refuses a post without it (422, the Chinese message under
//! the tick, what was typed kept, nothing written); each role's to-do names the next action and
//! links to the page where it is done; multi-step objects show where they stand.

use jiqun::store::entity::{application, round};
use sea_orm::EntityTrait;
use serde_json::Value;
use time::Duration;

use crate::applications::{complete_form, open_call, started, submit_complete};
use crate::fixtures::{
    RoundPlan, get_page, open_showcase_round, panel_of, post_page, proposed_round, scoring_round,
    staff_round, stored_round,
};
use crate::support::{self, TestApp};

async fn stored_application(t: &TestApp, id: i64) -> application::Model {
    application::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("application")
}

/// The application form of `complete_form` as the page posts it: `ind.`, `nar.`, `att.` fields.
fn page_fields(form: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in form["indicators"].as_object().unwrap() {
        out.push((format!("ind.{k}"), v.as_str().unwrap().to_string()));
    }
    for (k, v) in form["narratives"].as_object().unwrap() {
        out.push((format!("nar.{k}"), v.as_str().unwrap().to_string()));
    }
    for k in form["attested"].as_array().unwrap() {
        out.push((format!("att.{}", k.as_str().unwrap()), "on".to_string()));
    }
    out
}

/// The `version` hidden field of a page's form.
fn version_in(html: &str) -> String {
    let at = html
        .find("name=\"version\" value=\"")
        .expect("version field")
        + "name=\"version\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

/// The href of the to-do whose label starts with `label` on a workbench page.
fn todo_link<'a>(html: &'a str, label: &str) -> Option<&'a str> {
    let at = html.find(&format!("\">{label}"))?;
    let start = html[..at].rfind("href=\"")? + "href=\"".len();
    Some(&html[start..at])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitting_and_the_city_decision_ask_for_a_tick_and_write_nothing_without_it() {
    let t = support::spawn().await;
    let call = open_call(&t).await;
    let (id, _) = started(
        &t,
        call,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙工程机械产业集群",
    )
    .await;
    let applicant = support::page_login(&t, "applicant").await;

    // The applicant's to-do names the action and leads to the application itself.
    let (_, home) = get_page(&applicant, &t, "/").await;
    assert_eq!(
        todo_link(&home, "待提交申报：长沙工程机械产业集群"),
        Some(format!("/applications/{id}").as_str()),
        "{home}"
    );

    // The page shows where the application stands and the tick that states the consequence.
    let (_, html) = get_page(&applicant, &t, &format!("/applications/{id}")).await;
    assert!(html.contains("class=\"steps\""), "{html}");
    assert!(html.contains("<li class=\"current\" aria-current=\"step\">填报申报材料</li>"));
    assert!(html.contains("id=\"next-action\""), "{html}");
    assert!(html.contains(
        "id=\"submit-acknowledge\" required> 我已核对申报材料，对其真实性负责。提交后申报将报送市州工信局初审"
    ));
    let csrf = support::csrf_from(&html);
    let before = stored_application(&t, id).await;

    // Without the tick: 422, the message under the tick, the typed value kept, nothing saved.
    let mut fields = page_fields(&complete_form("150"));
    fields.retain(|(k, _)| k != "ind.cluster_revenue");
    fields.push(("ind.cluster_revenue".into(), "987".into()));
    let mut post: Vec<(String, String)> = vec![
        ("_csrf".into(), csrf.clone()),
        ("version".into(), before.version.to_string()),
        ("action".into(), "submit".into()),
    ];
    post.extend(fields.clone());
    let res = post_page(&applicant, &t, &format!("/applications/{id}"), &post).await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains(
            "data-error-for=\"acknowledge\">请勾选“我已核对申报材料，对其真实性负责”：提交后申报将报送市州工信局初审"
        ),
        "{}",
        res.body
    );
    assert!(
        res.body.contains("value=\"987\""),
        "the typed value is kept"
    );
    let after = stored_application(&t, id).await;
    assert_eq!(after.status.key(), "draft");
    assert_eq!(after.version, before.version, "nothing was written");
    assert_eq!(after.form, before.form);

    // Saving a draft needs no tick.
    let mut save = post.clone();
    save[2].1 = "save".into();
    let res = post_page(&applicant, &t, &format!("/applications/{id}"), &save).await;
    assert_eq!(res.status, 303);

    // With the tick: submitted.
    let version = stored_application(&t, id).await.version;
    post[1].1 = version.to_string();
    post.push(("acknowledge".into(), "on".into()));
    let res = post_page(&applicant, &t, &format!("/applications/{id}"), &post).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(stored_application(&t, id).await.status.key(), "submitted");

    // The city's to-do leads to the one application waiting, by its verb.
    let city = support::page_login(&t, "changsha").await;
    let (_, home) = get_page(&city, &t, "/").await;
    assert_eq!(
        todo_link(&home, "待出具初审意见"),
        Some(format!("/reviews/{id}").as_str()),
        "{home}"
    );

    // The 初审 page: the material, its completeness check and one decision box.
    let (status, html) = get_page(&city, &t, &format!("/reviews/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"review-assessment\""), "{html}");
    assert!(html.contains("id=\"ready\""), "complete: {html}");
    assert!(
        html.contains("data-indicator=\"cluster_revenue\">987<"),
        "{html}"
    );
    assert!(html.contains("report.pdf"), "the files are listed: {html}");
    assert_eq!(
        html.matches("<form method=\"post\" action=\"/reviews/")
            .count(),
        1,
        "one decision box: {html}"
    );
    assert_eq!(html.matches("id=\"decision\"").count(), 1);
    assert!(html.contains("<li class=\"current\" aria-current=\"step\">市州初审</li>"));
    let csrf = support::csrf_from(&html);

    // Recommending or rejecting without the tick: refused, nothing written.
    for step in ["recommend", "reject"] {
        let res = post_page(
            &city,
            &t,
            &format!("/reviews/{id}/{step}"),
            &[
                ("_csrf", csrf.as_str()),
                ("letter", "generated"),
                ("comment", "材料不实"),
            ],
        )
        .await;
        assert_eq!(res.status, 422, "{step}");
        assert!(
            res.body
                .contains("请勾选“我已审阅申报材料和完整性检查结果”：推荐后申报将报送省工信厅"),
            "{}",
            res.body
        );
        assert!(res.body.contains(">材料不实</textarea>"), "kept: {step}");
        assert_eq!(stored_application(&t, id).await.status.key(), "submitted");
    }
    // With it: recommended.
    let res = post_page(
        &city,
        &t,
        &format!("/reviews/{id}/recommend"),
        &[
            ("_csrf", csrf.as_str()),
            ("letter", "generated"),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(stored_application(&t, id).await.status.key(), "recommended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_application_is_the_applicants_to_do_by_name() {
    let t = support::spawn().await;
    let call = open_call(&t).await;
    let (id, v) = started(
        &t,
        call,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙工程机械产业集群",
    )
    .await;
    submit_complete(&t, "applicant", id, v).await;
    let city = support::page_login(&t, "changsha").await;
    let (_, html) = get_page(&city, &t, &format!("/reviews/{id}")).await;
    // Returning asks for no tick (the applicant can correct and resubmit).
    let res = post_page(
        &city,
        &t,
        &format!("/reviews/{id}/return"),
        &[
            ("_csrf", support::csrf_from(&html).as_str()),
            ("comment", "请补充佐证材料"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let applicant = support::page_login(&t, "applicant").await;
    let (_, home) = get_page(&applicant, &t, "/").await;
    assert_eq!(
        todo_link(&home, "待补正申报材料并重新提交：长沙工程机械产业集群"),
        Some(format!("/applications/{id}").as_str()),
        "{home}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_scoring_fixing_and_publishing_the_list_ask_for_a_tick() {
    let t = support::spawn().await;
    // Opening scoring.
    let plan = RoundPlan {
        opens_in: Duration::days(-1),
        closes_in: Duration::days(10),
        ..RoundPlan::new("preliminary", 5, "")
    };
    let (_, r) = open_showcase_round(&t, &plan).await;
    staff_round(&t, r.id).await;
    let province = support::page_login(&t, "province").await;
    let (_, html) = get_page(&province, &t, &format!("/rounds/{}", r.id)).await;
    assert!(
        html.contains("id=\"open-scoring-acknowledge\" required"),
        "{html}"
    );
    let csrf = support::csrf_from(&html);
    let path = format!("/rounds/{}/open-scoring", r.id);
    let res = post_page(&province, &t, &path, &[("_csrf", csrf.as_str())]).await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("请勾选“我已核对评审组和专家分配”"),
        "{}",
        res.body
    );
    assert_eq!(stored_round(&t, r.id).await.status.key(), "setup");
    let res = post_page(
        &province,
        &t,
        &path,
        &[("_csrf", csrf.as_str()), ("acknowledge", "on")],
    )
    .await;
    assert_eq!(res.status, 303);
    assert_eq!(stored_round(&t, r.id).await.status.key(), "scoring");

    // Publishing the notice of a proposed list.
    let t = support::spawn().await;
    let f = proposed_round(&t).await;
    let province = support::page_login(&t, "province").await;
    let path = format!("/rounds/{}/notice", f.round_id);
    let (_, html) = get_page(&province, &t, &path).await;
    assert!(
        html.contains("id=\"publish-acknowledge\" required"),
        "{html}"
    );
    let csrf = support::csrf_from(&html);
    let version = stored_round(&t, f.round_id).await.version.to_string();
    let typed = "各有关单位：经评审，现将拟入选名单予以公示。";
    let res = post_page(
        &province,
        &t,
        &path,
        &[
            ("_csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("notice_text", typed),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(
        res.body
            .contains("请勾选“我已核对拟入选名单和公示说明”：发布后公示即向社会公开"),
        "{}",
        res.body
    );
    assert!(res.body.contains(typed), "the notice text is kept");
    let stored: round::Model = stored_round(&t, f.round_id).await;
    assert_eq!(stored.status.key(), "proposed");
    let res = post_page(
        &province,
        &t,
        &path,
        &[
            ("_csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("notice_text", typed),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(stored_round(&t, f.round_id).await.status.key(), "on_notice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_expert_sheet_keeps_recusal_apart_and_shows_the_total_after_save() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::days(-1), Duration::days(5), false).await;
    let (assignment, expert) = panel_of(&t, r.entries[0].id).await.remove(0);
    let browser = support::page_login(&t, &expert).await;

    // The expert's to-do leads to a sheet (or the list when there are several).
    let (_, home) = get_page(&browser, &t, "/").await;
    let link = todo_link(&home, "待评分并提交评分表").expect("the expert's to-do");
    assert!(link.starts_with("/scoring"), "{link}");

    let path = format!("/scoring/{assignment}");
    let (_, html) = get_page(&browser, &t, &path).await;
    assert!(html.contains("id=\"score-panel\""), "{html}");
    assert!(html.contains("/static/score-sheet.js"));
    // 申请回避 sits in a folded section with a secondary button, apart from 提交评分.
    let recuse = html
        .find("<details class=\"fold card\" id=\"recuse\"")
        .expect("folded");
    let submit = html.find("id=\"submit-sheet\"").expect("submit");
    assert!(recuse > submit);
    assert!(html.contains("id=\"recuse-submit\" class=\"secondary\""));
    let csrf = support::csrf_from(&html);

    // Saving a draft: the server shows the total of what was saved.
    let scores = crate::fixtures::scores_for(72.5);
    let mut post: Vec<(String, String)> = vec![
        ("_csrf".into(), csrf.clone()),
        ("version".into(), version_in(&html)),
        ("comment".into(), "产业链较完整。".into()),
        ("action".into(), "save".into()),
    ];
    for (k, v) in &scores {
        post.push((format!("score.{k}"), v.to_string()));
    }
    let res = post_page(&browser, &t, &path, &post).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let (_, html) = get_page(&browser, &t, &path).await;
    assert!(html.contains(">72.5</output>"), "{html}");

    // Submitting without the tick: refused, the sheet stays a draft.
    let sheet = crate::fixtures::stored_sheet(&t, assignment).await;
    post[1].1 = version_in(&html);
    post[3].1 = "submit".into();
    let res = post_page(&browser, &t, &path, &post).await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("请勾选“我已独立、客观地完成评分”"),
        "{}",
        res.body
    );
    let stored = crate::fixtures::stored_sheet(&t, assignment).await;
    assert_eq!(stored.version, sheet.version, "nothing was written");
    post.push(("acknowledge".into(), "on".into()));
    let res = post_page(&browser, &t, &path, &post).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        crate::fixtures::stored_sheet(&t, assignment)
            .await
            .status
            .key(),
        "submitted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_call_asks_for_a_tick_and_the_api_closes_without_one() {
    let t = support::spawn().await;
    let call = open_call(&t).await;
    let province = support::page_login(&t, "province").await;
    let path = format!("/competitions/{call}");
    let (_, html) = get_page(&province, &t, &path).await;
    assert!(html.contains("id=\"close-acknowledge\" required"), "{html}");
    let csrf = support::csrf_from(&html);
    let res = post_page(
        &province,
        &t,
        &format!("{path}/close"),
        &[("_csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(
        res.body
            .contains("请勾选“我已确认本竞赛通知的申报和初审均已结束”：关闭后不再接受申报和初审"),
        "{}",
        res.body
    );
    let status = |t: &TestApp| {
        let db = t.app.db.clone();
        async move {
            jiqun::store::entity::competition::Entity::find_by_id(call)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .status
        }
    };
    assert_eq!(
        status(&t).await,
        jiqun::store::entity::kinds::CompetitionStatus::Open
    );
    let res = post_page(
        &province,
        &t,
        &format!("{path}/close"),
        &[("_csrf", csrf.as_str()), ("acknowledge", "on")],
    )
    .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        status(&t).await,
        jiqun::store::entity::kinds::CompetitionStatus::Closed
    );
    // The JSON API is unchanged: calling it is the confirmation.
    let call2 = open_call(&t).await;
    let tok = crate::token(&t, "province").await;
    let (code, _) = crate::call(
        &t,
        &tok,
        "POST",
        &format!("/api/v1/competitions/{call2}/close"),
        None,
    )
    .await;
    assert_eq!(code, 200);
}
