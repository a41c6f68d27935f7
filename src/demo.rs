//! Demo data a newcomer can click through: every role, with known passwords and second factors.

use crate::store::id::{ApplicationId, CompetitionId, EntryId, OrgId, RoundId, UserId};
use jiqun_domain::access::{OrgKind, Role};
use jiqun_domain::audit::sm3_hex;
use jiqun_domain::credit_code::CreditCode;
use jiqun_domain::region;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::app::App;
use crate::audit::{Actor, Audit, Event};
use crate::auth::{password, totp};
use crate::error::AppError;
use crate::store::{
    self,
    entity::{expert, organisation, user},
};

/// The shared demo password (meets the complexity rules). Demo only.
pub const DEMO_PASSWORD: &str = "Jiqun@2026demo";

/// A fixed TOTP secret per demo account, so the banner can print it before the server starts.
pub fn demo_secret(username: &str) -> String {
    let digest = sm3_hex(format!("jiqun-demo-totp-{username}").as_bytes());
    let bytes = hex::decode(&digest[..40]).unwrap_or_default();
    totp_rs::Secret::from(bytes).to_base32()
}

struct DemoUser {
    username: &'static str,
    name: &'static str,
    role: Role,
    org: &'static str,
}

/// The demo county bureau: (city, county, organisation, username).
const COUNTY_USER: (&str, &str, &str, &str) =
    ("430100", "430121", "长沙县工业和信息化局", "changshaxian");

const CITY_USERS: [(&str, &str); 14] = [
    ("430100", "changsha"),
    ("430200", "zhuzhou"),
    ("430300", "xiangtan"),
    ("430400", "hengyang"),
    ("430500", "shaoyang"),
    ("430600", "yueyang"),
    ("430700", "changde"),
    ("430800", "zhangjiajie"),
    ("430900", "yiyang"),
    ("431000", "chenzhou"),
    ("431100", "yongzhou"),
    ("431200", "huaihua"),
    ("431300", "loudi"),
    ("433100", "xiangxi"),
];

/// The demo expert pool: (username, name, employer, city, fields). They work in six different
/// cities, so every demo cluster has conflict-free experts.
const EXPERTS: [(&str, &str, &str, &str, &str); 6] = [
    (
        "expert",
        "评审专家 赵教授",
        "中南大学",
        "430100",
        "工程机械、智能制造",
    ),
    (
        "expert2",
        "评审专家 钱研究员",
        "湘潭大学",
        "430300",
        "新材料、化工",
    ),
    (
        "expert3",
        "评审专家 孙教授",
        "南华大学",
        "430400",
        "核技术、装备制造",
    ),
    (
        "expert4",
        "评审专家 李高工",
        "湖南文理学院",
        "430700",
        "产业经济、园区规划",
    ),
    (
        "expert5",
        "评审专家 周教授",
        "湘南学院",
        "431000",
        "电子信息、有色金属",
    ),
    (
        "expert6",
        "评审专家 吴研究员",
        "怀化学院",
        "431200",
        "生物医药、食品加工",
    ),
];

const PROVINCE: &str = "湖南省工业和信息化厅";

/// A division code written into the demo source; a typo there is a bug, not a user error.
fn region_code(code: &str) -> Result<jiqun_domain::region::RegionCode, AppError> {
    code.parse()
        .map_err(|e| AppError::internal(format!("demo region code: {e}")))
}

fn bureau_name(city: &str) -> String {
    format!("{city}工业和信息化局")
}

