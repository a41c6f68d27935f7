//! Server-rendered pages.

mod account;
mod applications;
mod attachments;
mod audit_log;
mod calendar;
mod changes;
mod city_titles;
mod clusters;
mod competitions;
mod dashboard;
pub mod demo_clock;
mod designations;
mod experts;
mod finals;
mod funding;
mod imports;
mod ladder;
mod nominations;
mod notices;
mod notifications;
mod objections;
mod orgs;
mod policy;
mod recheck;
mod reports;
mod reviews;
mod revocation;
mod rounds;
mod scoring;
mod tokens;
mod users;
mod workbench;
mod yearly;

use crate::store::id::OrgId;
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiqun_domain::access::{Action, Resource, Role, permission};

use super::principal::SessionCtx;
use crate::app::Shared;
use crate::error::AppError;

pub fn routes() -> Router<Shared> {
    Router::new()
        .merge(account::routes())
        .merge(workbench::routes())
        .merge(orgs::routes())
        .merge(users::routes())
        .merge(tokens::routes())
        .merge(audit_log::routes())
        .merge(attachments::routes())
        .merge(clusters::routes())
        .merge(competitions::routes())
        .merge(demo_clock::routes())
        .merge(applications::routes())
        .merge(reviews::routes())
        .merge(rounds::routes())
        .merge(experts::routes())
        .merge(scoring::routes())
        .merge(notices::routes())
        .merge(objections::routes())
        .merge(designations::routes())
        .merge(notifications::routes())
        .merge(calendar::routes())
        .merge(policy::routes())
        .merge(reports::routes())
        .merge(revocation::routes())
        .merge(ladder::routes())
        .merge(city_titles::routes())
        .merge(recheck::routes())
        .merge(funding::routes())
        .merge(imports::routes())
        .merge(changes::routes())
        .merge(nominations::routes())
        .merge(dashboard::routes())
        .merge(finals::routes())
        .merge(yearly::routes())
}

pub struct NavItem {
    pub key: &'static str,
    pub label: &'static str,
    pub href: String,
}

/// The frame around every signed-in page: who is signed in and what they may navigate to.
pub struct Layout {
    pub user_name: String,
    pub role_label: &'static str,
    pub org_name: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub current: &'static str,
    pub unread: u64,
}

