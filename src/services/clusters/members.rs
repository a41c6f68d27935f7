//! A cluster's member enterprises, one at a time (第五条).

use crate::store::id::{ClusterId, ClusterMemberId};
use std::collections::HashSet;

use jiqun_domain::access::Action;
use jiqun_domain::credit_code::CreditCode;
use jiqun_domain::member_sheet::{ALREADY_MEMBER, ValidMember, check_member_name};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, SqlErr,
};
use serde::{Deserialize, Serialize};

use super::load_scoped;
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::{AppError, Problems};
use crate::store::{self, entity::cluster_member};

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberInput {
    /// 企业名称
    pub name: String,
    /// 统一社会信用代码
    pub credit_code: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    #[schema(value_type = i64)]
    pub id: ClusterMemberId,
    pub name: String,
    pub credit_code: String,
}

impl MemberView {
    fn from_model(m: &cluster_member::Model) -> MemberView {
        MemberView {
            id: m.id,
            name: m.name.clone(),
            credit_code: m.credit_code.clone(),
        }
    }
}

/// Pure validation of one member enterprise.
pub fn validate_member(input: &MemberInput) -> Result<ValidMember, AppError> {
    let mut p = Problems::default();
    let name = check_member_name(&input.name)
        .map_err(|e| p.add("name", e))
        .ok();
    let code = if input.credit_code.trim().is_empty() {
        p.add("credit_code", "请填写统一社会信用代码");
        None
    } else {
        CreditCode::parse(&input.credit_code)
            .map_err(|e| p.add("credit_code", e.to_string()))
            .ok()
    };
    p.into_result()?;
    match (name, code) {
        (Some(name), Some(credit_code)) => Ok(ValidMember { name, credit_code }),
        _ => Err(AppError::Internal("member fields checked above".into())),
    }
}

pub(super) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub async fn list_members(
    app: &App,
    p: &Principal,
    cluster_id: ClusterId,
) -> Result<Vec<MemberView>, AppError> {
    load_scoped(&app.db, p, cluster_id, Action::View).await?;
    Ok(cluster_member::Entity::find()
        .filter(cluster_member::Column::ClusterId.eq(cluster_id))
        .order_by_asc(cluster_member::Column::Id)
        .all(&app.db)
        .await?
        .iter()
        .map(MemberView::from_model)
        .collect())
}

pub(super) async fn member_codes<C: ConnectionTrait>(
    db: &C,
    cluster_id: ClusterId,
) -> Result<HashSet<String>, DbErr> {
    Ok(cluster_member::Entity::find()
        .filter(cluster_member::Column::ClusterId.eq(cluster_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.credit_code)
        .collect())
}

pub async fn add_member(
    app: &App,
    p: &Principal,
    cluster_id: ClusterId,
    input: &MemberInput,
) -> Result<MemberView, AppError> {
    let (c, _) = load_scoped(&app.db, p, cluster_id, Action::Update).await?;
    let v = validate_member(input)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    if member_codes(&txn, cluster_id)
        .await?
        .contains(v.credit_code.as_str())
    {
        txn.rollback().await?;
        return Err(AppError::invalid("credit_code", ALREADY_MEMBER));
    }
    let inserted = cluster_member::ActiveModel {
        cluster_id: Set(cluster_id),
        name: Set(v.name.clone()),
        credit_code: Set(v.credit_code.as_str().to_string()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let m = match inserted {
        Ok(m) => m,
        // A concurrent add of the same code lost the race to the unique index.
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::invalid("credit_code", ALREADY_MEMBER));
        }
        Err(e) => return Err(e.into()),
    };
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "cluster.member_add",
                object_type: "cluster",
                object_id: cluster_id.to_string(),
                summary: format!(
                    "集群“{}”新增成员企业：{}（{}）",
                    c.name,
                    v.name,
                    v.credit_code.as_str()
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(MemberView::from_model(&m))
}

pub async fn remove_member(
    app: &App,
    p: &Principal,
    cluster_id: ClusterId,
    member_id: ClusterMemberId,
) -> Result<(), AppError> {
    let (c, _) = load_scoped(&app.db, p, cluster_id, Action::Update).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let m = cluster_member::Entity::find_by_id(member_id)
        .filter(cluster_member::Column::ClusterId.eq(cluster_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    cluster_member::Entity::delete_by_id(m.id)
        .exec(&txn)
        .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "cluster.member_remove",
                object_type: "cluster",
                object_id: cluster_id.to_string(),
                summary: format!(
                    "集群“{}”移除成员企业：{}（{}）",
                    c.name, m.name, m.credit_code
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(())
}
