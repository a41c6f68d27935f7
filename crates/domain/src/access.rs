//! Who may do what, and over which slice of the data (data scope).
//!
//! The table in [`permission`] is the single source of truth; the web pages, the JSON API and the
//! CLI all ask it, so hiding a link in the UI is never the only guard.

use serde::{Deserialize, Serialize};

/// A user's role. One account holds exactly one role, so the three administrator duties
/// (三权分立) can never be combined in one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter)
)]
#[cfg_attr(
    feature = "sea-orm",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
pub enum Role {
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "applicant"))]
    Applicant,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "city_bureau"))]
    CityBureau,
    /// 县（市、区）工信部门 (第十六条): follows its county's clusters and gives an opinion in
    /// the city's 初审; it decides nothing.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "county_bureau"))]
    CountyBureau,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "province"))]
    Province,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "partner"))]
    Partner,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "expert"))]
    Expert,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "sys_admin"))]
    SysAdmin,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "sec_admin"))]
    SecAdmin,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "audit_admin"))]
    AuditAdmin,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Applicant,
        Role::CityBureau,
        Role::CountyBureau,
        Role::Province,
        Role::Partner,
        Role::Expert,
        Role::SysAdmin,
        Role::SecAdmin,
        Role::AuditAdmin,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::CityBureau => "city_bureau",
            Role::CountyBureau => "county_bureau",
            Role::Province => "province",
            Role::Partner => "partner",
            Role::Expert => "expert",
            Role::SysAdmin => "sys_admin",
            Role::SecAdmin => "sec_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Applicant => "申报主体",
            Role::CityBureau => "市州工信局",
            Role::CountyBureau => "县市区工信部门",
            Role::Province => "省工信厅",
            Role::Partner => "有关部门",
            Role::Expert => "评审专家",
            Role::SysAdmin => "系统管理员",
            Role::SecAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::SysAdmin | Role::SecAdmin | Role::AuditAdmin)
    }

    /// 等保 level 3 asks for two factors for privileged accounts.
    pub fn requires_second_factor(self) -> bool {
        self.is_admin() || self == Role::Province
    }

    /// The organisation kind a user of this role must belong to.
    pub fn org_kind(self) -> OrgKind {
        match self {
            Role::Applicant => OrgKind::PromotionOrg,
            Role::CityBureau => OrgKind::CityBureau,
            Role::CountyBureau => OrgKind::CountyBureau,
            Role::Province | Role::SysAdmin | Role::SecAdmin | Role::AuditAdmin => {
                OrgKind::ProvincialDept
            }
            Role::Partner => OrgKind::PartnerDept,
            Role::Expert => OrgKind::ExpertHome,
        }
    }
}

/// Kinds of organisation a user can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter)
)]
#[cfg_attr(
    feature = "sea-orm",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
pub enum OrgKind {
    /// 集群发展促进组织 — applies for the programme; needs a credit code, a city and a county.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "promotion_org"))]
    PromotionOrg,
    /// 市州工信局 — needs a city.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "city_bureau"))]
    CityBureau,
    /// 县（市、区）工信部门 — needs a city and a county of it.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "county_bureau"))]
    CountyBureau,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "provincial_dept"))]
    ProvincialDept,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "partner_dept"))]
    PartnerDept,
    /// An expert's employer (university, institute, enterprise).
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "expert_home"))]
    ExpertHome,
}

impl OrgKind {
    pub const ALL: [OrgKind; 6] = [
        OrgKind::PromotionOrg,
        OrgKind::CityBureau,
        OrgKind::CountyBureau,
        OrgKind::ProvincialDept,
        OrgKind::PartnerDept,
        OrgKind::ExpertHome,
    ];

