//! Business operations shared by the pages, the JSON API and the command line. Each one checks
//! the permission table and the caller's data scope, and writes its audit entry in the same
//! transaction as the change.

pub mod announcements;
pub mod api_tokens;
pub mod application_list;
pub mod applications;
pub mod calendar;
pub mod certificate_list;
pub mod changes;
pub mod city_designations;
pub mod clusters;
pub mod competition_list;
pub mod competitions;
pub mod county_opinions;
pub mod dashboard;
pub mod demo_clock;
pub mod designations;
pub mod experts;
pub mod extensions;
pub mod finals;
pub mod funding;
pub mod imports;
pub mod ladder_list;
pub mod listing;
pub mod ministry;
pub mod monitoring;
pub mod nominations;
pub mod notices;
pub mod notifications;
pub mod objection_list;
pub mod organisers;
pub mod orgs;
pub mod owners;
pub mod policy;
pub mod ranking;
pub mod recheck;
pub mod records;
pub mod report_list;
pub mod reports;
pub mod reviews;
pub mod revocation;
pub mod revocation_list;
pub mod rounds;
pub mod scoring;
pub mod users;
pub mod workbench;
pub(crate) mod workbook;

use jiqun_domain::access::{Action, Resource, ScopeKind, permission};

use crate::app::Principal;
use crate::error::AppError;

/// The scope the principal has for an action, or 403.
pub fn authorize(p: &Principal, resource: Resource, action: Action) -> Result<ScopeKind, AppError> {
    permission(p.role, resource, action).ok_or(AppError::Forbidden)
}

pub fn trimmed(s: &str) -> String {
    s.trim().to_string()
}

/// A free text the form requires, trimmed; refused against its field when blank.
pub(crate) fn required_text<'a>(
    field: &str,
    value: &'a str,
    missing: &str,
) -> Result<&'a str, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, missing));
    }
    Ok(value)
}

/// Refuses a text longer than `max` characters: "{label}不能超过{max}字（当前{n}字）".
pub(crate) fn at_most(field: &str, value: &str, label: &str, max: usize) -> Result<(), AppError> {
    let chars = value.chars().count();
    if chars > max {
        return Err(AppError::invalid(
            field,
            format!("{label}不能超过{max}字（当前{chars}字）"),
        ));
    }
    Ok(())
}

/// Optimistic concurrency: an update filtered by the version the editor saw changed no row, so
/// someone else saved first. Returning the error drops the caller's transaction, which rolls it back.
pub fn saved(result: &sea_orm::UpdateResult) -> Result<(), AppError> {
    if result.rows_affected == 0 {
        Err(AppError::StaleVersion)
    } else {
        Ok(())
    }
}

/// `ScopeKind::OwnCounty`: whether a cluster with this lead county is the county bureau's. A
/// principal without a county (never a county bureau, which must have one) reaches nothing.
pub(crate) fn county_reaches(p: &Principal, lead_county: jiqun_domain::region::RegionCode) -> bool {
    p.org.county_code == Some(lead_county)
}

/// `ScopeKind::OwnCounty` in a query: `column IN (SELECT id FROM clusters WHERE
/// lead_county_code = the bureau's county)`, for any table keyed by its cluster. Filtering in
/// the query keeps paging and counts right.
pub(crate) fn of_own_county(
    p: &Principal,
    cluster_column: impl sea_orm::ColumnTrait,
) -> sea_orm::Condition {
    use sea_orm::sea_query::Query;
    use sea_orm::{ColumnTrait, Condition};
    let Some(county) = p.org.county_code else {
        return Condition::all().add(cluster_column.eq(-1));
    };
    Condition::all().add(
        cluster_column.in_subquery(
            Query::select()
                .column(crate::store::entity::cluster::Column::Id)
                .from(crate::store::entity::cluster::Entity)
                .and_where(crate::store::entity::cluster::Column::LeadCountyCode.eq(county))
                .to_owned(),
        ),
    )
}

/// The lead county of one cluster (one query), for a check on an object that carries only
/// its cluster's id.
pub(crate) async fn lead_county_of<C: sea_orm::ConnectionTrait>(
    conn: &C,
    cluster_id: crate::store::id::ClusterId,
) -> Result<Option<jiqun_domain::region::RegionCode>, sea_orm::DbErr> {
    use sea_orm::EntityTrait;
    Ok(
        crate::store::entity::cluster::Entity::find_by_id(cluster_id)
            .one(conn)
            .await?
            .map(|c| c.lead_county_code),
    )
}
