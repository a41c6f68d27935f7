//! Published records never change (第十条、第十一条、第十二条): a 公示 entry and a certificate
//! keep what they showed on the day they were published or issued — the cluster's name, kind,
//! lead organisation, counties, score and rank — in a snapshot written in the publishing
//! transaction. Every public page, PDF and API answer reads the snapshot, so a later rename (or
//! an approved 变更申请, which reissues the certificate instead) never alters a published record.

use crate::store::id::{ClusterId, EntryId};
use std::collections::HashMap;

use jiqun_domain::region::{self, RegionCode};
use jiqun_rules::Policy;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::store::{
    self,
    entity::{cluster, cluster_county, round_entry},
};

/// What a published record showed of its cluster, frozen (stored as JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub cluster_name: String,
    /// Policy cluster-kind key and its name as the record showed it.
    pub kind: String,
    pub kind_label: String,
    /// The lead applicant (集群发展促进组织).
    pub org_name: String,
    pub city_code: String,
    pub city_name: String,
    /// Full county names, the lead county first.
    pub counties: Vec<String>,
    #[serde(default)]
    pub final_score: Option<f64>,
    #[serde(default)]
    pub rank: Option<i32>,
    /// For a certificate reissued (换发) after a 变更申请: the number it replaced and the day
    /// it was issued (YYYY-MM-DD); empty for a first issue.
    #[serde(default)]
    pub reissue_of: String,
    #[serde(default)]
    pub issued_on: String,
}

/// The plain facts a snapshot is made of, read from live data at publication.
pub struct Facts<'a> {
    pub cluster_name: &'a str,
    pub kind: &'a str,
    pub kind_label: &'a str,
    pub org_name: &'a str,
    pub city_code: &'a str,
    pub lead_county: &'a str,
    pub other_counties: &'a [String],
    pub final_score: Option<f64>,
    pub rank: Option<i32>,
}

fn county_name(code: &str) -> String {
    code.parse::<RegionCode>()
        .ok()
        .and_then(region::county)
        .map_or_else(|| code.to_string(), |c| c.full_name())
}

/// The snapshot of the facts (pure; the upgrade of old databases uses it too).
pub fn freeze(f: &Facts<'_>) -> Snapshot {
    let mut counties = vec![county_name(f.lead_county)];
    counties.extend(
        f.other_counties
            .iter()
            .filter(|c| c.as_str() != f.lead_county)
            .map(|c| county_name(c)),
    );
    Snapshot {
        cluster_name: f.cluster_name.to_string(),
        kind: f.kind.to_string(),
        kind_label: f.kind_label.to_string(),
        org_name: f.org_name.to_string(),
        city_code: f.city_code.to_string(),
        city_name: region::city_name(f.city_code),
        counties,
        final_score: f.final_score,
        rank: f.rank,
        reissue_of: String::new(),
        issued_on: String::new(),
    }
}

impl Snapshot {
    pub fn to_json(&self) -> Result<String, AppError> {
        serde_json::to_string(self).map_err(|e| AppError::internal(format!("snapshot: {e}")))
    }

    /// The stored snapshot; None for an empty column (never published).
    pub fn parse(text: &str) -> Option<Snapshot> {
        if text.trim().is_empty() {
            return None;
        }
        serde_json::from_str(text).ok()
    }

    /// 长沙市长沙县、长沙市浏阳市
    pub fn counties_text(&self) -> String {
        self.counties.join("、")
    }
}

/// The name of a policy cluster kind, or the key when the policy has no such kind.
pub fn kind_label(policy: &Policy, key: &str) -> String {
    policy
        .cluster_kind(key)
        .map_or_else(|| key.to_string(), |k| k.name.clone())
}

/// Each cluster's other counties, in one query.
pub async fn other_counties<C: ConnectionTrait>(
    conn: &C,
    cluster_ids: impl IntoIterator<Item = ClusterId>,
) -> Result<HashMap<ClusterId, Vec<String>>, AppError> {
    let mut out: HashMap<ClusterId, Vec<String>> = HashMap::new();
    for c in store::load_where_in::<cluster_county::Entity>(
        conn,
        cluster_county::Column::ClusterId,
        cluster_ids,
    )
    .await?
    {
        out.entry(c.cluster_id)
            .or_default()
            .push(c.county_code.to_string());
    }
    for list in out.values_mut() {
        list.sort();
    }
    Ok(out)
}

/// Snapshots of round entries as they stand now, by entry id: the entry's own frozen kind,
/// city and score with the cluster's name, organisation and counties (four queries for any
/// number).
pub async fn of_entries<C: ConnectionTrait>(
    conn: &C,
    entries: &[round_entry::Model],
    policy: &Policy,
) -> Result<HashMap<EntryId, Snapshot>, AppError> {
    let clusters =
        store::load_by_ids::<cluster::Entity>(conn, entries.iter().map(|e| e.cluster_id)).await?;
    let orgs = super::clusters::org_names(conn, clusters.values().map(|c| c.org_id)).await?;
    let counties = other_counties(conn, clusters.keys().copied()).await?;
    let mut out = HashMap::with_capacity(entries.len());
    for e in entries {
        let Some(cl) = clusters.get(&e.cluster_id) else {
            continue;
        };
        let city = e.city_code.to_string();
        let lead = cl.lead_county_code.to_string();
        let label = kind_label(policy, &e.cluster_kind);
        let org = orgs.get(&cl.org_id).cloned().unwrap_or_default();
        let others = counties.get(&cl.id).cloned().unwrap_or_default();
        out.insert(
            e.id,
            freeze(&Facts {
                cluster_name: &cl.name,
                kind: &e.cluster_kind,
                kind_label: &label,
                org_name: &org,
                city_code: &city,
                lead_county: &lead,
                other_counties: &others,
                final_score: e.final_score,
                rank: e.rank,
            }),
        );
    }
    Ok(out)
}

/// A cluster as it stands now, under its own kind (a title conferred without a round, or a
/// certificate reissued after a 变更申请 with the scores of the round that conferred it).
pub async fn of_cluster<C: ConnectionTrait>(
    conn: &C,
    cl: &cluster::Model,
    policy: &Policy,
    scores: (Option<f64>, Option<i32>),
) -> Result<Snapshot, AppError> {
    let org = super::clusters::org_names(conn, [cl.org_id])
        .await?
        .remove(&cl.org_id)
        .unwrap_or_default();
    let others = other_counties(conn, [cl.id])
        .await?
        .remove(&cl.id)
        .unwrap_or_default();
    let city = cl.city_code.to_string();
    let lead = cl.lead_county_code.to_string();
    let label = kind_label(policy, &cl.kind);
    Ok(freeze(&Facts {
        cluster_name: &cl.name,
        kind: &cl.kind,
        kind_label: &label,
        org_name: &org,
        city_code: &city,
        lead_county: &lead,
        other_counties: &others,
        final_score: scores.0,
        rank: scores.1,
    }))
}