    pub fn key(self) -> &'static str {
        match self {
            OrgKind::PromotionOrg => "promotion_org",
            OrgKind::CityBureau => "city_bureau",
            OrgKind::CountyBureau => "county_bureau",
            OrgKind::ProvincialDept => "provincial_dept",
            OrgKind::PartnerDept => "partner_dept",
            OrgKind::ExpertHome => "expert_home",
        }
    }

    pub fn from_key(key: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgKind::PromotionOrg => "集群发展促进组织（申报主体）",
            OrgKind::CityBureau => "市州工信局",
            OrgKind::CountyBureau => "县市区工信部门",
            OrgKind::ProvincialDept => "省工信厅",
            OrgKind::PartnerDept => "有关部门",
            OrgKind::ExpertHome => "专家所在单位",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Organisation,
    User,
    AuditLog,
    Calendar,
    Policy,
    /// A year's competition call (竞赛通知).
    Competition,
    /// A cluster profile kept by its promotion organisation.
    Cluster,
    /// An application (申请报告) to a competition, and the city's review of it.
    Application,
    /// A round (初赛/决赛): panel, assignments, ranking, proposed list, notice and confirmation.
    Round,
    /// The expert pool (专家库).
    ExpertPool,
    /// Score sheets (评分表); experts reach only their own assignments.
    ScoreSheet,
    /// Objections (异议) filed against a proposed list.
    Objection,
    /// Designations and their certificates (证书).
    Certificate,
    /// Long-lived API tokens for other government systems (接口令牌).
    ApiToken,
    /// A titled cluster's development reports (第十三条), the city's opinion and the province's
    /// acceptance.
    Report,
    /// Revocation cases (撤销案件, 第十四条): the province opens, notifies and decides; the
    /// cluster states its case; its city follows.
    Revocation,
    /// 复核 (第十四条): which titled clusters are due in a year.
    Recheck,
    /// The funding ledger (第十七条): rewards and project support, recorded by the province.
    Funding,
    /// A designated cluster's 变更申请: the applicant files, its city gives an opinion, the
    /// province approves (换发) or refuses.
    ChangeRequest,
    /// 推荐申报国家级先进制造业集群 (第十七条): the province nominates certified clusters, exports
    /// their dossiers and records the national outcome; a city follows its clusters, a cluster
    /// its own.
    Nomination,
}

impl Resource {
    pub const ALL: [Resource; 20] = [
        Resource::Organisation,
        Resource::User,
        Resource::AuditLog,
        Resource::Calendar,
        Resource::Policy,
        Resource::Competition,
        Resource::Cluster,
        Resource::Application,
        Resource::Round,
        Resource::ExpertPool,
        Resource::ScoreSheet,
        Resource::Objection,
        Resource::Certificate,
        Resource::ApiToken,
        Resource::Report,
        Resource::Revocation,
        Resource::Recheck,
        Resource::Funding,
        Resource::ChangeRequest,
        Resource::Nomination,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    View,
    Create,
    Update,
    /// Reset a password, unlock an account or reset its second factor.
    ResetCredentials,
    Export,
    /// A decision on someone else's submission: the city bureau's 初审, the province's objection handling.
    Review,
    /// Put an account created by the system administrator into use and issue its first
    /// credential (三权分立: whoever creates an account never holds a way into it).
    Activate,
    /// Extend one applicant's deadline (e.g. after a system fault).
    Extend,
    /// An opinion on someone else's submission that decides nothing: the county bureau's
    /// 县级意见 in the city's 初审, read by the city beside its own review.
    Comment,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::View,
        Action::Create,
        Action::Update,
        Action::ResetCredentials,
        Action::Export,
        Action::Review,
        Action::Activate,
        Action::Extend,
        Action::Comment,
    ];
}

/// How much of a resource a permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeKind {
    All,
    /// Objects belonging to the actor's city (organisations whose city is the bureau's city).
    OwnCity,
    /// Objects of clusters whose lead county (牵头县市区) is the actor's county. A cluster that
    /// merely spans the county is not its: 第十六条 speaks of a county's clusters, and the lead
    /// county is the one the application names and the per-county cap counts.
    OwnCounty,
    /// Objects belonging to the actor's own organisation.
    OwnOrg,
    /// Only the actor's own account.
    OwnAccount,
}

