//! The province fixes the proposed list (拟定名单, 第十条、第十一条): quota, ties and county cap.

use crate::store::id::{ApplicationId, EntryId, RoundId};
use std::collections::BTreeMap;

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::Transition;
use jiqun_domain::county_cap::{self, CapMode, CapRefusal};
use jiqun_domain::review::{
    CutoffTie,
    shortlist::{self, Contender, Refusal, Standing},
};
use jiqun_domain::round::{self as round_rules, RoundStep};
use jiqun_rules::policy::QuotaMode;
use sea_orm::{EntityTrait, Set};
use serde::{Deserialize, Serialize};

use super::{Calc, MAX_REASON_CHARS, RankingView, calculate, county_excess, ranking};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::AppError;
use crate::services::rounds;
use crate::services::scoring::{round_label, show};
use crate::services::{authorize, trimmed};
use crate::store::{
    self,
    entity::{application, round_entry},
};

/// The province's decision on the proposed list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProposeInput {
    /// The whole proposed list, by entry id. Leave it out to take the ranking as it stands; it
    /// is needed when the quota splits a tie, and may differ from the ranking only there.
    #[serde(default)]
    #[schema(value_type = Option<Vec<i64>>)]
    pub chosen: Option<Vec<EntryId>>,
    /// Why the tied entrants were chosen, and why a county may exceed the cap (required then).
    #[serde(default)]
    pub reason: String,
}

