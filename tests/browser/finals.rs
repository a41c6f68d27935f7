//! The 决赛申报材料 in the browser (第十一条): the province opens the 决赛 with the materials'
//! deadline, a finalist fills in its updated figures beside its 初赛 values and submits, and the
//! expert's score sheet shows the before/after table beside the score panel. The steps are used
//! by the 初赛-to-认定 walk-through in `rounds.rs`.
//! Screenshots: artifacts/screenshots/{backend}-58-final-*.png.

use jiqun::store::id::{CompetitionId, RoundId};

use super::Browser;

impl Browser<'_> {
    /// Sets form controls as a person would type them (date and datetime-local included).
    async fn set_control(&self, css: &str, value: &str) {
        self.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1]; return null;",
                vec![css.into(), value.into()],
            )
            .await
            .unwrap_or_else(|e| panic!("set {css}: {e}"));
    }

    /// The province opens the 决赛: materials due on `due` (YYYY-MM-DD), scoring from `opens`
    /// to `closes` (YYYY-MM-DDTHH:MM, Beijing time). Lands on the round.
    pub(crate) async fn open_final(
        &self,
        competition_id: CompetitionId,
        due: &str,
        opens: &str,
        closes: &str,
    ) -> RoundId {
        self.goto(&format!("/competitions/{competition_id}")).await;
        self.click("#open-round").await;
        self.select("#kind", "final").await;
        self.fill("#experts_per_application", "3").await;
        self.fill(
            "#panel_note",
            "演示评审：本轮专家库规模有限，每个集群由3名专家评审。",
        )
        .await;
        self.fill("#quota_leading", "1").await;
        self.fill("#quota_specialty", "1").await;
        self.set_control("#scoring_opens_at", opens).await;
        self.set_control("#scoring_closes_at", closes).await;
        self.set_control("#materials_due", due).await;
        self.click("#open-round-submit").await;
        let path = self.path().await;
        let main = self.text("main").await;
        path.strip_prefix("/rounds/")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("the 决赛 opens: {path} {main}"))
    }

    /// A finalist follows its workbench to-do, types its figures (its 初赛 values raised by a
    /// fifth) and what it achieved per criterion, and submits.
    pub(crate) async fn submit_final_materials(&self, username: &str, shot: Option<&str>) {
        self.login(username).await;
        let todo = self.text("main").await;
        assert!(todo.contains("待提交决赛申报材料"), "{todo}");
        self.nav("finals").await;
        self.click("#materials tbody a").await;
        assert!(self.text("#materials-state").await.contains("待提交"));
        self.client
            .execute(
                r#"document.querySelectorAll('#materials-form input[name^="ind."]').forEach(i => {
                     const p = document.querySelector(`[data-before="${i.name.slice(4)}"]`);
                     const before = p ? p.dataset.value : '';
                     const n = Number(before);
                     if (before === '' || Number.isNaN(n)) { i.value = before; return; }
                     const up = Number.isInteger(n) ? Math.round(n * 1.2) : Math.round(n * 120) / 100;
                     i.value = String(i.closest('label').textContent.includes('%') ? Math.min(100, up) : up);
                   });
                   document.querySelectorAll('#materials-form textarea[name^="ach."]').forEach(t => {
                     t.value = '培育期间该方面取得明显成效：龙头企业带动配套企业集聚，创新平台和公共服务能力持续提升。';
                   });
                   return null;"#,
                vec![],
            )
            .await
            .expect("fill the materials");
        self.click("#save-materials").await;
        assert!(
            self.exists("#complete").await,
            "the saved draft is complete: {}",
            self.text("#completeness").await
        );
        if let Some(shot) = shot {
            self.screenshot(shot).await;
        }
        self.check("#submit-acknowledge").await;
        self.click("#submit-materials").await;
        assert_eq!(self.text("#materials-state").await, "已提交");
        self.logout().await;
    }

    /// An expert opens the sheet of `cluster` and sees the 初赛 and 决赛 figures side by side.
    pub(crate) async fn sees_before_after(&self, username: &str, cluster: &str, shot: &str) {
        self.login(username).await;
        self.nav("scoring").await;
        let id = self
            .client
            .execute(
                "return [...document.querySelectorAll('#assignment-table tbody tr')]\
                   .filter(r => r.textContent.includes(arguments[0]) && r.textContent.includes('决赛'))\
                   .map(r => r.dataset.assignment).pop();",
                vec![cluster.into()],
            )
            .await
            .expect("find the assignment")
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.goto(&format!("/scoring/{id}")).await;
        let table = self.text("#final-materials").await;
        assert!(
            table.contains("决赛申报材料")
                && table.contains("初赛")
                && table.contains("变化")
                && table.contains("培育期间该方面取得明显成效"),
            "{table}"
        );
        assert!(
            self.exists("#final-materials td[data-change=\"up\"]").await,
            "a raised figure shows its change: {table}"
        );
        self.screenshot(shot).await;
        self.logout().await;
    }
}