/// The permission table. `None` means denied.
pub fn permission(role: Role, resource: Resource, action: Action) -> Option<ScopeKind> {
    use Action::*;
    use Resource::*;
    use Role::*;
    use ScopeKind::*;
    match (resource, role, action) {
        // The system administrator manages organisations and users.
        (Organisation, SysAdmin, View | Create | Update | Export) => Some(All),
        (Organisation, Province, View | Export) => Some(All),
        (Organisation, CityBureau, View | Export) => Some(OwnCity),
        (Organisation, Applicant, View) => Some(OwnOrg),
        (Organisation, Applicant, Update) => Some(OwnOrg),
        (Organisation, _, _) => None,

        (User, SysAdmin, View | Create | Update | Export) => Some(All),
        // The security administrator handles credentials and activates accounts (issuing the
        // first credential), never creates them.
        (User, SecAdmin, View | ResetCredentials | Activate) => Some(All),
        (User, _, View) => Some(OwnAccount),
        (User, _, _) => None,

        (AuditLog, AuditAdmin, View | Export) => Some(All),
        (AuditLog, _, _) => None,

        (Calendar, SysAdmin, View | Create) => Some(All),
        (Calendar, _, View) => Some(All),
        (Calendar, _, _) => None,

        (
            Policy,
            SysAdmin | Province | Partner | CityBureau | CountyBureau | Applicant | Expert,
            View,
        ) => Some(All),
        // Installing a policy file (a successor to the Measures, 第十八条) is the system
        // administrator's, as importing the working-day calendar is.
        (Policy, SysAdmin, Create) => Some(All),
        (Policy, _, _) => None,

        // The province opens and runs competitions; every business role reads the calls. A city
        // bureau opens and runs its own city's competitions under a city-level policy
        // (第十六条): OwnCity here means competitions whose organiser is the bureau's city.
        (Competition, Province, View | Create | Update | Export) => Some(All),
        (Competition, CityBureau, Create | Update) => Some(OwnCity),
        (Competition, Applicant | CityBureau | CountyBureau | Partner | Expert, View) => Some(All),
        (Competition, _, _) => None,

        (Cluster, Applicant, View | Create | Update) => Some(OwnOrg),
        (Cluster, CityBureau, View | Export) => Some(OwnCity),
        (Cluster, CountyBureau, View) => Some(OwnCounty),
        (Cluster, Province, View | Export) => Some(All),
        (Cluster, _, _) => None,

        (Application, Applicant, View | Create | Update) => Some(OwnOrg),
        (Application, CityBureau, View | Review | Export) => Some(OwnCity),
        // 第十六条: the county bureau follows its county's applications and gives its opinion
        // in the city's 初审 (Comment); the city alone decides (Review: recommend or return).
        (Application, CountyBureau, View | Comment) => Some(OwnCounty),
        (Application, Province, View | Export) => Some(All),
        // One applicant's deadline: the province for any step, a city bureau for its own
        // review of applications in its city (the service holds it to that step).
        (Application, Province, Extend) => Some(All),
        (Application, CityBureau, Extend) => Some(OwnCity),
        (Application, _, _) => None,

        // The province runs the rounds; partner departments co-organise and read them. A city
        // bureau runs the rounds of the competitions its city organises (OwnCity).
        (Round, Province, View | Create | Update | Export) => Some(All),
        (Round, CityBureau, View | Create | Update | Export) => Some(OwnCity),
        (Round, Partner, View) => Some(All),
        (Round, _, _) => None,

        (ExpertPool, Province, View | Create | Update | Export) => Some(All),
        // A city bureau keeps its own city's pool (第十六条), from which its own competitions'
        // panels are drawn: OwnCity here means the experts of the bureau's city's pool.
        (ExpertPool, CityBureau, View | Create | Update | Export) => Some(OwnCity),
        (ExpertPool, Expert, View | Update) => Some(OwnAccount),
        (ExpertPool, _, _) => None,

        // An expert scores only what is assigned to them; the province reads all and may reopen.
        (ScoreSheet, Expert, View | Create | Update) => Some(OwnAccount),
        (ScoreSheet, Province, View | Update | Export) => Some(All),
        (ScoreSheet, CityBureau, View | Update | Export) => Some(OwnCity),
        (ScoreSheet, _, _) => None,

        // The public files objections without an account; the province handles them.
        (Objection, Province, View | Review | Export) => Some(All),
        // Objections to a city competition's 公示 are its organiser's.
        (Objection, CityBureau, View | Review) => Some(OwnCity),
        (Objection, _, _) => None,

        (Certificate, Province, View | Create | Update | Export) => Some(All),
        (Certificate, Partner, View) => Some(All),
        (Certificate, CityBureau, View) => Some(OwnCity),
        (Certificate, CountyBureau, View) => Some(OwnCounty),
        (Certificate, Applicant, View) => Some(OwnOrg),
        (Certificate, _, _) => None,

        // Integration credentials are credentials: the security administrator issues (Create),
        // lists and revokes (Update) them; nobody else, and no token can make another.
        (ApiToken, SecAdmin, View | Create | Update) => Some(All),
        (ApiToken, _, _) => None,

        // 第十三条: the cluster's promotion organisation writes its reports, the city bureau
        // reads them and gives its opinion, the province accepts or returns them.
        (Report, Applicant, View | Create | Update) => Some(OwnOrg),
        (Report, CityBureau, View | Review | Export) => Some(OwnCity),
        (Report, CountyBureau, View) => Some(OwnCounty),
        (Report, Province, View | Review | Export) => Some(All),
        (Report, _, _) => None,
        // 按程序撤销: the province opens a case (Create), sends the 告知书 and decides (Review);
        // the cluster's promotion organisation states its case (Update); the city bureau, which
        // 及时掌握 its clusters (第十三条), may open a case against one of its own and follows it.
        (Revocation, Province, View | Create | Review | Export) => Some(All),
        (Revocation, CityBureau, View | Create) => Some(OwnCity),
        (Revocation, CountyBureau, View) => Some(OwnCounty),
        (Revocation, Applicant, View | Update) => Some(OwnOrg),
        (Revocation, _, _) => None,

        // 复核: the province lists every cluster due; a city its clusters, a cluster its own.
        (Recheck, Province, View | Create | Review | Export) => Some(All),
        (Recheck, CityBureau, View | Review) => Some(OwnCity),
        (Recheck, CountyBureau, View) => Some(OwnCounty),
        (Recheck, Applicant, View | Update) => Some(OwnOrg),
        (Recheck, _, _) => None,

        // 第十七条: the province records and steps the ledger and sets the year's reward
        // amounts; a city reads its clusters' entries, a cluster its own.
        (Funding, Province, View | Create | Update | Export) => Some(All),
        (Funding, CityBureau, View | Export) => Some(OwnCity),
        (Funding, Applicant, View) => Some(OwnOrg),
        (Funding, _, _) => None,
        // 变更申请: the promotion organisation files and adds evidence (Create, Update); its
        // city bureau gives its written opinion and the province decides (Review).
        (ChangeRequest, Applicant, View | Create | Update) => Some(OwnOrg),
        (ChangeRequest, CityBureau, View | Review) => Some(OwnCity),
        (ChangeRequest, Province, View | Review | Export) => Some(All),
        (ChangeRequest, _, _) => None,
        // 择优推荐: the province nominates (Create), records the national outcome (Update) and
        // exports the dossier; a city reads its clusters' nominations, a cluster its own.
        (Nomination, Province, View | Create | Update | Export) => Some(All),
        (Nomination, CityBureau, View) => Some(OwnCity),
        (Nomination, Applicant, View) => Some(OwnOrg),
        (Nomination, _, _) => None,
    }
}

