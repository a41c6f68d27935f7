//! 第十六条 分级培育: who organises a competition. A call is the province's (`organiser_city_code`
//! NULL) or a city bureau's for its own city, decided by the level of the policy it is bound to
//! (`[organiser] level`). The permission table gives a city bureau `ScopeKind::OwnCity` over
//! competitions, rounds, score sheets and objections; here that scope means "of a competition
//! its city organises". The province reads every city competition but runs only its own; a city
//! bureau never sees another city's competition's rounds (404).

use jiqun_domain::access::{Role, ScopeKind};
use jiqun_domain::region::RegionCode;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};

use crate::app::Principal;
use crate::error::AppError;
use crate::store::entity::competition;

/// Whether a read with `scope` (from the permission table) reaches the competition.
pub fn reaches(p: &Principal, scope: ScopeKind, c: &competition::Model) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => {
            c.organiser_city_code.is_some() && c.organiser_city_code == p.org.city_code
        }
        _ => false,
    }
}

/// Whether the principal runs the competition: the province its own calls, a city bureau its
/// city's.
pub fn runs(p: &Principal, c: &competition::Model) -> bool {
    match c.organiser_city_code {
        None => p.role == Role::Province,
        Some(city) => p.role == Role::CityBureau && p.org.city_code == Some(city),
    }
}

/// A read of the competition's rounds: 403 on a call the principal sees but whose rounds are
/// not its (a city bureau on the province's call), 404 on a call it does not see at all.
pub fn check_read(p: &Principal, scope: ScopeKind, c: &competition::Model) -> Result<(), AppError> {
    if reaches(p, scope, c) {
        Ok(())
    } else if visible(p, c) {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound)
    }
}

/// A step of the competition (its call, rounds, 公示, designation): only its organiser. Whoever
/// sees the call but does not organise it (the province on a city's call, a city bureau on the
/// province's) is refused with 403; another city's bureau does not see it (404).
pub fn check_run(p: &Principal, c: &competition::Model) -> Result<(), AppError> {
    if runs(p, c) {
        return Ok(());
    }
    let reads = match p.role {
        Role::Province | Role::CityBureau => visible(p, c),
        _ => false,
    };
    Err(if reads {
        AppError::Forbidden
    } else {
        AppError::NotFound
    })
}

/// The competitions of the principal's city, as a subquery over competition ids.
pub fn own_city_competitions(p: &Principal) -> sea_orm::sea_query::SelectStatement {
    let city = p.org.city_code.map(|c| c.to_string()).unwrap_or_default();
    Query::select()
        .column(competition::Column::Id)
        .from(competition::Entity)
        .and_where(competition::Column::OrganiserCityCode.eq(city))
        .to_owned()
}

/// The competitions the principal runs (`runs`), as a condition over a competition-id column:
/// the province's own calls for the province, its city's for a city bureau, none for anyone
/// else. The workbench lists the round steps of exactly these.
pub fn run_condition(p: &Principal, competition_column: impl ColumnTrait) -> Condition {
    let organised = |city: Option<String>| {
        let q = Query::select()
            .column(competition::Column::Id)
            .from(competition::Entity)
            .and_where(match city {
                None => competition::Column::OrganiserCityCode.is_null(),
                Some(code) => competition::Column::OrganiserCityCode.eq(code),
            })
            .to_owned();
        Condition::all().add(competition_column.in_subquery(q))
    };
    match (p.role, p.org.city_code) {
        (Role::Province, _) => organised(None),
        (Role::CityBureau, Some(city)) => organised(Some(city.to_string())),
        _ => Condition::all().add(competition_column.eq(-1)),
    }
}

/// `ScopeKind` in a query over a table keyed by its competition: everything, or the
/// competitions the principal's city organises.
pub fn of_scope(
    p: &Principal,
    scope: ScopeKind,
    competition_column: impl ColumnTrait,
) -> Condition {
    match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => {
            Condition::all().add(competition_column.in_subquery(own_city_competitions(p)))
        }
        _ => Condition::all().add(competition_column.eq(-1)),
    }
}

/// The round subquery of `of_scope`, for tables keyed by their round.
pub fn rounds_of_scope(
    p: &Principal,
    scope: ScopeKind,
    round_column: impl ColumnTrait,
) -> Condition {
    use crate::store::entity::round;
    match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => Condition::all().add(
            round_column.in_subquery(
                Query::select()
                    .column(round::Column::Id)
                    .from(round::Entity)
                    .and_where(round::Column::CompetitionId.in_subquery(own_city_competitions(p)))
                    .to_owned(),
            ),
        ),
        _ => Condition::all().add(round_column.eq(-1)),
    }
}