/// Navigation comes from the permission table, so a role sees exactly what it may use.
pub fn nav_for(role: Role, org_id: OrgId) -> Vec<NavItem> {
    let mut nav = vec![NavItem {
        key: "home",
        label: "工作台",
        href: "/".into(),
    }];
    if permission(role, Resource::Competition, Action::View).is_some() {
        nav.push(NavItem {
            key: "competitions",
            label: "竞赛通知",
            href: "/competitions".into(),
        });
    }
    if permission(role, Resource::Cluster, Action::Create).is_some() {
        nav.push(NavItem {
            key: "clusters",
            label: "集群信息",
            href: "/clusters".into(),
        });
    } else if permission(role, Resource::Cluster, Action::View).is_some() {
        // The offices read the clusters of their scope (the county its lead county's).
        nav.push(NavItem {
            key: "clusters",
            label: "集群名录",
            href: "/clusters".into(),
        });
    }
    // A programme may name the county's department as its applicant (the national programme).
    if permission(role, Resource::Application, Action::Create).is_some()
        || role == Role::CountyBureau
    {
        nav.push(NavItem {
            key: "applications",
            label: "我的申报",
            href: "/applications".into(),
        });
    }
    if permission(role, Resource::Application, Action::View).is_some() {
        nav.push(NavItem {
            key: "finals",
            label: "决赛申报材料",
            href: "/finals".into(),
        });
    }
    // A programme may name the province for its 初审 (the national programme).
    if permission(role, Resource::Application, Action::Review).is_some() || role == Role::Province {
        nav.push(NavItem {
            key: "reviews",
            label: "初审推荐",
            href: "/reviews".into(),
        });
    } else if permission(role, Resource::Application, Action::Comment).is_some() {
        nav.push(NavItem {
            key: "reviews",
            label: "县级意见",
            href: "/reviews".into(),
        });
    }
    if matches!(
        permission(role, Resource::Application, Action::View),
        Some(jiqun_domain::access::ScopeKind::All)
    ) {
        nav.push(NavItem {
            key: "recommended",
            label: "推荐汇总",
            href: "/recommended".into(),
        });
    }
    if permission(role, Resource::Round, Action::View).is_some() {
        nav.push(NavItem {
            key: "rounds",
            label: "评审轮次",
            href: "/rounds".into(),
        });
    }
    if permission(role, Resource::ExpertPool, Action::Create).is_some() {
        nav.push(NavItem {
            key: "experts",
            label: "专家库",
            href: "/experts".into(),
        });
    }
    if permission(role, Resource::ScoreSheet, Action::Create).is_some() {
        nav.push(NavItem {
            key: "scoring",
            label: "评审任务",
            href: "/scoring".into(),
        });
    }
    // The list across rounds is the province's; a city answers its own round's objections on
    // that round's page (第十六条).
    if matches!(
        permission(role, Resource::Objection, Action::View),
        Some(jiqun_domain::access::ScopeKind::All)
    ) {
        nav.push(NavItem {
            key: "objections",
            label: "公示异议",
            href: "/objections".into(),
        });
    }
    if permission(role, Resource::Certificate, Action::View).is_some() {
        nav.push(NavItem {
            key: "certificates",
            label: "认定与证书",
            href: "/certificates".into(),
        });
    }
    // 第十六条: the city titles a city bureau conferred, a cluster's own, the province's view.
    if matches!(role, Role::Province | Role::CityBureau | Role::Applicant) {
        nav.push(NavItem {
            key: "city-titles",
            label: "市级称号",
            href: "/city-titles".into(),
        });
    }
    if matches!(
        permission(role, Resource::Report, Action::Review),
        Some(jiqun_domain::access::ScopeKind::All | jiqun_domain::access::ScopeKind::OwnCity)
    ) {
        nav.push(NavItem {
            key: "dashboard",
            label: "数据看板",
            href: "/dashboard".into(),
        });
    }
    if permission(role, Resource::Report, Action::View).is_some() {
        nav.push(NavItem {
            key: "reports",
            label: "发展情况报告",
            href: "/reports".into(),
        });
    }
    if permission(role, Resource::Revocation, Action::View).is_some() {
        nav.push(NavItem {
            key: "revocations",
            label: "撤销案件",
            href: "/revocations".into(),
        });
    }
    if permission(role, Resource::ChangeRequest, Action::View).is_some() {
        nav.push(NavItem {
            key: "change-requests",
            label: "变更申请",
            href: "/change-requests".into(),
        });
    }
    if permission(role, Resource::Recheck, Action::View).is_some() {
        nav.push(NavItem {
            key: "rechecks",
            label: "复核",
            href: "/rechecks".into(),
        });
    }
    if permission(role, Resource::Funding, Action::View).is_some() {
        nav.push(NavItem {
            key: "funding",
            label: "资金台账",
            href: "/funding".into(),
        });
    }
    // 第十六条: the ladder for the province (every cluster) and a city bureau (its own).
    if matches!(role, Role::Province | Role::CityBureau) {
        nav.push(NavItem {
            key: "ladder",
            label: "分级培育梯队",
            href: "/ladder".into(),
        });
    }
    if permission(role, Resource::Nomination, Action::View).is_some() {
        nav.push(NavItem {
            key: "nominations",
            label: "国家级集群推荐",
            href: "/nominations".into(),
        });
    }
    match permission(role, Resource::Organisation, Action::View) {
        Some(jiqun_domain::access::ScopeKind::OwnOrg) => nav.push(NavItem {
            key: "orgs",
            label: "本单位信息",
            href: format!("/orgs/{org_id}"),
        }),
        Some(_) => nav.push(NavItem {
            key: "orgs",
            label: if role == Role::CityBureau {
                "本市单位"
            } else {
                "单位管理"
            },
            href: "/orgs".into(),
        }),
        None => {}
    }
    if matches!(
        permission(role, Resource::User, Action::View),
        Some(jiqun_domain::access::ScopeKind::All)
    ) {
        nav.push(NavItem {
            key: "users",
            label: "用户管理",
            href: "/users".into(),
        });
    }
    if permission(role, Resource::ApiToken, Action::View).is_some() {
        nav.push(NavItem {
            key: "tokens",
            label: "接口令牌",
            href: "/tokens".into(),
        });
    }
    if permission(role, Resource::AuditLog, Action::View).is_some() {
        nav.push(NavItem {
            key: "audit",
            label: "审计日志",
            href: "/audit".into(),
        });
    }
    if permission(role, Resource::Calendar, Action::View).is_some() {
        nav.push(NavItem {
            key: "calendar",
            label: "工作日历",
            href: "/calendar".into(),
        });
    }
    if permission(role, Resource::Policy, Action::View).is_some() {
        nav.push(NavItem {
            key: "policy",
            label: "政策规则",
            href: "/policy".into(),
        });
    }
    nav.push(NavItem {
        key: "account",
        label: "账户安全",
        href: "/account".into(),
    });
    nav
}

