//! The cluster form: what an applicant sends and how it is checked (第五条、第八条).

use crate::store::id::OrgId;
use std::collections::HashSet;

use jiqun_domain::access::OrgKind;
use jiqun_domain::industry;
use jiqun_domain::region::{self, RegionCode};
use jiqun_rules::policy::ClusterKind;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::{MAX_NAME, MAX_PARK};
use crate::app::App;
use crate::error::{AppError, FieldError, Problems};
use crate::services::trimmed;
use crate::store::entity::organisation;

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClusterInput {
    /// e.g. 长沙工程机械产业集群
    pub name: String,
    /// A cluster kind key of the policy in force: leading (优势产业集群) | specialty (特色产业集群)
    pub kind: String,
    /// GB/T 4754 manufacturing division: "C36" or "36"
    pub industry_code: String,
    /// 6-digit code of the lead county (牵头县市区)
    pub lead_county_code: String,
    /// The other counties the cluster spans (跨县市区)
    #[serde(default)]
    pub other_county_codes: Vec<String>,
    /// 核心承载园区
    #[serde(default)]
    pub core_park: String,
    /// Co-applicant promotion organisations of a joint application (联合申报); empty when the
    /// lead applicant applies alone.
    #[serde(default)]
    #[schema(value_type = Vec<i64>)]
    pub co_applicant_org_ids: Vec<OrgId>,
}

/// The lead applicant a cluster is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lead {
    pub org_id: OrgId,
    /// The lead applicant organisation's city: the cluster's routing city.
    pub city: RegionCode,
}

/// A checked cluster profile, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCluster {
    pub name: String,
    /// Policy cluster-kind key.
    pub kind: String,
    pub kind_name: String,
    /// Canonical division code, e.g. "C36".
    pub industry_code: String,
    pub lead_county: RegionCode,
    pub other_counties: Vec<RegionCode>,
    pub core_park: String,
    pub co_applicant_org_ids: Vec<OrgId>,
}

impl ValidCluster {
    pub fn is_joint(&self) -> bool {
        !self.co_applicant_org_ids.is_empty()
    }
}

pub(super) fn county_full_name(code: RegionCode) -> String {
    region::county(code)
        .map(|c| c.full_name())
        .unwrap_or_else(|| code.to_string())
}

