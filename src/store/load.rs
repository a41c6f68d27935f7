//! Batch loading by id: one query per kind of row (per chunk of ids), never one per row.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Value};

use super::entity;

/// IN lists stay well under both backends' bound-parameter limits.
pub const CHUNK: usize = 500;

/// An entity keyed by an `id` column (of its own id type, `store::id`).
pub trait HasId: EntityTrait {
    type Id: Copy + Eq + Hash + Ord + Into<Value>;
    fn id_column() -> Self::Column;
    fn id_of(model: &Self::Model) -> Self::Id;
}

macro_rules! has_id {
    ($($module:ident: $id:ident),* $(,)?) => {
        $(impl HasId for entity::$module::Entity {
            type Id = super::id::$id;
            fn id_column() -> Self::Column {
                entity::$module::Column::Id
            }
            fn id_of(model: &Self::Model) -> Self::Id {
                model.id
            }
        })*
    };
}

has_id!(
    application: ApplicationId,
    application_event: ApplicationEventId,
    application_version: ApplicationVersionId,
    assignment: AssignmentId,
    attachment: AttachmentId,
    blob: BlobId,
    city_designation: CityDesignationId,
    cluster: ClusterId,
    cluster_co_applicant: CoApplicantId,
    cluster_county: ClusterCountyId,
    cluster_member: ClusterMemberId,
    competition: CompetitionId,
    defence_score: DefenceScoreId,
    designation: DesignationId,
    expert: ExpertId,
    expert_conflict: ConflictId,
    mail_outbox: MailId,
    notification: NotificationId,
    objection: ObjectionId,
    organisation: OrgId,
    panel_member: PanelMemberId,
    recommendation: RecommendationId,
    round: RoundId,
    round_entry: EntryId,
    score_sheet: ScoreSheetId,
    user: UserId,
    report: ReportId,
    report_alert: ReportAlertId,
    revocation_case: RevocationCaseId,
    funding_entry: FundingEntryId,
    change_request: ChangeRequestId,
    nomination: NominationId,
    final_materials: FinalMaterialsId,
    yearly_announcement: YearlyAnnouncementId,
    plaque: PlaqueId,
    recheck: RecheckId,
    recheck_call: RecheckCallId,
    recheck_objection: RecheckObjectionId,
    ministry_result: MinistryResultId,
    ministry_term: MinistryTermId,
);

/// The distinct keys as query values, taken before any await: the futures below then hold no
/// caller's iterator (whose closures would tie them to the caller's borrows).
fn distinct_values<K: Copy + Eq + Hash + Into<Value>>(
    keys: impl IntoIterator<Item = K>,
) -> Vec<Value> {
    let mut seen = HashSet::new();
    keys.into_iter()
        .filter(|k| seen.insert(*k))
        .map(Into::into)
        .collect()
}

/// The rows with these ids (duplicates and missing ids are fine); no query for none.
pub fn load_by_ids<E>(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = E::Id>,
) -> impl Future<Output = Result<HashMap<E::Id, E::Model>, DbErr>>
where
    E: HasId,
{
    let keys = distinct_values(ids);
    async move {
        let rows = load_values::<E>(conn, E::id_column(), keys).await?;
        Ok(rows.into_iter().map(|m| (E::id_of(&m), m)).collect())
    }
}

/// Something taken from each row with these ids (a name, say), by id; no query for none.
pub fn load_by_ids_map<E, T>(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = E::Id>,
    f: impl Fn(E::Model) -> T,
) -> impl Future<Output = Result<HashMap<E::Id, T>, DbErr>>
where
    E: HasId,
{
    let keys = distinct_values(ids);
    async move {
        let rows = load_values::<E>(conn, E::id_column(), keys).await?;
        Ok(rows.into_iter().map(|m| (E::id_of(&m), f(m))).collect())
    }
}

/// The rows whose `column` (typically a parent id) is one of `keys`, in id order; no query for
/// none.
pub fn load_where_in<E>(
    conn: &impl ConnectionTrait,
    column: E::Column,
    keys: impl IntoIterator<Item: Copy + Eq + Hash + Into<Value>>,
) -> impl Future<Output = Result<Vec<E::Model>, DbErr>>
where
    E: HasId,
{
    let keys = distinct_values(keys);
    load_values::<E>(conn, column, keys)
}

async fn load_values<E>(
    conn: &impl ConnectionTrait,
    column: E::Column,
    keys: Vec<Value>,
) -> Result<Vec<E::Model>, DbErr>
where
    E: HasId,
{
    let mut rows = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        rows.extend(
            E::find()
                .filter(column.is_in(chunk.iter().cloned()))
                .all(conn)
                .await?,
        );
    }
    rows.sort_by_key(|m| E::id_of(m));
    Ok(rows)
}