pub fn layout(ctx: &SessionCtx, current: &'static str) -> Option<Layout> {
    let p = &ctx.principal;
    Some(Layout {
        user_name: p.user.display_name.clone(),
        role_label: p.role.label(),
        org_name: p.org.name.clone(),
        csrf: ctx.session.csrf_token.clone(),
        nav: nav_for(p.role, p.org.id),
        current,
        unread: ctx.unread,
    })
}

/// Field errors by field name, for the forms.
#[derive(Default)]
pub struct FormErrors(HashMap<String, String>);

impl FormErrors {
    pub fn from_error(e: &AppError) -> FormErrors {
        FormErrors(
            e.fields()
                .iter()
                .map(|f| (f.field.clone(), f.message.clone()))
                .collect(),
        )
    }

    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map(String::as_str).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Any one message (for a form with a single place to show it).
    pub fn first(&self) -> Option<String> {
        self.0.values().next().cloned()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Option<Layout>,
    flash: String,
    status: u16,
    message: String,
    /// Shown so a user can quote it when reporting the problem.
    request_id: String,
}

/// Marks a rendered error page, so `frame_errors` can redraw it inside the signed-in frame.
#[derive(Clone)]
struct ErrorNotice(String);

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let mut res = (
        status,
        ErrorPage {
            layout: None,
            flash: String::new(),
            status: status.as_u16(),
            message: message.to_string(),
            request_id: super::observe::current_request_id().unwrap_or_default(),
        },
    )
        .into_response();
    res.extensions_mut()
        .insert(ErrorNotice(message.to_string()));
    res
}

/// Keeps a signed-in user's header and navigation on error pages (403, 404, ...), so they are
/// never stranded on a bare page.
pub async fn frame_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let ctx = req.extensions().get::<SessionCtx>().cloned();
    let res = next.run(req).await;
    let Some(ErrorNotice(message)) = res.extensions().get::<ErrorNotice>().cloned() else {
        return res;
    };
    match ctx {
        Some(ctx) if ctx.stage == crate::auth::login::Stage::Complete => (
            res.status(),
            ErrorPage {
                layout: layout(&ctx, ""),
                flash: String::new(),
                status: res.status().as_u16(),
                message,
                request_id: super::observe::current_request_id().unwrap_or_default(),
            },
        )
            .into_response(),
        _ => res,
    }
}

/// Maps a service error to a page; field errors are handled by the forms themselves.
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(e: sea_orm::DbErr) -> Self {
        PageError(AppError::from(e))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let Some(detail) = self.0.log_detail() {
            tracing::error!(
                request_id = super::observe::current_request_id().unwrap_or_default(),
                "internal error: {detail}"
            );
        }
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // A refusal of input that reaches a bare error page says what was wrong, field by field.
        let message = match self.0.fields() {
            [] => self.0.to_string(),
            fields => fields
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("；"),
        };
        let mut res = error_page(status, &message);
        if let Some(secs) = self.0.retry_after()
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        res
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub layout: Option<Layout>,
    pub flash: String,
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub secrets: Vec<String>,
    pub next_href: String,
    pub next_label: String,
}

/// (value, label) pairs for a `<select>`.
pub type Choices = Vec<(String, String)>;

/// Cities, and counties grouped by city, for the region selects.
pub fn region_choices() -> (Choices, Vec<(String, Choices)>) {
    let cities = jiqun_domain::region::cities()
        .iter()
        .map(|c| (c.code().to_string(), c.name().to_string()))
        .collect();
    let counties = jiqun_domain::region::cities()
        .iter()
        .map(|c| {
            (
                c.name().to_string(),
                c.counties()
                    .iter()
                    .map(|k| (k.code().to_string(), k.name().to_string()))
                    .collect(),
            )
        })
        .collect();
    (cities, counties)
}
