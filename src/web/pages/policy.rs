//! The policy page: the rules in force (or the latest, marked expired), readable.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use jiqun_rules::Policy;
use jiqun_rules::policy::ValueType;

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::services::calendar::today;
use crate::services::policy::{self, Standing};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route("/policy", get(show))
}

pub struct IndicatorRow {
    pub name: String,
    pub unit: &'static str,
    pub value_type: &'static str,
    pub required: bool,
}

pub struct CriterionRow {
    pub number: usize,
    pub name: String,
    pub article: String,
    pub max_score: u32,
    pub source: &'static str,
    pub indicators: Vec<IndicatorRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "policy.html")]
struct PolicyPage {
    layout: Option<Layout>,
    flash: String,
    name: String,
    document_number: String,
    issuer: String,
    policy_id: String,
    validity: String,
    /// 现行有效 | 已失效 | 尚未施行
    status: &'static str,
    in_force: bool,
    warning: String,
    cluster_kinds: Vec<String>,
    total_score: u32,
    criteria: Vec<CriterionRow>,
    summary: String,
}

fn value_type_label(v: ValueType) -> &'static str {
    match v {
        ValueType::Integer => "整数",
        ValueType::Decimal => "数值",
        ValueType::Percent => "百分比",
        ValueType::Text => "文本",
    }
}

fn criteria(p: &Policy) -> Vec<CriterionRow> {
    p.criteria
        .iter()
        .enumerate()
        .map(|(i, c)| CriterionRow {
            number: i + 1,
            name: c.name.clone(),
            article: c.article.clone(),
            max_score: c.max_score,
            source: c.source.label(),
            indicators: c
                .indicators
                .iter()
                .map(|x| IndicatorRow {
                    name: x.name.clone(),
                    unit: x.unit.map_or("", |u| u.as_str()),
                    value_type: value_type_label(x.value_type),
                    required: x.required,
                })
                .collect(),
        })
        .collect()
}

async fn show(State(app): State<Shared>, Authed(ctx): Authed) -> Result<PolicyPage, PageError> {
    let current = policy::current(&app, &ctx.principal)?;
    let p = &current.policy;
    let status = match current.standing {
        Standing::InForce => "现行有效",
        Standing::Expired { .. } => "已失效",
        Standing::NotYetInForce { .. } => "尚未施行",
    };
    Ok(PolicyPage {
        layout: layout(&ctx, "policy"),
        flash: String::new(),
        name: p.identity.name.clone(),
        document_number: p.identity.document_number.clone(),
        issuer: p.identity.issuer.clone(),
        policy_id: p.id().to_string(),
        validity: current.validity(),
        status,
        in_force: current.standing == Standing::InForce,
        warning: current.warning(today(&app)),
        cluster_kinds: p
            .cluster_kinds
            .iter()
            .map(|k| match &k.description {
                Some(d) => format!("{}（{d}）", k.name),
                None => k.name.clone(),
            })
            .collect(),
        total_score: p.scoring.total_score,
        criteria: criteria(p),
        summary: p.summary(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_rows_carry_scores_and_units() {
        let p = jiqun_rules::policy::builtin_policies().unwrap().remove(0);
        let rows = criteria(&p);
        assert_eq!(rows.len(), 6);
        assert_eq!(
            rows.iter().map(|r| r.max_score).sum::<u32>(),
            p.scoring.total_score
        );
        let revenue = rows[1]
            .indicators
            .iter()
            .find(|i| i.name == "集群营业收入")
            .unwrap();
        assert_eq!((revenue.unit, revenue.value_type), ("亿元", "数值"));
    }
}