/// Pure validation against the lead applicant and the policy's cluster kinds; every problem is
/// reported against its field (one message per field, several joined with "；").
/// Whether co-applicant ids name existing promotion organisations needs the database and is
/// checked by [`create`] and [`update`].
pub fn validate(
    input: &ClusterInput,
    lead: Lead,
    kinds: &[ClusterKind],
) -> Result<ValidCluster, AppError> {
    let mut p = Problems::default();

    let name = trimmed(&input.name);
    if name.is_empty() {
        p.add("name", "请填写集群名称");
    } else if name.chars().count() > MAX_NAME {
        p.add("name", format!("集群名称不能超过{MAX_NAME}个字"));
    }

    let kind_text = input.kind.trim();
    let kind = kinds
        .iter()
        .find(|k| k.key == kind_text || (!kind_text.is_empty() && k.name == kind_text));
    if kind.is_none() {
        let names: Vec<&str> = kinds.iter().map(|k| k.name.as_str()).collect();
        p.add("kind", format!("请选择集群类型（{}）", names.join("或")));
    }

    let industry_text = input.industry_code.trim();
    let division = industry::division(industry_text);
    if industry_text.is_empty() {
        p.add(
            "industry_code",
            "请选择主导产业（国民经济行业分类制造业大类）",
        );
    } else if division.is_none() {
        p.add(
            "industry_code",
            format!(
                "“{industry_text}”不是{}制造业大类代码（应为C13至C43）",
                industry::standard()
            ),
        );
    }

    // Co-applicants first: whether the application is joint decides the county rule.
    let mut co_problems = Vec::new();
    let mut co_ids: Vec<OrgId> = Vec::new();
    for &id in &input.co_applicant_org_ids {
        if id.get() <= 0 {
            co_problems.push("联合申报单位编号无效，请从列表中选择".to_string());
        } else if id == lead.org_id {
            co_problems.push("本单位是牵头申报主体，不必再列为联合申报单位".to_string());
        } else if co_ids.contains(&id) {
            co_problems.push("同一联合申报单位选择了多次".to_string());
        } else {
            co_ids.push(id);
        }
    }
    co_problems.dedup();
    let joint = !input.co_applicant_org_ids.is_empty();
    let home = region::city_name(&lead.city.to_string());
    let single_rule = |county: RegionCode| -> Option<String> {
        let c = region::county(county)?;
        (!joint && c.city_code() != lead.city).then(|| {
            format!(
                "{}不在申报主体所在的{home}。单独申报的集群应位于本市州；\
                 跨市州的集群请与所在地的集群发展促进组织联合申报（第五条）",
                c.full_name()
            )
        })
    };

    let lead_text = input.lead_county_code.trim();
    let lead_county = if lead_text.is_empty() {
        p.add("lead_county_code", "请选择牵头县（市、区）");
        None
    } else {
        match lead_text
            .parse::<RegionCode>()
            .ok()
            .and_then(region::county)
        {
            Some(c) => {
                if let Some(problem) = single_rule(c.code()) {
                    p.add("lead_county_code", problem);
                }
                Some(c.code())
            }
            None => {
                p.add(
                    "lead_county_code",
                    jiqun_domain::region::not_a_county(lead_text),
                );
                None
            }
        }
    };

    let mut county_problems = Vec::new();
    let mut others: Vec<RegionCode> = Vec::new();
    for text in input
        .other_county_codes
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        match text.parse::<RegionCode>().ok().and_then(region::county) {
            None => county_problems.push(jiqun_domain::region::not_a_county(text)),
            Some(c) if Some(c.code()) == lead_county => county_problems.push(format!(
                "{}已是牵头县（市、区），不必重复选择",
                c.full_name()
            )),
            Some(c) if others.contains(&c.code()) => {
                county_problems.push(format!("{}选择了多次", c.full_name()))
            }
            Some(c) => {
                if let Some(problem) = single_rule(c.code()) {
                    county_problems.push(problem);
                }
                others.push(c.code());
            }
        }
    }
    if !county_problems.is_empty() {
        p.add("other_county_codes", county_problems.join("；"));
    }

    let core_park = trimmed(&input.core_park);
    if core_park.is_empty() {
        p.add("core_park", "请填写核心承载园区");
    } else if core_park.chars().count() > MAX_PARK {
        p.add("core_park", format!("核心承载园区不能超过{MAX_PARK}个字"));
    }

    if !co_problems.is_empty() {
        p.add("co_applicant_org_ids", co_problems.join("；"));
    }

    p.into_result()?;
    let (Some(kind), Some(division), Some(lead_county)) = (kind, division, lead_county) else {
        return Err(AppError::Internal("cluster fields checked above".into()));
    };
    Ok(ValidCluster {
        name,
        kind: kind.key.clone(),
        kind_name: kind.name.clone(),
        industry_code: division.code().to_string(),
        lead_county,
        other_counties: others,
        core_park,
        co_applicant_org_ids: co_ids,
    })
}

/// The cluster kinds of the policy in force today (or the latest one, as the policy page shows).
pub fn cluster_kinds(app: &App) -> Result<Vec<ClusterKind>, AppError> {
    Ok(
        crate::services::policy::current_on(crate::services::calendar::today(app))?
            .policy
            .cluster_kinds,
    )
}

/// Merges field errors found in the database into those of the pure check, one message per field.
pub(super) fn merge_problems(
    pure: Result<ValidCluster, AppError>,
    extra: Vec<FieldError>,
) -> Result<ValidCluster, AppError> {
    match pure {
        Ok(v) if extra.is_empty() => Ok(v),
        Ok(_) => Err(AppError::Invalid(extra)),
        Err(AppError::Invalid(mut fields)) => {
            for e in extra {
                match fields.iter_mut().find(|f| f.field == e.field) {
                    Some(f) => {
                        f.message.push('；');
                        f.message.push_str(&e.message);
                    }
                    None => fields.push(e),
                }
            }
            Err(AppError::Invalid(fields))
        }
        Err(other) => Err(other),
    }
}