/// The organiser a new call under a policy of `level` gets: the province's calls are the
/// province's, a city text's calls the creating city bureau's. A mismatch is refused in Chinese.
pub fn organiser_for(
    p: &Principal,
    level: jiqun_rules::policy::OrganiserLevel,
) -> Result<Option<RegionCode>, AppError> {
    use jiqun_rules::policy::OrganiserLevel;
    match (level, p.role) {
        (OrganiserLevel::Province, Role::Province) => Ok(None),
        (OrganiserLevel::City, Role::CityBureau) => p
            .org
            .city_code
            .map(Some)
            .ok_or_else(|| AppError::Conflict("本单位未登记所属市州，不能组织市级竞赛".into())),
        (OrganiserLevel::City, _) => Err(AppError::invalid(
            "policy_id",
            "该政策为市级竞赛政策，只能由市州工信局为本市组织竞赛",
        )),
        (OrganiserLevel::Province, _) => Err(AppError::Forbidden),
    }
}

/// Whether the principal sees the call at all: a province call everyone who reads calls, a
/// city's call everyone but another city's bureaus (city and county). Applicants see every
/// call, as the public does; applying is held to the organising city's clusters.
pub fn visible(p: &Principal, c: &competition::Model) -> bool {
    match (c.organiser_city_code, local_role(p.role)) {
        (None, _) | (Some(_), false) => true,
        (Some(city), true) => p.org.city_code == Some(city),
    }
}

/// `visible` in a query over competitions.
pub fn visible_condition(p: &Principal) -> Condition {
    if !local_role(p.role) {
        return Condition::all();
    }
    let own = p.org.city_code.map(|c| c.to_string()).unwrap_or_default();
    Condition::any()
        .add(competition::Column::OrganiserCityCode.is_null())
        .add(competition::Column::OrganiserCityCode.eq(own))
}

/// Bureaus whose reach is one city (or part of one).
fn local_role(role: Role) -> bool {
    matches!(role, Role::CityBureau | Role::CountyBureau)
}

/// An open city call an applicant may still enter, with its clusters of that city not yet
/// started (their own standing checked when they start).
#[derive(Debug, Clone)]
pub struct CityCall {
    pub id: crate::store::id::CompetitionId,
    pub title: String,
    pub organiser: String,
    pub deadline: String,
    pub startable: Vec<(crate::store::id::ClusterId, String)>,
}

/// The open city calls (第十六条) taking submissions in the cities of the applicant's clusters,
/// in three queries whatever the number of clusters or calls.
pub async fn open_city_calls(
    app: &crate::app::App,
    p: &Principal,
) -> Result<Vec<CityCall>, AppError> {
    use crate::store::entity::{application, cluster};
    use sea_orm::{EntityTrait, QueryFilter, QueryOrder};
    let clusters = cluster::Entity::find()
        .filter(cluster::Column::OrgId.eq(p.org.id))
        .order_by_asc(cluster::Column::Id)
        .all(&app.db)
        .await?;
    if clusters.is_empty() {
        return Ok(Vec::new());
    }
    let cities: std::collections::BTreeSet<String> =
        clusters.iter().map(|c| c.city_code.to_string()).collect();
    let now = app.clock.now();
    let calls: Vec<competition::Model> = competition::Entity::find()
        .filter(competition::Column::OrganiserCityCode.is_in(cities))
        .filter(competition::Column::Status.eq(super::competitions::STATUS_OPEN))
        .order_by_asc(competition::Column::Id)
        .all(&app.db)
        .await?
        .into_iter()
        .filter(|c| super::competitions::is_open_for_submission(c, now))
        .collect();
    let started: Vec<application::Model> = crate::store::load_where_in::<application::Entity>(
        &app.db,
        application::Column::CompetitionId,
        calls.iter().map(|c| c.id),
    )
    .await?;
    Ok(calls
        .into_iter()
        .map(|c| CityCall {
            id: c.id,
            title: c.title.clone(),
            organiser: super::competitions::organiser_label(c.organiser_city_code),
            deadline: crate::clock::format_local(c.submission_deadline),
            startable: clusters
                .iter()
                .filter(|cl| Some(cl.city_code) == c.organiser_city_code)
                .filter(|cl| {
                    !started
                        .iter()
                        .any(|a| a.competition_id == c.id && a.cluster_id == cl.id)
                })
                .map(|cl| (cl.id, cl.name.clone()))
                .collect(),
        })
        .collect())
}