/// The roles a system administrator may give to accounts it creates: business roles only.
/// Administrator accounts are created from the command line by whoever runs the server.
pub fn assignable_by_sys_admin(role: Role) -> bool {
    !role.is_admin()
}

/// The roles an API token may act in: business roles whose reach is an organisation (or its
/// city, or everything). Never an administrator role (三权分立: a token must not carry duties an
/// account has to be separated from), and not an expert, whose reach is their own account.
pub fn token_role_allowed(role: Role) -> bool {
    !role.is_admin() && role != Role::Expert
}

/// Whether an account may move from one role to another. An administrator never becomes a
/// business role nor the other way round (三权分立), and a business role is bound to the kind of
/// its organisation, so in practice a role is for the life of the account.
pub fn role_change_allowed(from: Role, to: Role) -> bool {
    from == to || (!from.is_admin() && !to.is_admin() && from.org_kind() == to.org_kind())
}

/// Whether an application in this status is within the role's reach at all (before the
/// organisation or city scope is applied). A city bureau sees an application once it has been
/// submitted — and from then on its history, even after a return for revision — but never an
/// applicant's unsubmitted draft.
pub fn application_in_reach(role: Role, status: crate::application::Status) -> bool {
    if permission(role, Resource::Application, Action::View).is_none() {
        return false;
    }
    match role {
        Role::CityBureau | Role::CountyBureau => status != crate::application::Status::Draft,
        _ => true,
    }
}