async fn org(
    app: &App,
    txn: &sea_orm::DatabaseTransaction,
    name: &str,
    kind: OrgKind,
    city: Option<&str>,
    county: Option<&str>,
    credit_body: Option<&str>,
) -> Result<organisation::Model, AppError> {
    let now = app.clock.now();
    let credit_code = match (credit_body, city) {
        (Some(body), Some(city)) => Some(
            CreditCode::from_parts('5', '1', city, body)
                .map_err(|e| AppError::internal(format!("demo credit code: {e}")))?
                .as_str()
                .to_string(),
        ),
        _ => None,
    };
    Ok(organisation::ActiveModel {
        name: Set(name.into()),
        kind: Set(kind),
        credit_code: Set(credit_code),
        city_code: Set(city.map(region_code).transpose()?),
        county_code: Set(county.map(region_code).transpose()?),
        contact_person: Set("演示联系人".into()),
        contact_phone: Set("0731-88000000".into()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// Seeds the demo data when the database has no users, and returns the banner to print.
pub async fn seed(app: &App) -> Result<String, AppError> {
    if user::Entity::find().count(&app.db).await? == 0 {
        seed_data(app).await?;
    }
    Ok(banner(app))
}

async fn seed_data(app: &App) -> Result<(), AppError> {
    let txn = store::write_txn(&app.db).await?;
    let mut orgs = std::collections::HashMap::new();
    orgs.insert(
        PROVINCE.to_string(),
        org(
            app,
            &txn,
            PROVINCE,
            OrgKind::ProvincialDept,
            None,
            None,
            None,
        )
        .await?,
    );
    for (code, _) in CITY_USERS {
        let city = code
            .parse()
            .ok()
            .and_then(region::city)
            .ok_or_else(|| AppError::internal(format!("demo city {code}")))?;
        let name = bureau_name(city.name());
        orgs.insert(
            code.to_string(),
            org(
                app,
                &txn,
                &name,
                OrgKind::CityBureau,
                Some(code),
                None,
                None,
            )
            .await?,
        );
    }
    // 第十六条: the county bureau of the showcase's 长沙 cluster's lead county (长沙县).
    let (county_city, county_code, county_org, _) = COUNTY_USER;
    orgs.insert(
        county_org.to_string(),
        org(
            app,
            &txn,
            county_org,
            OrgKind::CountyBureau,
            Some(county_city),
            Some(county_code),
            None,
        )
        .await?,
    );
    let promotion = [
        ("长沙工程机械产业集群促进会", "430100", "430121", "MJJ0001"),
        (
            "株洲轨道交通装备产业集群促进会",
            "430200",
            "430204",
            "MJJ0002",
        ),
        ("岳阳石化产业集群促进会", "430600", "430603", "MJJ0003"),
    ];
    for (name, city, county, body) in promotion {
        let body = format!("{body}0");
        orgs.insert(
            name.to_string(),
            org(
                app,
                &txn,
                name,
                OrgKind::PromotionOrg,
                Some(city),
                Some(county),
                Some(&body),
            )
            .await?,
        );
    }
    orgs.insert(
        "湖南省财政厅".into(),
        org(
            app,
            &txn,
            "湖南省财政厅",
            OrgKind::PartnerDept,
            None,
            None,
            None,
        )
        .await?,
    );
    for (_, _, home, city, _) in EXPERTS {
        orgs.insert(
            home.to_string(),
            org(app, &txn, home, OrgKind::ExpertHome, Some(city), None, None).await?,
        );
    }
    Audit::by(app, Actor::console("demo"), app.clock.now())
        .record(
            &txn,
            Event {
                action: "demo.seed",
                object_type: "organisation",
                object_id: "*".into(),
                summary: format!("写入演示单位{}个", orgs.len()),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;

    let mut people = vec![
        DemoUser {
            username: "sysadmin",
            name: "系统管理员",
            role: Role::SysAdmin,
            org: PROVINCE,
        },
        DemoUser {
            username: "secadmin",
            name: "安全管理员",
            role: Role::SecAdmin,
            org: PROVINCE,
        },
        DemoUser {
            username: "auditor",
            name: "审计管理员",
            role: Role::AuditAdmin,
            org: PROVINCE,
        },
        DemoUser {
            username: "province",
            name: "产业集聚推进处 李处长",
            role: Role::Province,
            org: PROVINCE,
        },
        DemoUser {
            username: "partner",
            name: "财政厅 王科长",
            role: Role::Partner,
            org: "湖南省财政厅",
        },
        DemoUser {
            username: "applicant",
            name: "长沙工程机械促进会 刘秘书长",
            role: Role::Applicant,
            org: "长沙工程机械产业集群促进会",
        },
        DemoUser {
            username: "applicant2",
            name: "岳阳石化促进会 陈秘书长",
            role: Role::Applicant,
            org: "岳阳石化产业集群促进会",
        },
    ];
    for (username, name, home, _, _) in EXPERTS {
        people.push(DemoUser {
            username,
            name,
            role: Role::Expert,
            org: home,
        });
    }
    for (code, username) in CITY_USERS {
        people.push(DemoUser {
            username,
            name: "市州工信局 经办人",
            role: Role::CityBureau,
            org: code,
        });
    }
    people.push(DemoUser {
        username: COUNTY_USER.3,
        name: "县工信局 经办人",
        role: Role::CountyBureau,
        org: COUNTY_USER.2,
    });
    let hash = password::hash(DEMO_PASSWORD).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let audit = Audit::by(app, Actor::console("demo"), now);
    for person in &people {
        let org = orgs
            .get(person.org)
            .ok_or_else(|| AppError::internal(format!("demo org {}", person.org)))?;
        let mfa = person.role.requires_second_factor();
        let m = user::ActiveModel {
            username: Set(person.username.into()),
            display_name: Set(person.name.into()),
            org_id: Set(org.id),
            role: Set(person.role),
            phone: Set(String::new()),
            email: Set(String::new()),
            password_hash: Set(hash.clone()),
            must_change_password: Set(false),
            failed_logins: Set(0),
            locked_until: Set(None),
            totp_secret: Set(mfa.then(|| demo_secret(person.username))),
            totp_enabled: Set(mfa),
            totp_last_step: Set(None),
            recovery_codes: Set("[]".into()),
            active: Set(true),
            activation_pending: Set(false),
            version: Set(1),
            password_changed_at: Set(now),
            last_login_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(clear) = &m.totp_secret {
            // Sealed like every stored second factor; the row's id is part of the seal.
            let mut sealed: user::ActiveModel = m.clone().into();
            sealed.totp_secret = Set(Some(crate::auth::totp::sealed_secret(app, m.id, clear)));
            sealed.update(&txn).await?;
        }
        audit
            .record(
                &txn,
                Event {
                    action: "user.create",
                    object_type: "user",
                    object_id: m.id.to_string(),
                    summary: format!(
                        "写入演示账户 {}（{}）",
                        person.username,
                        person.role.label()
                    ),
                    ..Default::default()
                },
            )
            .await?;
    }
    for (username, name, home, city, fields) in EXPERTS {
        let account = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal(format!("demo expert {username}")))?;
        expert::ActiveModel {
            user_id: Set(account.id),
            name: Set(name.trim_start_matches("评审专家 ").into()),
            fields: Set(fields.replace('、', "\n")),
            city_code: Set(region_code(city)?),
            employer: Set(home.into()),
            affiliations: Set(String::new()),
            active: Set(true),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// What `serve --demo` seeds: the accounts, and on a database without competitions the
/// showcase competition, ready for a 初赛.
pub async fn seed_for_serve(app: &App) -> Result<String, AppError> {
    let mut banner = seed(app).await?;
    if crate::store::entity::competition::Entity::find()
        .count(&app.db)
        .await?
        == 0
    {
        seed_showcase(app).await?;
        seed_reports(app).await?;
        seed_city(app).await?;
        banner.push_str(
            "演示市级竞赛（第十六条）：长沙市工信局的2026年长沙市先进制造业集群竞赛（市级模板政策），3个长沙集群已提交申报，\n\
             长沙市专家库有3名专家（csexpert1、csexpert2、csexpert3）；以 changsha 登录开设“市级评审”，组建评审组、分配专家并评分。\n",
        );
        banner.push_str(
            "演示发展情况报告：长沙新能源汽车（培育对象）和岳阳绿色化工（省先进制造业集群）已有报告在办，\n\
             其中岳阳绿色化工2026年半年度报告逾期未报，长沙新能源汽车2025年度报告有数据提示；以 applicant、changsha、yueyang 或 province 登录查看“发展情况报告”。\n",
        );
        banner.push_str(
            "演示竞赛：2026年湖南省先进制造业集群竞赛，长沙、株洲、岳阳3个集群已推荐至省工信厅；\n\
             以 province 登录，在“竞赛通知”中开设初赛，即可体验专家评审、公示与认定全过程。\n",
        );
    }
    Ok(banner)
}

fn banner(app: &App) -> String {
    let mut out = String::new();
    out.push_str("================ jiqun 演示数据 ================\n");
    out.push_str(&format!("所有演示账户的密码：{DEMO_PASSWORD}\n"));
    out.push_str("角色              用户名        第二因素（TOTP 密钥，可加入任意验证器应用）\n");
    let rows = [
        ("系统管理员", "sysadmin"),
        ("安全管理员", "secadmin"),
        ("审计管理员", "auditor"),
        ("省工信厅", "province"),
        ("有关部门", "partner"),
        ("评审专家", "expert"),
        ("评审专家", "expert2"),
        ("评审专家", "expert3"),
        ("申报主体", "applicant"),
        ("申报主体(岳阳)", "applicant2"),
        ("市州工信局(长沙)", "changsha"),
        ("市州工信局(岳阳)", "yueyang"),
    ];
    for (label, username) in rows {
        let needs = matches!(username, "sysadmin" | "secadmin" | "auditor" | "province");
        out.push_str(&format!(
            "{:<16}  {:<12}  {}\n",
            label,
            username,
            if needs {
                demo_secret(username)
            } else {
                "—".into()
            }
        ));
    }
    out.push_str("其余评审专家账户：expert4、expert5、expert6\n");
    out.push_str("其余12个市州工信局账户：zhuzhou、xiangtan、hengyang、shaoyang、changde、zhangjiajie、yiyang、chenzhou、yongzhou、huaihua、loudi、xiangxi\n");
    out.push_str(
        "没有验证器应用时，可在另一个终端运行 `cargo run --release -- totp-code <密钥>`（已安装 jiqun 时为 `jiqun totp-code <密钥>`） 取得当前验证码。\n",
    );
    out.push_str(&format!("数据目录：{}\n", app.config.data_dir.display()));
    out.push_str("================================================\n");
    let _ = totp::ISSUER;
    out
}

/// What [`seed_showcase`] created.
#[derive(Debug, Clone)]
pub struct Showcase {
    pub competition_id: CompetitionId,
    /// The recommended applications: 长沙 (leading), 株洲 (leading), 岳阳 (specialty).
    pub application_ids: Vec<ApplicationId>,
}

/// A demo cluster of the showcase competition.
struct DemoCluster {
    org: &'static str,
    name: &'static str,
    kind: &'static str,
    industry: &'static str,
    county: &'static str,
    park: &'static str,
    /// (name, credit-code body)
    members: [(&'static str, &'static str); 2],
}

const SHOWCASE: [DemoCluster; 3] = [
    DemoCluster {
        org: "长沙工程机械产业集群促进会",
        name: "长沙工程机械产业集群",
        kind: "leading",
        industry: "C35",
        county: "430121",
        park: "长沙经济技术开发区",
        members: [
            ("长沙中联重工科技有限公司", "MA4L001"),
            ("长沙山河智造股份有限公司", "MA4L002"),
        ],
    },
    DemoCluster {
        org: "株洲轨道交通装备产业集群促进会",
        name: "株洲轨道交通装备产业集群",
        kind: "leading",
        industry: "C37",
        county: "430204",
        park: "株洲高新技术产业开发区",
        members: [
            ("株洲电力机车装备有限公司", "MA4L003"),
            ("株洲时代电气股份有限公司", "MA4L004"),
        ],
    },
    DemoCluster {
        org: "岳阳石化产业集群促进会",
        name: "岳阳石化产业集群",
        kind: "specialty",
        industry: "C25",
        county: "430603",
        park: "岳阳绿色化工高新技术产业开发区",
        members: [
            ("岳阳长岭炼化有限公司", "MA4L005"),
            ("岳阳兴长石化股份有限公司", "MA4L006"),
        ],
    },
];

/// A complete, eligible form under `policy` for the demo applications.
fn showcase_form(
    policy: &jiqun_rules::Policy,
    revenue: u32,
    industry: &str,
) -> jiqun_rules::intake::FormData {
    use jiqun_rules::policy::ValueType;
    let mut form = jiqun_rules::intake::FormData::default();
    for c in &policy.criteria {
        for i in &c.indicators {
            let v = match i.value_type {
                ValueType::Text => "演示数据".to_string(),
                ValueType::IndustryCode => industry.to_string(),
                ValueType::Percent => "45.5".to_string(),
                _ => "120".to_string(),
            };
            form.indicators.insert(i.key.clone(), v);
        }
        form.narratives.insert(
            c.key.clone(),
            format!(
                "{}：集群围绕主导产业持续推进，成效明显（演示数据）。",
                c.name
            ),
        );
    }
    form.indicators
        .insert("cluster_revenue".into(), revenue.to_string());
    form.attested = policy
        .eligibility
        .negative_list
        .iter()
        .map(|n| n.key.clone())
        .collect();
    form
}

/// The policy the demo competition runs under: the successor template, in force from the day
/// the 2021 Measures ended, so a demonstration today shows no expiry warnings. Installed on
/// first use (audited like any installation) and never on a real installation.
pub async fn demo_policy(
    app: &App,
) -> Result<crate::services::competitions::BoundPolicy, AppError> {
    use crate::store::entity::policy;
    let (origin, text) = jiqun_rules::policy::SUCCESSOR_TEMPLATE_SOURCE;
    let hash = crate::services::policy::sm3_hex(text);
    let installed = policy::Entity::find()
        .filter(policy::Column::Sm3.eq(&hash))
        .count(&app.db)
        .await?
        > 0;
    if !installed {
        crate::services::policy::install_as(app, &Actor::console("demo"), text, origin).await?;
    }
    let policy = jiqun_rules::policy::Policy::parse(text, origin)
        .map_err(|e| AppError::internal(format!("successor template: {e}")))?;
    Ok(crate::services::competitions::BoundPolicy {
        policy,
        source: text.to_string(),
        sm3: hash,
    })
}

/// A 2026 competition whose city reviews are done: three clusters recommended to the province,
/// ready for a 初赛. `serve --demo` adds it, so a newcomer can run a round; tests use it too.
/// A demo cluster of `org` in `city`, spanning its lead county only: (name, kind, industry,
/// lead county, core park).
async fn demo_cluster<C: sea_orm::ConnectionTrait>(
    conn: &C,
    org: crate::store::id::OrgId,
    (name, kind, industry, county, park): (&str, &str, &str, &str, &str),
    city: jiqun_domain::region::RegionCode,
    now: time::OffsetDateTime,
) -> Result<crate::store::entity::cluster::Model, AppError> {
    use crate::store::entity::{cluster, cluster_county};
    let cl = cluster::ActiveModel {
        org_id: Set(org),
        name: Set(name.into()),
        kind: Set(kind.into()),
        industry_code: Set(industry.into()),
        lead_county_code: Set(region_code(county)?),
        city_code: Set(city),
        core_park: Set(park.into()),
        lifecycle: Set(crate::store::entity::kinds::Lifecycle::Applicant),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    cluster_county::ActiveModel {
        cluster_id: Set(cl.id),
        county_code: Set(region_code(county)?),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(cl)
}

pub async fn seed_showcase(app: &App) -> Result<Showcase, AppError> {
    use crate::store::entity::{application, cluster_member, competition, recommendation};
    let bound = demo_policy(app).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let province = user::Entity::find()
        .filter(user::Column::Username.eq("province"))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("demo province user".into()))?;
    let c = competition::ActiveModel {
        year: Set(2026),
        title: Set("2026年湖南省先进制造业集群竞赛".into()),
        policy_id: Set(bound.policy.identity.id.clone()),
        policy_source: Set(bound.source.clone()),
        policy_hash: Set(Some(bound.sm3.clone())),
        submission_deadline: Set(now - time::Duration::days(30)),
        review_deadline: Set(now - time::Duration::days(10)),
        notice_text: Set(
            "各市州工业和信息化局：根据《湖南省先进制造业集群培育管理办法》，现组织开展2026年度先进制造业集群竞赛（演示数据）。"
                .into(),
        ),
        status: Set(crate::store::entity::kinds::CompetitionStatus::Open),
        created_by: Set(province.id),
        version: Set(1),
        created_at: Set(now - time::Duration::days(60)),
        updated_at: Set(now - time::Duration::days(60)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut application_ids = Vec::new();
    for (i, demo) in SHOWCASE.iter().enumerate() {
        let DemoCluster {
            org: org_name,
            name,
            kind,
            industry,
            county,
            park,
            members,
        } = demo;
        let org = organisation::Entity::find()
            .filter(organisation::Column::Name.eq(*org_name))
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal(format!("demo org {org_name}")))?;
        let city_code = org
            .city_code
            .ok_or_else(|| AppError::internal(format!("demo org {org_name} has no city")))?;
        let city = city_code.to_string();
        let cl = demo_cluster(
            &txn,
            org.id,
            (*name, *kind, *industry, *county, *park),
            city_code,
            now,
        )
        .await?;
        for (member, body) in members {
            let code = CreditCode::from_parts('9', '1', &city, &format!("{body}0"))
                .map_err(|e| AppError::internal(format!("demo credit code: {e}")))?;
            cluster_member::ActiveModel {
                cluster_id: Set(cl.id),
                name: Set((*member).into()),
                credit_code: Set(code.as_str().to_string()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        let form = showcase_form(&bound.policy, 150 + 50 * i as u32, &cl.industry_code);
        let submitted = now - time::Duration::days(35);
        let a = application::ActiveModel {
            competition_id: Set(c.id),
            cluster_id: Set(cl.id),
            org_id: Set(org.id),
            city_code: Set(city_code),
            county_code: Set(region_code(county)?),
            kind: Set((*kind).into()),
            status: Set(jiqun_domain::application::Status::Recommended),
            form: Set(serde_json::to_string(&form).map_err(|e| AppError::internal(e.to_string()))?),
            revision: Set(1),
            submitted_at: Set(Some(submitted)),
            decided_at: Set(Some(now - time::Duration::days(15))),
            version: Set(1),
            created_at: Set(submitted),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let bureau_org = organisation::Entity::find()
            .filter(organisation::Column::Kind.eq(OrgKind::CityBureau))
            .filter(organisation::Column::CityCode.eq(city_code))
            .one(&txn)
            .await?
            .map_or(OrgId::new(0), |o| o.id);
        let bureau = user::Entity::find()
            .filter(user::Column::OrgId.eq(bureau_org))
            .one(&txn)
            .await?
            .map_or(province.id, |u| u.id);
        recommendation::ActiveModel {
            application_id: Set(a.id),
            letter_attachment_id: Set(None),
            letter_text: Set(format!(
                "关于推荐{name}申报2026年湖南省先进制造业集群的函（演示数据）"
            )),
            cap_justification: Set(String::new()),
            recommended_by: Set(bureau),
            recommended_at: Set(now - time::Duration::days(15)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        application_ids.push(a.id);
    }
    Audit::by(app, Actor::console("demo"), now)
        .record(
            &txn,
            Event {
                action: "demo.seed",
                object_type: "competition",
                object_id: c.id.to_string(),
                summary: format!("写入演示竞赛及{}项已推荐申报", application_ids.len()),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(Showcase {
        competition_id: c.id,
        application_ids,
    })
}

/// 长沙's own pool for its city competition: (username, name, employer, fields).
pub const CITY_EXPERTS: [(&str, &str, &str, &str); 3] = [
    ("csexpert1", "陈教授", "湖南大学", "工程机械、智能制造"),
    ("csexpert2", "林研究员", "长沙理工大学", "新材料、储能"),
    ("csexpert3", "黄高工", "湖南师范大学", "电子信息、生物医药"),
];

/// 长沙's clusters entering its city competition: (name, kind, industry, lead county, park).
const CITY_CLUSTERS: [(&str, &str, &str, &str, &str); 3] = [
    (
        "长沙电子信息产业集群",
        "leading",
        "C39",
        "430104",
        "长沙高新技术产业开发区",
    ),
    (
        "浏阳生物医药产业集群",
        "specialty",
        "C27",
        "430181",
        "浏阳经济技术开发区",
    ),
    (
        "宁乡先进储能材料产业集群",
        "specialty",
        "C38",
        "430182",
        "宁乡高新技术产业园区",
    ),
];

/// 第十六条: 长沙's own 2026 competition under the city template (installed and offered like
/// any installation), three 长沙 clusters' applications submitted to it, and 长沙's own expert
/// pool of three, so the 长沙 bureau can open its round and run it. Returns the call's id.
pub async fn seed_city(app: &App) -> Result<CompetitionId, AppError> {
    use crate::store::entity::{application, cluster_member, competition};
    let (origin, text) = jiqun_rules::policy::CITY_TEMPLATE_SOURCE;
    let hash = crate::services::policy::sm3_hex(text);
    let installed = crate::store::entity::policy::Entity::find()
        .filter(crate::store::entity::policy::Column::Sm3.eq(&hash))
        .count(&app.db)
        .await?
        > 0;
    if !installed {
        crate::services::policy::install_as(app, &Actor::console("demo"), text, origin).await?;
    }
    let policy = jiqun_rules::policy::Policy::parse(text, origin)
        .map_err(|e| AppError::internal(format!("city template: {e}")))?;
    let city = region_code("430100")?;
    let pw = password::hash(DEMO_PASSWORD).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let bureau = user::Entity::find()
        .filter(user::Column::Username.eq("changsha"))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("demo changsha user"))?;
    let applicant = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("长沙工程机械产业集群促进会"))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("demo 长沙 applicant"))?;
    let home = bureau.org_id;
    for (username, name, employer, fields) in CITY_EXPERTS {
        let account = user::ActiveModel {
            username: Set(username.into()),
            display_name: Set(format!("评审专家 {name}")),
            org_id: Set(home),
            role: Set(Role::Expert),
            phone: Set(String::new()),
            email: Set(String::new()),
            password_hash: Set(pw.clone()),
            must_change_password: Set(false),
            failed_logins: Set(0),
            locked_until: Set(None),
            totp_secret: Set(None),
            totp_enabled: Set(false),
            totp_last_step: Set(None),
            recovery_codes: Set("[]".into()),
            active: Set(true),
            activation_pending: Set(false),
            version: Set(1),
            password_changed_at: Set(now),
            last_login_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        expert::ActiveModel {
            user_id: Set(account.id),
            name: Set(name.into()),
            fields: Set(fields.replace('、', "\n")),
            city_code: Set(city),
            employer: Set(employer.into()),
            affiliations: Set(String::new()),
            active: Set(true),
            pool_city_code: Set(Some(city)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let c = competition::ActiveModel {
        year: Set(2026),
        title: Set("2026年长沙市先进制造业集群竞赛".into()),
        policy_id: Set(policy.identity.id.clone()),
        policy_source: Set(text.to_string()),
        policy_hash: Set(Some(hash)),
        submission_deadline: Set(now + time::Duration::days(5)),
        review_deadline: Set(now + time::Duration::days(20)),
        notice_text: Set(
            "各区县（市）工业和信息化主管部门：现组织开展2026年度长沙市先进制造业集群竞赛（演示数据）。"
                .into(),
        ),
        status: Set(crate::store::entity::kinds::CompetitionStatus::Open),
        organiser_city_code: Set(Some(city)),
        created_by: Set(bureau.id),
        version: Set(1),
        created_at: Set(now - time::Duration::days(20)),
        updated_at: Set(now - time::Duration::days(20)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (i, (name, kind, industry, county, park)) in CITY_CLUSTERS.into_iter().enumerate() {
        let cl = demo_cluster(
            &txn,
            applicant.id,
            (name, kind, industry, county, park),
            city,
            now,
        )
        .await?;
        let code = CreditCode::from_parts('9', '1', "430100", &format!("MA4L1{i:02}0"))
            .map_err(|e| AppError::internal(format!("demo credit code: {e}")))?;
        cluster_member::ActiveModel {
            cluster_id: Set(cl.id),
            name: Set(format!(
                "{}龙头企业有限公司",
                name.trim_end_matches("产业集群")
            )),
            credit_code: Set(code.as_str().to_string()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let form = showcase_form(&policy, 60 + 20 * i as u32, industry);
        let submitted = now - time::Duration::days(3);
        application::ActiveModel {
            competition_id: Set(c.id),
            cluster_id: Set(cl.id),
            org_id: Set(applicant.id),
            city_code: Set(city),
            county_code: Set(region_code(county)?),
            kind: Set(kind.into()),
            status: Set(jiqun_domain::application::Status::Submitted),
            form: Set(serde_json::to_string(&form).map_err(|e| AppError::internal(e.to_string()))?),
            revision: Set(1),
            submitted_at: Set(Some(submitted)),
            decided_at: Set(None),
            version: Set(1),
            created_at: Set(submitted),
            updated_at: Set(submitted),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    Audit::by(app, Actor::console("demo"), now)
        .record(
            &txn,
            Event {
                action: "demo.seed",
                object_type: "competition",
                object_id: c.id.to_string(),
                summary: format!(
                    "写入演示市级竞赛（长沙市）、{}项已提交申报及长沙市专家库{}名专家",
                    CITY_CLUSTERS.len(),
                    CITY_EXPERTS.len()
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(c.id)
}

/// A designated demo cluster and where its reports stand.
struct DemoTitled {
    org: &'static str,
    name: &'static str,
    kind: &'static str,
    industry: &'static str,
    county: &'static str,
    park: &'static str,
    designation: jiqun_domain::round::Designation,
    effective_on: time::Date,
    /// (period kind, year, status, 本期营业收入 in 亿元); a period the cluster owes but that is
    /// missing here is left unreported (overdue once its date has passed).
    reports: &'static [(
        &'static str,
        i32,
        jiqun_domain::report::Status,
        &'static str,
    )],
}

/// Two designated clusters beside the showcase, with reports at every stage: accepted,
/// forwarded to the province, waiting for the city bureau, returned, one overdue
/// (岳阳绿色化工's 2026 half-year report, due 31 July 2026) and one flagged (长沙新能源汽车's
/// 2025 revenue, 78% above 2024's), so the report pages and the workbenches have something to
/// show.
pub async fn seed_reports(app: &App) -> Result<(), AppError> {
    use crate::store::entity::{
        cluster, cluster_county, designation, report, report_event, report_version,
    };
    use jiqun_domain::report::Status;
    use jiqun_domain::round::Designation;
    use time::macros::date;

    let titled = [
        // In counties the showcase's clusters do not lead from, so the showcase 初赛 meets no
        // per-county cap (第十六条) a newcomer would have to justify.
        DemoTitled {
            org: "长沙工程机械产业集群促进会",
            name: "长沙新能源汽车产业集群",
            kind: "leading",
            industry: "C36",
            county: "430181",
            park: "长沙经济技术开发区",
            designation: Designation::CultivationTarget,
            effective_on: date!(2024 - 12 - 10),
            reports: &[
                ("annual", 2024, Status::Accepted, "180"),
                ("semi_annual", 2025, Status::Accepted, "150"),
                ("annual", 2025, Status::Forwarded, "320"),
                ("semi_annual", 2026, Status::Submitted, "170"),
            ],
        },
        DemoTitled {
            org: "岳阳石化产业集群促进会",
            name: "岳阳绿色化工产业集群",
            kind: "specialty",
            industry: "C26",
            county: "430682",
            park: "岳阳绿色化工高新技术产业开发区",
            designation: Designation::Certified,
            effective_on: date!(2025 - 01 - 15),
            reports: &[
                ("semi_annual", 2025, Status::Accepted, "130"),
                ("annual", 2025, Status::Returned, "280"),
            ],
        },
    ];
    let (policy, form) = crate::services::reports::policy_and_form(app)?;
    let prefixes = crate::services::policy::prefixes_of(&policy)?;
    let mut data = jiqun_rules::report_form::ReportData::default();
    for i in &form.indicators {
        data.indicators.insert(i.key.clone(), "26".into());
    }
    for sec in jiqun_rules::report_form::all_sections(&form) {
        data.sections.insert(
            sec.key.clone(),
            format!("{}：按年度计划推进，成效明显（演示数据）。", sec.name),
        );
    }
    data.indicators
        .insert("period_leading_revenue".into(), "45".into());
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let province = user::Entity::find()
        .filter(user::Column::Username.eq("province"))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("demo province user".into()))?;
    for (n, t) in titled.iter().enumerate() {
        let org = organisation::Entity::find()
            .filter(organisation::Column::Name.eq(t.org))
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal(format!("demo org {}", t.org)))?;
        let city_code = org
            .city_code
            .ok_or_else(|| AppError::internal(format!("demo org {} has no city", t.org)))?;
        let cl = cluster::ActiveModel {
            org_id: Set(org.id),
            name: Set(t.name.into()),
            kind: Set(t.kind.into()),
            industry_code: Set(t.industry.into()),
            lead_county_code: Set(region_code(t.county)?),
            city_code: Set(city_code),
            core_park: Set(t.park.into()),
            lifecycle: Set(crate::store::entity::kinds::Lifecycle::Applicant),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        cluster_county::ActiveModel {
            cluster_id: Set(cl.id),
            county_code: Set(region_code(t.county)?),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let year = t.effective_on.year();
        // Numbered in the title's own year; the showcase's rounds number 2026.
        let seq = u32::try_from(n).unwrap_or_default() + 1;
        let snapshot =
            crate::services::records::of_cluster(&txn, &cl, &policy, (None, None)).await?;
        designation::ActiveModel {
            cluster_id: Set(cl.id),
            round_id: Set(RoundId::new(0)),
            entry_id: Set(EntryId::new(0)),
            designation: Set(t.designation),
            effective_on: Set(t.effective_on),
            year: Set(year),
            seq: Set(i32::try_from(seq).unwrap_or_default()),
            certificate_number: Set(t.designation.certificate_number(&prefixes, year, seq)),
            superseded_on: Set(None),
            revoked_on: Set(None),
            revoke_reason: Set(String::new()),
            decided_by: Set(province.id),
            created_at: Set(now),
            snapshot: Set(snapshot.to_json()?),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        crate::services::designations::refresh_standing(&txn, cl.id, now).await?;
        let writer = user::Entity::find()
            .filter(user::Column::OrgId.eq(org.id))
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal(format!("demo user of {}", t.org)))?;
        for (kind, period_year, status, revenue) in t.reports {
            let submitted = *status != Status::Draft;
            // Filed a few days before the policy's date (on time on the dashboards), or now
            // when that day is still ahead.
            let filed_at = crate::services::reports::kind_from_key(kind)
                .and_then(|k| {
                    jiqun_rules::deadline::nominal_due_date(
                        &policy,
                        jiqun_rules::deadline::ReportPeriod {
                            kind: k,
                            year: *period_year,
                        },
                    )
                    .ok()
                })
                .map(|due| crate::clock::local_midnight(due - time::Duration::days(5)))
                .filter(|at| *at < now)
                .unwrap_or(now);
            let mut own = data.clone();
            own.indicators
                .insert("period_revenue".into(), (*revenue).into());
            let form_json =
                serde_json::to_string(&own).map_err(|e| AppError::internal(e.to_string()))?;
            let r = report::ActiveModel {
                cluster_id: Set(cl.id),
                org_id: Set(org.id),
                city_code: Set(city_code),
                period_kind: Set((*kind).into()),
                period_year: Set(*period_year),
                status: Set(*status),
                form: Set(form_json.clone()),
                revision: Set(i32::from(submitted)),
                city_opinion: Set(if matches!(status, Status::Submitted | Status::Draft) {
                    String::new()
                } else {
                    "情况属实，同意报送（演示数据）。".into()
                }),
                province_comment: Set(match status {
                    Status::Returned => "请补充奖励资金的使用进度（演示数据）。".into(),
                    _ => String::new(),
                }),
                submitted_at: Set(submitted.then_some(filed_at)),
                decided_at: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            if submitted {
                report_version::ActiveModel {
                    report_id: Set(r.id),
                    revision: Set(1),
                    form: Set(form_json.clone()),
                    submitted_by: Set(writer.id),
                    submitted_at: Set(filed_at),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                report_event::ActiveModel {
                    report_id: Set(r.id),
                    from_status: Set(Status::Draft),
                    to_status: Set(*status),
                    action: Set("submit".into()),
                    actor_user_id: Set(writer.id),
                    actor_name: Set(format!("{}（{}）", writer.display_name, t.org)),
                    comment: Set("演示数据：报告办理至当前状态".into()),
                    at: Set(filed_at),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        // The funding ledger (第十七条): the title's reward, paid, and a project's support,
        // planned, so the ledger and the dashboards show money from the first start.
        seed_funding(&txn, &policy, &cl, t.designation, province.id, now).await?;
    }
    Audit::by(app, Actor::console("demo"), now)
        .record(
            &txn,
            Event {
                action: "demo.seed",
                object_type: "report",
                object_id: "*".into(),
                summary: format!("写入演示认定集群{}个及其发展情况报告", titled.len()),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// A demo cluster's entries in the funding ledger: its title's reward at the policy's default
/// amount (已拨付) and one project from the policy's second fund (拟安排).
async fn seed_funding<C: sea_orm::ConnectionTrait>(
    txn: &C,
    policy: &jiqun_rules::Policy,
    cl: &crate::store::entity::cluster::Model,
    title: jiqun_domain::round::Designation,
    by: UserId,
    now: time::OffsetDateTime,
) -> Result<(), AppError> {
    use crate::store::entity::funding_entry;
    use jiqun_domain::funding::{EntryKind, FEN_PER_YUAN, Status};
    use jiqun_domain::round::Designation;

    let Some(funding) = &policy.funding else {
        return Ok(());
    };
    let mut entries = Vec::new();
    if let Some(r) = &funding.rewards {
        let (kind, yuan) = match title {
            Designation::CultivationTarget => {
                (EntryKind::RewardCultivation, r.cultivation_target_yuan)
            }
            Designation::Certified => (EntryKind::RewardCertified, r.certified_yuan),
        };
        let fen = i64::try_from(yuan).unwrap_or_default() * FEN_PER_YUAN;
        entries.push((
            kind,
            r.fund.clone(),
            kind.label().to_string(),
            fen,
            Status::Disbursed,
        ));
    }
    if let Some(fund) = funding.sources.get(1).or(funding.sources.first()) {
        entries.push((
            EntryKind::Project,
            fund.clone(),
            format!("{}公共服务平台建设（演示数据）", cl.name),
            2_500_000 * FEN_PER_YUAN,
            Status::Planned,
        ));
    }
    for (kind, fund, project, amount_fen, status) in entries {
        funding_entry::ActiveModel {
            cluster_id: Set(cl.id),
            org_id: Set(cl.org_id),
            city_code: Set(cl.city_code),
            kind: Set(kind),
            fund: Set(fund),
            project: Set(project),
            year: Set(2025),
            amount_fen: Set(amount_fen),
            document_number: Set(if status == Status::Disbursed {
                "湘财企指〔2025〕8号（演示）".into()
            } else {
                String::new()
            }),
            status: Set(status),
            note: Set(String::new()),
            created_by: Set(by),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}
