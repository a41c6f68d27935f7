//! The `jiqun` command line. Every subcommand resolves the same configuration.

use crate::store::id::OrgId;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use jiqun_domain::access::Role;

use crate::app::Shared;
use crate::audit::Actor;
use crate::config::{Config, ConfigArgs};
use crate::services::users::{self, CredentialAction, UserInput};

#[derive(Parser)]
#[command(
    name = "jiqun",
    version,
    about = "jiqun（集群）：产业集群培育的申报、评审、公示、认定与认定后管理",
    long_about = "jiqun（集群）：产业集群培育的申报、评审、公示、认定与认定后管理。\n\n\
常用：\n  jiqun serve --demo        以演示数据启动（SQLite，默认 http://127.0.0.1:8080）\n  \
jiqun audit verify        校验审计链是否被篡改\n  \
jiqun policy show         查看现行政策规则\n  \
jiqun calendar is-working-day 2026-10-01   查询某日是否为工作日\n\n\
配置可用命令行参数或环境变量（JIQUN_LISTEN、JIQUN_DATA_DIR、JIQUN_DATABASE_URL 等）给出，所有子命令读取同一份配置；\n系统名称与主管部门默认取内置政策规则，可用 JIQUN_SITE_NAME、JIQUN_DEPARTMENT 设置。"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// 启动网页和 API 服务
    Serve {
        /// 数据库为空时写入演示单位和账户，并打印各角色的登录方式
        #[arg(long)]
        demo: bool,
        /// 演示时钟：把演示环境的系统日期向后调到某日（如 2026-12-20），以便体验公示期满、确认与发证；只能与 --demo 同用，只对演示数据库有效
        #[arg(long, requires = "demo", value_name = "YYYY-MM-DD", value_parser = parse_day)]
        demo_today: Option<time::Date>,
    },
    /// 生成规模测试数据（仅供性能测量）：在新建的空数据库上写入演示账户，再经系统正常业务流程生成N个申报主体及已提交并推荐的申报、20名专家的初赛评分和公示名单
    Demo {
        /// 申报（集群）数量，例如 1000
        #[arg(long)]
        scale: usize,
    },
    /// 创建或升级数据库结构后退出
    Migrate,
    /// 账户管理（创建、重置密码、解锁）
    #[command(subcommand)]
    User(UserCommand),
    /// 列出单位（创建账户时需要单位编号）
    #[command(subcommand)]
    Org(OrgCommand),
    /// 审计日志
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 在线备份：数据库的一致性副本、全部附件和带 SM3 校验值的清单（审计密钥不在备份中，须另行保管）
    Backup {
        /// 备份目录（须不存在或为空）
        dir: std::path::PathBuf,
    },
    /// 从备份恢复到全新的数据目录（或空的 PostgreSQL 数据库）：先校验清单中每个文件，恢复后校验审计链
    Restore {
        /// 备份目录（jiqun backup 生成）
        dir: std::path::PathBuf,
    },
    /// 政策规则文件：检查文件格式、查看现行规则
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// 工作日历：查询工作日、计算工作日、导入下一年度节假日安排
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// 打印某个 TOTP 密钥当前的6位验证码（供演示或无手机时使用）
    TotpCode {
        /// Base32 编码的 TOTP 密钥
        secret: String,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// 创建账户（可创建三类管理员账户），打印初始密码
    Create {
        #[arg(long)]
        username: String,
        /// 姓名
        #[arg(long)]
        name: String,
        /// 角色：applicant、city_bureau、province、partner、expert、sys_admin、sec_admin、audit_admin
        #[arg(long)]
        role: String,
        /// 所属单位编号（见 jiqun org list）
        #[arg(long)]
        org_id: OrgId,
    },
    /// 重置密码：生成新的初始密码，用户下次登录须修改
    ResetPassword {
        username: String,
        /// 操作理由（记入审计日志）
        #[arg(long)]
        reason: String,
    },
    /// 解除因连续登录失败造成的锁定
    Unlock {
        username: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// 列出全部单位
    List,
    /// 登记单位（新系统先登记省工信厅，再用 jiqun user create 创建管理员账户）
    Create {
        /// 单位名称
        #[arg(long)]
        name: String,
        /// 类型：promotion_org、city_bureau、provincial_dept、partner_dept、expert_home
        #[arg(long)]
        kind: String,
        /// 统一社会信用代码（申报主体必填）
        #[arg(long, default_value = "")]
        credit_code: String,
        /// 市州代码，如 430100
        #[arg(long, default_value = "")]
        city_code: String,
        /// 县（市、区）代码，如 430121
        #[arg(long, default_value = "")]
        county_code: String,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// 逐条校验审计链；完好时退出码为0，发现篡改时指出第一条问题记录并以非0退出
    Verify,
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// 检查政策规则文件（TOML）：通过时打印规则摘要，退出码为0；有误时逐条列出“文件:行 键路径：原因”，退出码为1。无需数据库
    Check {
        /// 政策规则文件，例如 policies/hunan-2021.toml
        file: std::path::PathBuf,
    },
    /// 列出已安装的政策规则（策略标识、版本、有效期、状态、绑定的竞赛），再打印今天有效的规则摘要；没有有效版本时打印最近一版并注明已失效
    Show,
    /// 安装政策规则文件（系统管理员职责，记入审计日志）：与 check 相同的校验，有误时逐条列出“文件:行 键路径：原因”并以1退出；同一文件重复安装、同一策略标识和版本号对应不同内容时拒绝
    Install {
        /// 政策规则文件（TOML），例如 policies/hunan-2027.toml
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// 某日是否为工作日，打印“是”或“否”及原因，例如 否（国庆节）
    IsWorkingDay {
        /// 日期，格式 YYYY-MM-DD
        date: String,
    },
    /// 某日之后第N个工作日（N为0时：当日为工作日则为当日，否则为下一个工作日）
    AddWorkingDays {
        /// 起算日期，格式 YYYY-MM-DD
        date: String,
        /// 工作日数
        #[arg(allow_hyphen_values = true)]
        n: String,
    },
    /// 两个日期之间（含首尾两天）的工作日数
    WorkingDays {
        /// 开始日期，格式 YYYY-MM-DD
        from: String,
        /// 结束日期，格式 YYYY-MM-DD
        to: String,
    },
    /// 导入节假日安排文件（格式同内置的 cn-workdays.toml，每年一个 [YYYY] 表）；同一年度再次导入时替换先前的导入
    Import {
        /// 节假日安排文件（TOML）
        file: std::path::PathBuf,
        /// 允许替换系统内置年份（2021—2026）的安排：仅在国务院办公厅调整了该年安排时使用
        #[arg(long)]
        replace_builtin: bool,
    },
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Start(#[from] crate::server::StartError),
    #[error(transparent)]
    App(#[from] crate::error::AppError),
    #[error("{0}")]
    Message(String),
}

impl From<sea_orm::DbErr> for CliError {
    fn from(e: sea_orm::DbErr) -> Self {
        CliError::Message(format!("数据库错误：{e}"))
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

fn describe(e: &CliError) -> String {
    match e {
        CliError::App(crate::error::AppError::Invalid(fields)) => fields
            .iter()
            .map(|f| format!("{}：{}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("；"),
        other => other.to_string(),
    }
}

async fn open(config: &ConfigArgs, create_key: bool) -> Result<Shared, CliError> {
    let config = Config::resolve(config)?;
    Ok(std::sync::Arc::new(
        crate::server::open(config, create_key).await?,
    ))
}

fn parse_day(text: &str) -> Result<time::Date, String> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("日期“{text}”无效，应为 年-月-日，如 2026-12-20"))
}

fn operator() -> String {
    std::env::var("USER").unwrap_or_else(|_| "operator".into())
}

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Serve { demo, demo_today } => {
            let config = Config::resolve(&cli.config)?;
            init_tracing(config.log_format);
            // Bind before opening the database, so a port in use fails fast and clearly.
            let listener = crate::server::bind(config.listen).await?;
            let app = std::sync::Arc::new(crate::server::open(config, true).await?);
            if demo {
                let banner = crate::demo::seed_for_serve(&app).await?;
                println!("{banner}");
                match crate::services::demo_clock::start(&app, demo_today).await {
                    Ok(today) => println!(
                        "演示时钟：系统日期为{}，登录后可在页面顶部的“调整日期”中向后调整。",
                        crate::clock::day_for_people(today)
                    ),
                    Err(e) if demo_today.is_some() => return Err(CliError::Message(e.to_string())),
                    Err(e) => println!("{e}"),
                }
            }
            let addr = listener
                .local_addr()
                .map_err(|e| CliError::Message(e.to_string()))?;
            println!("jiqun 已启动：http://{addr}/ （按 Ctrl+C 停止）");
            crate::server::spawn_reminders(app.clone());
            crate::server::spawn_mailer(app.clone());
            crate::server::serve(app, listener)
                .await
                .map_err(|e| CliError::Message(format!("服务异常退出：{e}")))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { scale } => {
            let app = open(&cli.config, true).await?;
            println!("开始生成规模测试数据：{scale}项申报");
            let started = std::time::Instant::now();
            let done = crate::scale::generate(&app, scale, &|line| println!("{line}")).await?;
            println!("各阶段用时：");
            for (phase, secs) in &done.phases {
                println!("  {phase}：{secs:.1}秒");
            }
            println!(
                "规模测试数据已生成：{}项申报已推荐，初赛评分表{}份，公示入选{}个，共用时{:.1}秒。",
                done.applications,
                done.sheets,
                done.winners,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            open(&cli.config, true).await?;
            println!("数据库结构已是最新。");
            Ok(ExitCode::SUCCESS)
        }
        Command::User(cmd) => {
            let app = open(&cli.config, true).await?;
            user_command(&app, cmd).await
        }
        Command::Org(OrgCommand::Create {
            name,
            kind,
            credit_code,
            city_code,
            county_code,
        }) => {
            let app = open(&cli.config, true).await?;
            let created = crate::services::orgs::create_as(
                &app,
                &Actor::console(&operator()),
                &crate::services::orgs::OrgInput {
                    name,
                    kind,
                    credit_code,
                    city_code,
                    county_code,
                    ..Default::default()
                },
            )
            .await?;
            println!("已登记单位 {}（编号 {}）", created.name, created.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Org(OrgCommand::List) => {
            let app = open(&cli.config, true).await?;
            use sea_orm::{EntityTrait, QueryOrder};
            let rows = crate::store::entity::organisation::Entity::find()
                .order_by_asc(crate::store::entity::organisation::Column::Id)
                .all(&app.db)
                .await?;
            for o in rows {
                let view = crate::services::orgs::OrgView::from_model(&o);
                println!(
                    "{}\t{}\t{}\t{}",
                    o.id, o.name, view.kind_label, view.city_name
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify) => {
            let app = open(&cli.config, false).await?;
            verify_anchored(&app).await
        }
        Command::Backup { dir } => {
            let app = open(&cli.config, false).await?;
            let local = app.blobs.is_local();
            let done = crate::backup::backup_of(
                &app.db,
                &app.config.database_url,
                local.then_some(app.config.data_dir.as_path()),
                &dir,
                app.clock.now(),
            )
            .await
            .map_err(|e| CliError::Message(e.to_string()))?;
            if !local {
                println!(
                    "注意：附件保存在对象存储 {} 中，本次备份只包含数据库，不包含附件。请用对象存储自身的功能（版本控制、跨区域复制或其备份工具）另行备份该存储桶；附件按 SM3 命名且不会被改写，在本次备份之后做的存储桶副本包含数据库中登记的全部附件。",
                    app.blobs.describe()
                );
            }
            println!(
                "备份完成：{}，共{}个文件（其中附件{}个），{}。审计密钥（audit.key）与双因素密钥的加密密钥（secrets.key）未包含在备份中，请与备份分开保管。",
                dir.display(),
                done.files,
                done.attachments,
                jiqun_domain::attachment::human_size(done.bytes)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { dir } => {
            let config = Config::resolve(&cli.config)?;
            let done = crate::backup::restore(&dir, &config.database_url, &config.data_dir)
                .await
                .map_err(|e| CliError::Message(e.to_string()))?;
            println!(
                "已恢复{}个文件（其中附件{}个），校验值全部一致。",
                done.files, done.attachments
            );
            if let crate::config::AttachmentStore::S3(s3) = &config.attachments {
                println!(
                    "注意：配置的附件存放位置为对象存储 {}，恢复不写入对象存储。请用对象存储自身的功能恢复该存储桶中的附件。",
                    s3.url()
                );
            }
            // The restored trail is checked under the key put in place for it; the anchor then
            // moves to the restored head, since the entries after the backup are gone by intent.
            let app = open(&cli.config, false).await?;
            match crate::audit::verify(&app.db, &app.audit_key).await? {
                Ok(n) => {
                    let path = crate::audit_anchor::anchor_path(&app.config.audit_key_file);
                    let _ = std::fs::remove_file(&path);
                    crate::audit_anchor::advance(
                        &app.db,
                        &app.audit_key,
                        &app.config.audit_key_file,
                    )
                    .await
                    .map_err(|e| CliError::Message(e.to_string()))?;
                    println!(
                        "审计链完整：共{n}条记录，逐条校验通过；锚定记录已更新为恢复后的第{n}条。"
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(broken) => {
                    eprintln!("恢复后的审计链校验失败：{broken}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Policy(PolicyCommand::Check { file }) => {
            // No database is needed, but the configuration is still resolved (and checked).
            Config::resolve(&cli.config)?;
            policy_command(PolicyCommand::Check { file })
        }
        Command::Policy(cmd) => {
            let app = open(&cli.config, true).await?;
            installed_policy_command(&app, cmd).await
        }
        Command::Calendar(cmd) => {
            let app = open(&cli.config, true).await?;
            calendar_command(&app, cmd).await
        }
        Command::TotpCode { secret } => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let code = crate::auth::totp::code_at(secret.trim(), now)
                .map_err(|_| CliError::Message("密钥不是有效的 Base32 编码".into()))?;
            println!("{code}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Verifies the chain, then holds it against the anchor kept beside the key, so that an emptied
/// or cut-short trail fails too; an intact trail moves the anchor forward.
async fn verify_anchored(app: &Shared) -> Result<ExitCode, CliError> {
    let key_file = &app.config.audit_key_file;
    let n = match crate::audit::verify(&app.db, &app.audit_key).await? {
        Ok(n) => n,
        Err(broken) => {
            eprintln!("审计链校验失败：{broken}");
            return Ok(ExitCode::from(2));
        }
    };
    let anchor = crate::audit_anchor::anchor_path(key_file);
    let checked = match crate::audit_anchor::read(&anchor, &app.audit_key) {
        Ok(Some(a)) => crate::audit_anchor::check(&app.db, &a, n)
            .await
            .map(|()| Some(a)),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    match checked {
        Err(e) => {
            eprintln!("审计链校验失败：{e}");
            Ok(ExitCode::from(2))
        }
        Ok(anchored) => {
            crate::audit_anchor::advance(&app.db, &app.audit_key, key_file)
                .await
                .map_err(|e| CliError::Message(e.to_string()))?;
            match anchored {
                Some(a) => println!(
                    "审计链完整：共{n}条记录，逐条校验通过；与锚定记录（第{}条）一致。锚定文件：{}",
                    a.seq,
                    anchor.display()
                ),
                None => println!(
                    "审计链完整：共{n}条记录，逐条校验通过。已写入锚定文件：{}",
                    anchor.display()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn user_command(app: &Shared, cmd: UserCommand) -> Result<ExitCode, CliError> {
    let actor = Actor::console(&operator());
    match cmd {
        UserCommand::Create {
            username,
            name,
            role,
            org_id,
        } => {
            if Role::from_key(&role).is_none() {
                return Err(CliError::Message(format!(
                    "角色“{role}”无效，可选：{}",
                    Role::ALL.map(|r| r.key()).join("、")
                )));
            }
            let created = users::create_account(
                app,
                &actor,
                &UserInput {
                    username,
                    display_name: name,
                    org_id,
                    role,
                    phone: String::new(),
                    email: String::new(),
                },
                true,
                users::FirstCredential::IssueNow(None),
            )
            .await?;
            println!(
                "已创建账户 {}（{}），初始密码：{}\n首次登录须修改密码。",
                created.user.username,
                created.user.role_label,
                created.initial_password.unwrap_or_default()
            );
        }
        UserCommand::ResetPassword { username, reason } => {
            let target = find(app, &username).await?;
            let new = users::apply_credentials(
                app,
                &actor,
                &target,
                CredentialAction::ResetPassword,
                &reason,
            )
            .await?;
            println!(
                "已重置 {username} 的密码，新的初始密码：{}\n下次登录须修改密码。",
                new.unwrap_or_default()
            );
        }
        UserCommand::Unlock { username, reason } => {
            let target = find(app, &username).await?;
            users::apply_credentials(app, &actor, &target, CredentialAction::Unlock, &reason)
                .await?;
            println!("已解除 {username} 的锁定。");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn find(app: &Shared, username: &str) -> Result<crate::store::entity::user::Model, CliError> {
    users::find_by_username(app, username)
        .await?
        .ok_or_else(|| CliError::Message(format!("用户“{username}”不存在")))
}

/// Reads a text file named on the command line, with a Chinese message on failure.
fn read_text(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "文件不存在".to_string(),
            std::io::ErrorKind::PermissionDenied => "没有读取权限".to_string(),
            std::io::ErrorKind::InvalidData => "不是UTF-8编码的文本文件".to_string(),
            _ => e.to_string(),
        };
        CliError::Message(format!("无法读取文件“{}”：{why}", path.display()))
    })
}

fn policy_command(cmd: PolicyCommand) -> Result<ExitCode, CliError> {
    use crate::services::policy;
    match cmd {
        PolicyCommand::Check { file } => {
            let text = read_text(&file)?;
            let origin = file.display().to_string();
            match policy::check(&text, &origin) {
                Ok(p) => {
                    println!("{}", p.summary());
                    println!("\n检查通过：“{origin}”格式正确（策略标识 {}）。", p.id());
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    eprintln!("政策规则文件“{origin}”有{}处错误：", errors.len());
                    for e in errors {
                        eprintln!("{e}");
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        PolicyCommand::Show | PolicyCommand::Install { .. } => {
            Err(CliError::Message("该命令需要数据库".into()))
        }
    }
}

/// `policy show` and `policy install`: the policies installed in the database.
async fn installed_policy_command(app: &Shared, cmd: PolicyCommand) -> Result<ExitCode, CliError> {
    use crate::services::policy;
    match cmd {
        PolicyCommand::Install { file } => {
            let text = read_text(&file)?;
            let origin = file.display().to_string();
            let actor = Actor::console(&operator());
            match policy::install_as(app, &actor, &text, &origin).await {
                Ok(v) => {
                    println!(
                        "已安装《{}》（{}），策略标识 {}，版本 {}，有效期 {}（{}），SM3 {}。",
                        v.name, v.document_number, v.key, v.version, v.validity, v.standing, v.sm3
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::error::AppError::Invalid(fields)) => {
                    eprintln!("政策规则文件“{origin}”有{}处错误，未安装：", fields.len());
                    for f in fields {
                        eprintln!("{}", f.message);
                    }
                    Ok(ExitCode::FAILURE)
                }
                Err(crate::error::AppError::Conflict(why)) => {
                    eprintln!("未安装：{why}");
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.into()),
            }
        }
        PolicyCommand::Show | PolicyCommand::Check { .. } => {
            let today = crate::services::calendar::today(app);
            println!("已安装的政策规则：");
            for v in policy::list_console(app).await? {
                let calls: Vec<String> = v
                    .competitions
                    .iter()
                    .map(|c| format!("{}年度“{}”（编号{}）", c.year, c.title, c.id))
                    .collect();
                println!(
                    "  {} 版本{}《{}》（{}）有效期 {}，{}{}；{}，{}于{}安装；绑定的竞赛：{}",
                    v.key,
                    v.version,
                    v.name,
                    v.document_number,
                    v.validity,
                    v.standing,
                    if v.offered {
                        ""
                    } else {
                        "（已有更高版本）"
                    },
                    v.origin,
                    v.installed_by,
                    v.installed_at,
                    if calls.is_empty() {
                        "无".to_string()
                    } else {
                        calls.join("、")
                    }
                );
            }
            let current = policy::current_installed(app).await?;
            let warning = current.warning(today);
            println!();
            if !warning.is_empty() {
                println!("{warning}\n");
            }
            println!("{}", current.policy.summary());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn date_arg(text: &str) -> Result<time::Date, CliError> {
    crate::services::calendar::parse_date(text).map_err(|e| CliError::Message(e.to_string()))
}

/// A calendar question the calendar cannot answer (usually a year not imported yet).
fn calendar_error(e: jiqun_rules::CalendarError) -> CliError {
    match e {
        jiqun_rules::CalendarError::YearNotCovered(_) => CliError::Message(format!(
            "{e}（由系统管理员在“工作日历”页面导入，或运行 jiqun calendar import 文件）"
        )),
        other => CliError::Message(other.to_string()),
    }
}

async fn calendar_command(app: &Shared, cmd: CalendarCommand) -> Result<ExitCode, CliError> {
    use crate::services::calendar;
    match cmd {
        CalendarCommand::IsWorkingDay { date } => {
            let date = date_arg(&date)?;
            let cal = calendar::load(app).await?;
            let kind = cal.is_working_day(date).map_err(calendar_error)?;
            println!("{}", calendar::answer(&kind));
        }
        CalendarCommand::AddWorkingDays { date, n } => {
            let date = date_arg(&date)?;
            let n = calendar::parse_count(&n).map_err(|e| CliError::Message(e.to_string()))?;
            let cal = calendar::load(app).await?;
            let day = cal.add_working_days(date, n).map_err(calendar_error)?;
            println!("{day}");
        }
        CalendarCommand::WorkingDays { from, to } => {
            let (from, to) = (date_arg(&from)?, date_arg(&to)?);
            let cal = calendar::load(app).await?;
            let n = cal.working_days_between(from, to).map_err(calendar_error)?;
            println!("{n}");
        }
        CalendarCommand::Import {
            file,
            replace_builtin,
        } => {
            let text = read_text(&file)?;
            let actor = Actor::console(&operator());
            match calendar::import_as(app, &actor, &text, replace_builtin).await {
                Ok(done) => {
                    println!(
                        "已导入{}节假日安排（来自“{}”）。",
                        done.years_label(),
                        file.display()
                    );
                    if !done.replaced_imports.is_empty() {
                        println!(
                            "其中{}替换了此前导入的版本。",
                            calendar::years_label(&done.replaced_imports)
                        );
                    }
                    if !done.replaced_builtin.is_empty() {
                        println!(
                            "其中{}覆盖了系统内置安排。",
                            calendar::years_label(&done.replaced_builtin)
                        );
                    }
                }
                Err(crate::error::AppError::Invalid(fields)) => {
                    for f in fields {
                        eprintln!("错误：{}", f.message);
                    }
                    eprintln!("“{}”未导入任何内容。", file.display());
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `RUST_LOG` filters (default `info`, with the SQL drivers at `warn`); the format comes from
/// the configuration.
fn init_tracing(format: crate::config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        crate::config::LogFormat::Text => builder.try_init(),
        crate::config::LogFormat::Json => builder.json().try_init(),
    };
}
