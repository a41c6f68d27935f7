//! The policy page: the rules in force (or the latest, marked expired), readable; every
//! installed policy with its validity and bound calls; and, for the system administrator,
//! installing a policy file (第十八条: a successor without a rebuild).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiqun_domain::access::{Action, Resource, permission};
use jiqun_rules::Policy;
use jiqun_rules::policy::ValueType;
use serde::Deserialize;

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::calendar::today;
use crate::services::policy::{self, InstalledView, Standing};
use crate::web::principal::{Authed, SessionCtx};
use crate::web::upload::UploadError;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/policy", get(show))
        .route("/policy/install", post(install))
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
    installed: Vec<InstalledView>,
    can_install: bool,
    csrf: String,
    /// Every problem of a refused file, "文件:行 键路径：原因".
    install_errors: Vec<String>,
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    /// Set by the redirect after an install: the installed policy's id and version.
    installed: Option<String>,
}

fn value_type_label(v: ValueType) -> &'static str {
    match v {
        ValueType::Integer => "整数",
        ValueType::Decimal => "数值",
        ValueType::Percent => "百分比",
        ValueType::Text => "文本",
        ValueType::IndustryCode => "行业代码（GB/T 4754）",
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

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<ShowQuery>,
) -> Result<PolicyPage, PageError> {
    let flash = q
        .installed
        .map(|what| format!("政策规则文件已安装（{what}），可供新发布的竞赛通知选用。"))
        .unwrap_or_default();
    Ok(render(&app, &ctx, flash, Vec::new()).await?)
}

async fn render(
    app: &crate::app::App,
    ctx: &SessionCtx,
    flash: String,
    install_errors: Vec<String>,
) -> Result<PolicyPage, AppError> {
    let current = policy::current(app, &ctx.principal).await?;
    let installed = policy::list(app, &ctx.principal).await?;
    let p = &current.policy;
    let status = match current.standing {
        Standing::InForce => "现行有效",
        Standing::Expired { .. } => "已失效",
        Standing::NotYetInForce { .. } => "尚未施行",
    };
    Ok(PolicyPage {
        layout: layout(ctx, "policy"),
        flash,
        name: p.identity.name.clone(),
        document_number: p.identity.document_number.clone(),
        issuer: p.identity.issuer.clone(),
        policy_id: p.id().to_string(),
        validity: current.validity(),
        status,
        in_force: current.standing == Standing::InForce,
        warning: current.warning(today(app)),
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
        installed,
        can_install: permission(ctx.principal.role, Resource::Policy, Action::Create).is_some(),
        csrf: ctx.session.csrf_token.clone(),
        install_errors,
    })
}

/// Installs an uploaded policy file; a refused file is shown with every problem.
async fn install(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if let Err(e) = crate::services::authorize(&ctx.principal, Resource::Policy, Action::Create) {
        return PageError(e).into_response();
    }
    let refused = |status: StatusCode, errors: Vec<String>| {
        let app = app.clone();
        let ctx = &ctx;
        async move {
            match render(&app, ctx, String::new(), errors).await {
                Ok(page) => (status, page).into_response(),
                Err(e) => PageError(e).into_response(),
            }
        }
    };
    let (name, bytes) = match multipart {
        Ok(m) => match read_policy_upload(m).await {
            Ok(file) => file,
            Err(UploadError::TooLarge) => {
                return refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    vec!["政策规则文件不能超过1MB".into()],
                )
                .await;
            }
            Err(UploadError::Missing) => {
                return refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    vec!["请选择要安装的政策规则文件（TOML）".into()],
                )
                .await;
            }
            Err(e) => return refused(StatusCode::BAD_REQUEST, vec![e.message()]).await,
        },
        Err(_) => {
            return refused(
                StatusCode::BAD_REQUEST,
                vec![UploadError::Malformed.message()],
            )
            .await;
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![format!("文件“{name}”不是UTF-8编码的文本文件")],
        )
        .await;
    };
    match policy::install(&app, &ctx.principal, &text, &name).await {
        Ok(v) => {
            let what = format!("{} 版本{}", v.key, v.version);
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("installed", &what)
                .finish();
            Redirect::to(&format!("/policy?{query}")).into_response()
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let errors = match &e {
                AppError::Invalid(fields) => fields.iter().map(|f| f.message.clone()).collect(),
                other => vec![other.to_string()],
            };
            refused(status, errors).await
        }
        Err(e) => PageError(e).into_response(),
    }
}

/// The longest policy file accepted (the 2021 Measures' file is about 15 KB).
const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// The uploaded file's name and bytes (field `file`).
async fn read_policy_upload(mut multipart: Multipart) -> Result<(String, Vec<u8>), UploadError> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| UploadError::Malformed)?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| UploadError::Malformed)? {
            if bytes.len() + chunk.len() > MAX_POLICY_BYTES {
                return Err(UploadError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(UploadError::Missing);
        }
        return Ok((name, bytes));
    }
    Err(UploadError::Missing)
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
