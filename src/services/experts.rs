//! The expert pool (专家库): who the experts are, and what makes them conflicted (回避).

use jiqun_domain::region::RegionCode;
use jiqun_domain::review;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::error::AppError;
use crate::store::entity::{expert, expert_conflict};

/// The non-empty lines of a multi-line field (fields of expertise, affiliations).
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The expert as the conflict rules see them: the employer counts as an affiliation.
pub fn to_domain(m: &expert::Model, declared: Vec<i64>) -> Result<review::Expert, AppError> {
    let city: RegionCode = m
        .city_code
        .parse()
        .map_err(|_| AppError::Internal(format!("expert {} has a bad city code", m.id)))?;
    let mut affiliations = lines(&m.affiliations);
    if !m.employer.trim().is_empty() {
        affiliations.push(m.employer.trim().to_string());
    }
    Ok(review::Expert {
        id: m.id,
        city,
        affiliations,
        declared_conflicts: declared,
    })
}

/// The experts with these ids, each with the conflicts they declared, in id order.
pub async fn pool<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<Vec<(expert::Model, review::Expert)>, AppError> {
    let models = expert::Entity::find()
        .filter(expert::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(expert::Column::Id)
        .all(conn)
        .await?;
    let declared = expert_conflict::Entity::find()
        .filter(expert_conflict::Column::ExpertId.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    models
        .into_iter()
        .map(|m| {
            let mine = declared
                .iter()
                .filter(|d| d.expert_id == m.id)
                .map(|d| d.application_id)
                .collect();
            let d = to_domain(&m, mine)?;
            Ok((m, d))
        })
        .collect()
}

/// The pool entry of a signed-in expert, if the account has one.
pub async fn of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
) -> Result<Option<expert::Model>, AppError> {
    Ok(expert::Entity::find()
        .filter(expert::Column::UserId.eq(user_id))
        .one(conn)
        .await?)
}