/// Co-applicants must be registered, active promotion organisations.
pub(super) async fn check_co_applicants<C: ConnectionTrait>(
    db: &C,
    ids: &[OrgId],
) -> Result<Vec<FieldError>, AppError> {
    let wanted: Vec<OrgId> = ids.iter().copied().filter(|id| id.get() > 0).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashSet<OrgId> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(wanted.clone()))
        .filter(organisation::Column::Kind.eq(OrgKind::PromotionOrg))
        .filter(organisation::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|id| !found.contains(id))
        .map(|id| id.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![FieldError {
        field: "co_applicant_org_ids".into(),
        message: format!(
            "编号为{}的单位不是已登记的集群发展促进组织，不能作为联合申报单位",
            missing.join("、")
        ),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds() -> Vec<ClusterKind> {
        crate::services::policy::current_on(time::macros::date!(2025 - 01 - 01))
            .unwrap()
            .policy
            .cluster_kinds
    }

    const CHANGSHA: Lead = Lead {
        org_id: OrgId::new(7),
        city: RegionCode::CHANGSHA,
    };

    fn input() -> ClusterInput {
        ClusterInput {
            name: "长沙工程机械产业集群".into(),
            kind: "leading".into(),
            industry_code: "35".into(),
            lead_county_code: "430121".into(),
            other_county_codes: vec!["430104".into()],
            core_park: "长沙经济技术开发区".into(),
            co_applicant_org_ids: vec![],
        }
    }

    fn fields(e: &AppError) -> Vec<&str> {
        e.fields().iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_complete_single_application_is_valid() {
        let v = validate(&input(), CHANGSHA, &kinds()).unwrap();
        assert_eq!(v.industry_code, "C35");
        assert_eq!(v.kind_name, "优势产业集群");
        assert!(!v.is_joint());
    }

    #[test]
    fn every_problem_is_reported_against_its_field() {
        let mut i = input();
        i.name = " ".into();
        i.kind = "other".into();
        i.industry_code = "C12".into();
        i.lead_county_code = "430602".into();
        i.other_county_codes = vec!["999999".into(), "430602".into()];
        i.core_park = String::new();
        let e = validate(&i, CHANGSHA, &kinds()).unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                "name",
                "kind",
                "industry_code",
                "lead_county_code",
                "other_county_codes",
                "core_park"
            ]
        );
        assert!(
            e.fields()[3]
                .message
                .contains("岳阳市岳阳楼区不在申报主体所在的长沙市")
        );
        assert!(e.fields()[4].message.contains("“999999”"));
        assert!(e.fields()[4].message.contains("已是牵头县"));
    }

    #[test]
    fn a_joint_application_may_span_cities() {
        let mut i = input();
        i.lead_county_code = "430602".into();
        i.other_county_codes = vec!["430121".into(), "430203".into()];
        i.co_applicant_org_ids = vec![OrgId::new(8), OrgId::new(9)];
        let v = validate(&i, CHANGSHA, &kinds()).unwrap();
        assert!(v.is_joint());
        assert_eq!(v.other_counties.len(), 2);
    }

    #[test]
    fn co_applicants_are_distinct_and_not_the_lead() {
        let mut i = input();
        i.co_applicant_org_ids = vec![OrgId::new(7), OrgId::new(8), OrgId::new(8)];
        let e = validate(&i, CHANGSHA, &kinds()).unwrap_err();
        assert_eq!(fields(&e), vec!["co_applicant_org_ids"]);
        assert!(e.fields()[0].message.contains("牵头申报主体"));
        assert!(e.fields()[0].message.contains("多次"));
    }

    #[test]
    fn other_counties_of_a_single_application_stay_in_the_city() {
        let mut i = input();
        i.other_county_codes = vec!["430203".into(), "430104".into(), "430104".into()];
        let e = validate(&i, CHANGSHA, &kinds()).unwrap_err();
        assert_eq!(fields(&e), vec!["other_county_codes"]);
        assert!(e.fields()[0].message.contains("联合申报"));
        assert!(e.fields()[0].message.contains("选择了多次"));
    }
}