/// Fixes the proposed list (确定拟定名单): all sheets submitted (and defence scores recorded),
/// the quota by rank, ties at the cut decided with a reason, the county cap justified. In one
/// transaction the round becomes `proposed`, every entrant `shortlisted` or `not_selected` with
/// its final score and rank, the decision is audited and the applicants are told that the
/// review is over (the outcome itself is published with the notice).
pub async fn propose(
    app: &App,
    p: &Principal,
    round_id: RoundId,
    input: &ProposeInput,
) -> Result<RankingView, AppError> {
    authorize(p, Resource::Round, Action::Update)?;
    let reason = trimmed(&input.reason);
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid(
            "reason",
            format!("理由不能超过{MAX_REASON_CHARS}字"),
        ));
    }
    let txn = store::write_txn(&app.db).await?;
    let r = crate::services::rounds::load_for_update(&txn, p, round_id).await?;
    round_rules::step(r.status, RoundStep::FixProposedList)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let kind = r.kind;
    let calc = calculate(&txn, r).await?;
    // Which entrants make the list is the domain's decision (`review::shortlist`).
    let contenders: Vec<Contender> = calc
        .entries
        .iter()
        .map(|e| Contender {
            entry_id: e.entry.id.get(),
            application_id: e.entry.application_id.get(),
            cluster_name: &e.cluster_name,
            scored: !e.totals.is_empty(),
        })
        .collect();
    let standing = Standing {
        contenders: &contenders,
        missing_sheets: &calc.missing,
        missing_defence: &calc.missing_defence,
        winners: &calc.winners,
        ties: &calc.ties,
    };
    let chosen: Option<Vec<i64>> = input
        .chosen
        .as_ref()
        .map(|ids| ids.iter().map(|id| id.get()).collect());
    let chosen_apps = shortlist::choose(&standing, chosen.as_deref(), &reason, |t| {
        tie_note(&calc, t)
    })
    .map_err(|e| match e {
        Refusal::Conflict(message) => AppError::Conflict(message),
        Refusal::Invalid { field, message } => AppError::invalid(field, message),
    })?;
    let chosen_entries: Vec<&round_entry::Model> = calc
        .entries
        .iter()
        .filter(|e| chosen_apps.contains(&e.entry.application_id.get()))
        .map(|e| &e.entry)
        .collect();
    let over = county_excess(&txn, &calc.policy, &chosen_entries).await?;
    let warnings: Vec<String> = over.values().cloned().collect();
    let cap = &calc.policy.quota.per_county;
    let mode = match cap.mode {
        QuotaMode::Block => CapMode::Block,
        QuotaMode::Warn => CapMode::Warn,
    };
    county_cap::check_proposed_list(mode, &cap.message, &warnings, &reason).map_err(
        |e| match e {
            CapRefusal::Blocked(message) => AppError::Conflict(message),
            CapRefusal::NeedsReason(message) => AppError::invalid("reason", message),
        },
    )?;
    let now = app.clock.now();
    crate::services::rounds::step_round(&txn, &calc.round, RoundStep::FixProposedList, now).await?;
    let mut lines: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut not_selected = Vec::new();
    let decisions = shortlist::decide(
        &calc.ranked,
        &chosen_apps,
        &calc.ties,
        |app| {
            calc.entry_by_app(ApplicationId::new(app))
                .is_some_and(|e| over.contains_key(&e.entry.county_code.to_string()))
        },
        &reason,
    );
    for (r, decision) in calc.ranked.iter().zip(&decisions) {
        let Some(e) = calc.entry_by_app(ApplicationId::new(r.application_id)) else {
            continue;
        };
        let proposed = decision.proposed;
        // 第六条: an entrant below a floor is not selected, and the note says on what.
        let note = if e.floor_misses.is_empty() {
            decision.note.clone()
        } else {
            let misses: Vec<String> = e.floor_misses.iter().map(|m| m.message()).collect();
            let floor = format!("未达底线，不列入胜出名单：{}", misses.join("；"));
            if decision.note.is_empty() {
                floor
            } else {
                format!("{floor}；{}", decision.note)
            }
        };
        let scored =
            rounds::move_entry(&txn, p, kind, &e.entry, Transition::FinishScoring, "", now).await?;
        let decided = rounds::move_entry(
            &txn,
            p,
            kind,
            &scored,
            if proposed {
                Transition::Shortlist
            } else {
                Transition::NotSelect
            },
            &note,
            now,
        )
        .await?;
        store::update_versioned(
            &txn,
            decided.id,
            decided.version,
            round_entry::ActiveModel {
                final_score: Set(Some(r.final_score)),
                rank: Set(Some(i32::try_from(r.rank).unwrap_or(i32::MAX))),
                proposed: Set(proposed),
                decision_note: Set(note),
                ..Default::default()
            },
        )
        .await?;
        let line = format!(
            "第{}名 {}（{}分）",
            r.rank,
            e.cluster_name,
            show(r.final_score)
        );
        if proposed {
            lines.entry(r.kind.as_str()).or_default().push(line);
        } else {
            not_selected.push(line);
        }
        if let Some(a) = application::Entity::find_by_id(e.entry.application_id)
            .one(&txn)
            .await?
        {
            crate::services::notifications::notify_org(
                &txn,
                e.org_id,
                &format!("评审已完成：{}", e.cluster_name),
                &format!(
                    "您的申报“{}”已完成{}专家评审，评审结果将在拟定名单公示时公布。",
                    e.cluster_name,
                    round_label(&calc.competition, &calc.round)
                ),
                &format!("/applications/{}", a.id),
                now,
            )
            .await?;
        }
    }
    let mut summary = format!(
        "确定{}拟定名单：",
        round_label(&calc.competition, &calc.round)
    );
    let kinds: Vec<String> = calc
        .quotas
        .iter()
        .map(|(k, quota)| {
            let label = calc
                .policy
                .cluster_kind(k)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| k.clone());
            let list = lines
                .get(k.as_str())
                .map(|l| l.join("、"))
                .unwrap_or_default();
            format!(
                "{label}（名额{quota}）{}",
                if list.is_empty() { "无".into() } else { list }
            )
        })
        .collect();
    summary.push_str(&kinds.join("；"));
    if !not_selected.is_empty() {
        summary.push_str(&format!("。未入选：{}", not_selected.join("、")));
    }
    if !calc.ties.is_empty() {
        let notes: Vec<String> = calc.ties.iter().map(CutoffTie::message).collect();
        summary.push_str(&format!("。名额线并列：{}", notes.join("；")));
    }
    if !warnings.is_empty() {
        summary.push_str(&format!("。突破县域上限：{}", warnings.join("；")));
    }
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "round.propose",
                object_type: "round",
                object_id: calc.round.id.to_string(),
                summary,
                reason: reason.clone(),
            },
        )
        .await?;
    txn.commit().await?;
    ranking(app, p, round_id).await
}

fn tie_note(calc: &Calc, t: &CutoffTie) -> String {
    let names: Vec<String> = t
        .application_ids
        .iter()
        .filter_map(|id| calc.entry_by_app(ApplicationId::new(*id)))
        .map(|e| format!("“{}”", e.cluster_name))
        .collect();
    let kind = calc
        .policy
        .cluster_kind(&t.kind)
        .map(|k| k.name.clone())
        .unwrap_or_else(|| t.kind.clone());
    format!(
        "{kind}{}：请在{}中选择{}个，并说明理由",
        t.message(),
        names.join("、"),
        t.places
    )
}