/// Whether a report in this status is within the role's reach at all (before the organisation
/// or city scope is applied): a draft is the cluster's own until it is submitted.
pub fn report_in_reach(role: Role, status: crate::report::Status) -> bool {
    if permission(role, Resource::Report, Action::View).is_none() {
        return false;
    }
    role == Role::Applicant || status != crate::report::Status::Draft
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_keys_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_key(role.key()), Some(role));
        }
        for kind in OrgKind::ALL {
            assert_eq!(OrgKind::from_key(kind.key()), Some(kind));
        }
        assert_eq!(Role::from_key("root"), None);
    }

    #[test]
    fn only_the_audit_administrator_reads_the_audit_log() {
        for role in Role::ALL {
            let allowed = permission(role, Resource::AuditLog, Action::View).is_some();
            assert_eq!(allowed, role == Role::AuditAdmin, "{role:?}");
        }
    }

    #[test]
    fn nobody_may_edit_the_audit_log() {
        for role in Role::ALL {
            for action in [Action::Create, Action::Update, Action::ResetCredentials] {
                assert_eq!(permission(role, Resource::AuditLog, action), None);
            }
        }
    }

    #[test]
    fn admin_duties_are_separate() {
        // The system administrator cannot touch credentials or the audit log; the security
        // administrator cannot create accounts; the audit administrator manages nothing.
        assert_eq!(
            permission(Role::SysAdmin, Resource::User, Action::ResetCredentials),
            None
        );
        assert_eq!(
            permission(Role::SysAdmin, Resource::AuditLog, Action::View),
            None
        );
        assert_eq!(
            permission(Role::SecAdmin, Resource::User, Action::Create),
            None
        );
        assert_eq!(
            permission(Role::AuditAdmin, Resource::User, Action::Create),
            None
        );
        assert_eq!(
            permission(Role::AuditAdmin, Resource::Organisation, Action::View),
            None
        );
        for role in Role::ALL {
            assert_eq!(assignable_by_sys_admin(role), !role.is_admin());
        }
    }

    #[test]
    fn only_the_security_administrator_manages_api_tokens_and_tokens_are_business_roles() {
        for role in Role::ALL {
            for action in Action::ALL {
                let expected = role == Role::SecAdmin
                    && matches!(action, Action::View | Action::Create | Action::Update);
                assert_eq!(
                    permission(role, Resource::ApiToken, action).is_some(),
                    expected,
                    "{role:?} {action:?}"
                );
            }
        }
        let allowed: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| token_role_allowed(*r))
            .collect();
        assert_eq!(
            allowed,
            vec![
                Role::Applicant,
                Role::CityBureau,
                Role::CountyBureau,
                Role::Province,
                Role::Partner
            ]
        );
    }

    #[test]
    fn only_the_system_administrator_installs_policies() {
        for role in Role::ALL {
            for action in Action::ALL {
                let allowed = permission(role, Resource::Policy, action).is_some();
                let expected = match action {
                    Action::View => !matches!(role, Role::SecAdmin | Role::AuditAdmin),
                    Action::Create => role == Role::SysAdmin,
                    _ => false,
                };
                assert_eq!(allowed, expected, "{role:?} {action:?}");
            }
        }
    }

    #[test]
    fn the_province_and_city_bureaus_extend_deadlines() {
        for role in Role::ALL {
            for resource in Resource::ALL {
                let scope = permission(role, resource, Action::Extend);
                let expected = match (resource, role) {
                    (Resource::Application, Role::Province) => Some(ScopeKind::All),
                    (Resource::Application, Role::CityBureau) => Some(ScopeKind::OwnCity),
                    _ => None,
                };
                assert_eq!(scope, expected, "{role:?} {resource:?}");
            }
        }
    }

    #[test]
    fn a_city_bureau_runs_only_its_own_city_s_competitions() {
        // 第十六条: OwnCity over calls, rounds, sheets and objections means the competitions
        // its city organises; it never certifies nor handles the province's objection list.
        for (resource, action) in [
            (Resource::Competition, Action::Create),
            (Resource::Competition, Action::Update),
            (Resource::Round, Action::View),
            (Resource::Round, Action::Create),
            (Resource::Round, Action::Update),
            (Resource::ScoreSheet, Action::View),
            (Resource::ScoreSheet, Action::Update),
            (Resource::ScoreSheet, Action::Export),
            (Resource::Objection, Action::View),
            (Resource::Objection, Action::Review),
        ] {
            assert_eq!(
                permission(Role::CityBureau, resource, action),
                Some(ScopeKind::OwnCity),
                "{resource:?} {action:?}"
            );
            assert_eq!(
                permission(Role::CountyBureau, resource, action),
                None,
                "{resource:?} {action:?}"
            );
        }
        assert_eq!(
            permission(Role::CityBureau, Resource::Certificate, Action::Create),
            None
        );
        assert_eq!(
            permission(Role::CityBureau, Resource::ExpertPool, Action::Update),
            Some(ScopeKind::OwnCity)
        );
        assert_eq!(
            permission(Role::CityBureau, Resource::Competition, Action::View),
            Some(ScopeKind::All)
        );
    }

    #[test]
    fn only_the_security_administrator_activates_accounts() {
        for role in Role::ALL {
            let allowed = permission(role, Resource::User, Action::Activate).is_some();
            assert_eq!(allowed, role == Role::SecAdmin, "{role:?}");
        }
    }

    #[test]
    fn administrators_and_business_roles_never_trade_places() {
        for from in Role::ALL {
            for to in Role::ALL {
                let allowed = role_change_allowed(from, to);
                if from.is_admin() != to.is_admin() {
                    assert!(!allowed, "{from:?} -> {to:?}");
                }
                if from.is_admin() && to.is_admin() {
                    assert_eq!(allowed, from == to, "{from:?} -> {to:?}");
                }
            }
            assert!(role_change_allowed(from, from));
        }
        assert!(!role_change_allowed(Role::Province, Role::SysAdmin));
        assert!(!role_change_allowed(Role::SecAdmin, Role::Province));
    }

    #[test]
    fn a_city_bureau_reaches_an_application_only_once_submitted() {
        use crate::application::Status;
        for status in Status::ALL {
            for role in [Role::CityBureau, Role::CountyBureau] {
                assert_eq!(
                    application_in_reach(role, status),
                    status != Status::Draft,
                    "{role:?} {status:?}"
                );
            }
            assert!(application_in_reach(Role::Applicant, status));
            assert!(application_in_reach(Role::Province, status));
            for role in [
                Role::Expert,
                Role::Partner,
                Role::SysAdmin,
                Role::SecAdmin,
                Role::AuditAdmin,
            ] {
                assert!(!application_in_reach(role, status), "{role:?}");
            }
        }
    }

    #[test]
    fn only_the_province_opens_and_decides_revocation_cases() {
        for role in Role::ALL {
            for action in Action::ALL {
                let expected = match role {
                    Role::Province => matches!(
                        action,
                        Action::View | Action::Create | Action::Review | Action::Export
                    )
                    .then_some(ScopeKind::All),
                    Role::CityBureau => matches!(action, Action::View | Action::Create)
                        .then_some(ScopeKind::OwnCity),
                    Role::CountyBureau => (action == Action::View).then_some(ScopeKind::OwnCounty),
                    Role::Applicant => {
                        matches!(action, Action::View | Action::Update).then_some(ScopeKind::OwnOrg)
                    }
                    _ => None,
                };
                assert_eq!(
                    permission(role, Resource::Revocation, action),
                    expected,
                    "{role:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn a_recheck_is_called_and_reviewed_by_the_province_answered_by_its_cluster_and_city() {
        for role in Role::ALL {
            for action in Action::ALL {
                let expected = match role {
                    Role::Province => matches!(
                        action,
                        Action::View | Action::Create | Action::Review | Action::Export
                    )
                    .then_some(ScopeKind::All),
                    Role::CityBureau => matches!(action, Action::View | Action::Review)
                        .then_some(ScopeKind::OwnCity),
                    Role::CountyBureau => (action == Action::View).then_some(ScopeKind::OwnCounty),
                    Role::Applicant => {
                        matches!(action, Action::View | Action::Update).then_some(ScopeKind::OwnOrg)
                    }
                    _ => None,
                };
                assert_eq!(
                    permission(role, Resource::Recheck, action),
                    expected,
                    "{role:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn only_the_province_nominates_and_records_outcomes() {
        for role in Role::ALL {
            for action in Action::ALL {
                let expected = match role {
                    Role::Province => matches!(
                        action,
                        Action::View | Action::Create | Action::Update | Action::Export
                    )
                    .then_some(ScopeKind::All),
                    Role::CityBureau => (action == Action::View).then_some(ScopeKind::OwnCity),
                    Role::Applicant => (action == Action::View).then_some(ScopeKind::OwnOrg),
                    _ => None,
                };
                assert_eq!(
                    permission(role, Resource::Nomination, action),
                    expected,
                    "{role:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn second_factor_is_required_for_administrators_and_the_province() {
        let required: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.requires_second_factor())
            .collect();
        assert_eq!(
            required,
            vec![
                Role::Province,
                Role::SysAdmin,
                Role::SecAdmin,
                Role::AuditAdmin
            ]
        );
    }

    #[test]
    fn change_requests_are_filed_by_the_cluster_opined_by_city_decided_by_province() {
        for role in Role::ALL {
            for action in Action::ALL {
                let expected = match (role, action) {
                    (Role::Applicant, Action::View | Action::Create | Action::Update) => {
                        Some(ScopeKind::OwnOrg)
                    }
                    (Role::CityBureau, Action::View | Action::Review) => Some(ScopeKind::OwnCity),
                    (Role::Province, Action::View | Action::Review | Action::Export) => {
                        Some(ScopeKind::All)
                    }
                    _ => None,
                };
                assert_eq!(
                    permission(role, Resource::ChangeRequest, action),
                    expected,
                    "{role:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn reports_are_written_by_the_cluster_reviewed_by_city_and_province() {
        use crate::report::Status;
        for role in Role::ALL {
            for action in Action::ALL {
                let expected = match (role, action) {
                    (Role::Applicant, Action::View | Action::Create | Action::Update) => {
                        Some(ScopeKind::OwnOrg)
                    }
                    (Role::CityBureau, Action::View | Action::Review | Action::Export) => {
                        Some(ScopeKind::OwnCity)
                    }
                    (Role::CountyBureau, Action::View) => Some(ScopeKind::OwnCounty),
                    (Role::Province, Action::View | Action::Review | Action::Export) => {
                        Some(ScopeKind::All)
                    }
                    _ => None,
                };
                assert_eq!(
                    permission(role, Resource::Report, action),
                    expected,
                    "{role:?} {action:?}"
                );
            }
            for status in Status::ALL {
                let expected = match role {
                    Role::Applicant => true,
                    Role::CityBureau | Role::CountyBureau | Role::Province => {
                        status != Status::Draft
                    }
                    _ => false,
                };
                assert_eq!(
                    report_in_reach(role, status),
                    expected,
                    "{role:?} {status:?}"
                );
            }
        }
    }

    #[test]
    fn the_province_keeps_the_ledger_and_others_read_their_own() {
        for role in Role::ALL {
            for action in Action::ALL {
                let expected = match (role, action) {
                    (
                        Role::Province,
                        Action::View | Action::Create | Action::Update | Action::Export,
                    ) => Some(ScopeKind::All),
                    (Role::CityBureau, Action::View | Action::Export) => Some(ScopeKind::OwnCity),
                    (Role::Applicant, Action::View) => Some(ScopeKind::OwnOrg),
                    _ => None,
                };
                assert_eq!(
                    permission(role, Resource::Funding, action),
                    expected,
                    "{role:?} {action:?}"
                );
            }
        }
    }

    /// 第十六条: the county bureau reads its county's clusters and what hangs off them and
    /// comments in the city's 初审, and does nothing only the city or the province may do.
    #[test]
    fn a_county_bureau_reads_its_county_and_only_comments() {
        for resource in Resource::ALL {
            for action in Action::ALL {
                let expected = match (resource, action) {
                    (
                        Resource::Policy | Resource::Competition | Resource::Calendar,
                        Action::View,
                    ) => Some(ScopeKind::All),
                    (Resource::User, Action::View) => Some(ScopeKind::OwnAccount),
                    (
                        Resource::Cluster
                        | Resource::Application
                        | Resource::Certificate
                        | Resource::Report
                        | Resource::Revocation
                        | Resource::Recheck,
                        Action::View,
                    ) => Some(ScopeKind::OwnCounty),
                    (Resource::Application, Action::Comment) => Some(ScopeKind::OwnCounty),
                    _ => None,
                };
                assert_eq!(
                    permission(Role::CountyBureau, resource, action),
                    expected,
                    "{resource:?} {action:?}"
                );
            }
        }
        // Only the county comments; only the city decides the 初审.
        for role in Role::ALL {
            assert_eq!(
                permission(role, Resource::Application, Action::Comment).is_some(),
                role == Role::CountyBureau,
                "{role:?}"
            );
            assert_eq!(
                permission(role, Resource::Application, Action::Review).is_some(),
                role == Role::CityBureau,
                "{role:?}"
            );
        }
        assert_eq!(Role::CountyBureau.org_kind(), OrgKind::CountyBureau);
        assert!(!Role::CountyBureau.requires_second_factor());
        assert!(!role_change_allowed(Role::CityBureau, Role::CountyBureau));
    }
}
