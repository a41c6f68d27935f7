//! Configuration: flags, then environment variables, then an optional TOML file, then defaults.
//! Every subcommand resolves the same configuration, so `jiqun audit verify` checks the database
//! that `jiqun serve` used.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// 配置文件（TOML），可选
    #[arg(long, env = "JIQUN_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// 监听地址，默认 127.0.0.1:8080
    #[arg(long, env = "JIQUN_LISTEN", global = true, value_name = "ADDR")]
    pub listen: Option<String>,
    /// 数据目录：SQLite 数据库文件、附件与审计密钥所在目录，默认 ./data
    #[arg(long, env = "JIQUN_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// 数据库地址（sqlite://… 或 postgres://…），默认为数据目录下的 jiqun.db
    #[arg(long, env = "JIQUN_DATABASE_URL", global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// 审计密钥文件，默认为数据目录下的 audit.key（务必与数据库分开备份）
    #[arg(long, env = "JIQUN_AUDIT_KEY_FILE", global = true, value_name = "FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// 连续登录失败多少次后锁定账户，默认 5
    #[arg(long, env = "JIQUN_LOCKOUT_THRESHOLD", global = true)]
    pub lockout_threshold: Option<u32>,
    /// 账户锁定时长（分钟），默认 15
    #[arg(long, env = "JIQUN_LOCKOUT_MINUTES", global = true)]
    pub lockout_minutes: Option<u32>,
    /// 会话空闲超时（分钟），默认 30
    #[arg(long, env = "JIQUN_IDLE_TIMEOUT_MINUTES", global = true)]
    pub idle_timeout_minutes: Option<u32>,
    /// 同一客户端地址在时间窗内最多可失败的登录与双因素验证次数，超过后返回 429，默认 20
    #[arg(long, env = "JIQUN_LOGIN_ADDRESS_LIMIT", global = true)]
    pub login_address_limit: Option<u32>,
    /// 上述登录失败计数的时间窗（分钟），默认 10
    #[arg(long, env = "JIQUN_LOGIN_ADDRESS_WINDOW_MINUTES", global = true)]
    pub login_address_window_minutes: Option<u32>,
    /// 会话最长有效期（小时），无论是否活跃，到期须重新登录，默认 12
    #[arg(long, env = "JIQUN_SESSION_MAX_HOURS", global = true)]
    pub session_max_hours: Option<u32>,
    /// 要求评审专家启用双因素认证（true/false），默认 false
    #[arg(long, env = "JIQUN_EXPERT_SECOND_FACTOR", global = true)]
    pub expert_second_factor: Option<bool>,
    /// 仅通过 HTTPS 发送会话 Cookie（在 TLS 反向代理之后部署时开启）
    #[arg(long, env = "JIQUN_COOKIE_SECURE", global = true)]
    pub cookie_secure: Option<bool>,
    /// 邮件中继地址（如 smtp://relay.internal:25），设置后通知同时以电子邮件发送
    #[arg(long, env = "JIQUN_SMTP_URL", global = true, value_name = "URL")]
    pub smtp_url: Option<String>,
    /// 发件人（如 "湖南省工信厅 <noreply@example.gov.cn>"）
    #[arg(long, env = "JIQUN_SMTP_FROM", global = true)]
    pub smtp_from: Option<String>,
    /// 证书 PDF 所用中文字体文件（.ttf/.otf/.ttc）；默认依次尝试 Noto CJK 与文泉驿字体
    #[arg(long, env = "JIQUN_PDF_FONT", global = true, value_name = "FILE")]
    pub pdf_font: Option<PathBuf>,
    /// 同一客户端地址每小时最多可提交的公示异议件数，默认 5
    #[arg(long, env = "JIQUN_OBJECTION_RATE_LIMIT", global = true)]
    pub objection_rate_limit: Option<u32>,
    /// 前置反向代理的地址（逗号分隔）；来自这些地址的请求按 X-Forwarded-For 识别客户端地址
    #[arg(
        long,
        env = "JIQUN_TRUSTED_PROXIES",
        global = true,
        value_name = "IP,..."
    )]
    pub trusted_proxies: Option<String>,
    /// 系统对外地址（如 https://jiqun.example.gov.cn），用于邮件中的链接
    #[arg(long, env = "JIQUN_PUBLIC_URL", global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// 单个附件大小上限（MB，1–4096），默认 50
    #[arg(long, env = "JIQUN_MAX_UPLOAD_MB", global = true, value_name = "MB")]
    pub max_upload_mb: Option<u64>,
    /// 日志格式：text（默认）或 json；日志级别用 RUST_LOG 设置，默认 info
    #[arg(long, env = "JIQUN_LOG_FORMAT", global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// 系统名称（页面标题、邮件落款），默认为内置政策规则文件中的认定称号加“培育管理系统”
    #[arg(long, env = "JIQUN_SITE_NAME", global = true, value_name = "NAME")]
    pub site_name: Option<String>,
    /// 主管部门名称（页面底部），默认取内置政策规则文件的发布机关
    #[arg(long, env = "JIQUN_DEPARTMENT", global = true, value_name = "NAME")]
    pub department: Option<String>,
    /// 统计每个请求执行的数据库语句数，并在响应头 x-jiqun-queries 中给出（仅用于性能测量），默认 false
    #[arg(long, env = "JIQUN_COUNT_QUERIES", global = true)]
    pub count_queries: Option<bool>,
    /// 附件存放位置：默认为数据目录下的 attachments 文件夹；多台服务器部署时设为 S3 兼容对象存储，如 s3://bucket/jiqun
    #[arg(long, env = "JIQUN_ATTACHMENTS_URL", global = true, value_name = "URL")]
    pub attachments_url: Option<String>,
    /// 对象存储服务地址（如 https://obs.example.gov.cn 或 http://minio.internal:9000），不设则为 AWS S3
    #[arg(long, env = "JIQUN_S3_ENDPOINT", global = true, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// 对象存储区域，默认 us-east-1（MinIO、Ceph 等通常不校验）
    #[arg(long, env = "JIQUN_S3_REGION", global = true)]
    pub s3_region: Option<String>,
    /// 对象存储访问密钥 ID（Access Key ID）
    #[arg(long, env = "JIQUN_S3_ACCESS_KEY_ID", global = true, value_name = "ID")]
    pub s3_access_key_id: Option<String>,
    /// 对象存储访问密钥（Secret Access Key），不会出现在日志或帮助中；宜用环境变量或配置文件设置
    #[arg(
        long,
        env = "JIQUN_S3_SECRET_ACCESS_KEY",
        global = true,
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    audit_key_file: Option<PathBuf>,
    lockout_threshold: Option<u32>,
    lockout_minutes: Option<u32>,
    idle_timeout_minutes: Option<u32>,
    login_address_limit: Option<u32>,
    login_address_window_minutes: Option<u32>,
    session_max_hours: Option<u32>,
    expert_second_factor: Option<bool>,
    cookie_secure: Option<bool>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    pdf_font: Option<PathBuf>,
    objection_rate_limit: Option<u32>,
    trusted_proxies: Option<String>,
    public_url: Option<String>,
    max_upload_mb: Option<u64>,
    log_format: Option<String>,
    site_name: Option<String>,
    department: Option<String>,
    attachments_url: Option<String>,
    s3_endpoint: Option<String>,
    s3_region: Option<String>,
    s3_access_key_id: Option<String>,
    s3_secret_access_key: Option<String>,
}

/// A value that is never printed: `Debug` shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where attachment contents are kept (`blob_store`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AttachmentStore {
    /// `<data_dir>/attachments`.
    #[default]
    Local,
    S3(S3Settings),
}

/// An S3-compatible bucket (`JIQUN_ATTACHMENTS_URL=s3://bucket/prefix` and `JIQUN_S3_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// Object names start with it (no slashes at either end); may be empty.
    pub prefix: String,
    /// The server's address; none means AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl S3Settings {
    /// `s3://bucket/prefix`, as configured (without credentials).
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// The attachment store named by the settings: none or empty means the local folder.
fn attachment_store(
    url: Option<String>,
    endpoint: Option<String>,
    region: Option<String>,
    access_key_id: Option<String>,
    secret: Option<String>,
) -> Result<AttachmentStore, ConfigError> {
    let clean = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let Some(url) = clean(url) else {
        return Ok(AttachmentStore::Local);
    };
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| ConfigError::AttachmentsUrl(url.clone()))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_matches('/');
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let prefix_ok = prefix
        .split('/')
        .all(|part| prefix.is_empty() || (!part.is_empty() && part != "." && part != ".."))
        && !prefix.chars().any(char::is_control);
    if !bucket_ok || !prefix_ok {
        return Err(ConfigError::AttachmentsUrl(url));
    }
    let endpoint = clean(endpoint).map(|e| e.trim_end_matches('/').to_string());
    if let Some(e) = &endpoint
        && !(e.starts_with("http://") || e.starts_with("https://"))
    {
        return Err(ConfigError::S3Endpoint(e.clone()));
    }
    let (Some(access_key_id), Some(secret)) = (clean(access_key_id), clean(secret)) else {
        return Err(ConfigError::S3Credentials);
    };
    Ok(AttachmentStore::S3(S3Settings {
        bucket: bucket.to_string(),
        prefix: prefix.to_string(),
        endpoint,
        region: clean(region).unwrap_or_else(|| "us-east-1".into()),
        access_key_id,
        secret_access_key: Secret::new(secret),
    }))
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Account security settings (等保: 登录失败处理, 连接超时自动退出).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Security {
    pub lockout_threshold: u32,
    pub lockout_minutes: u32,
    pub idle_timeout_minutes: u32,
    /// Failed sign-in steps (password or second factor) one client address may make within
    /// `login_address_window_minutes`; more are answered 429.
    pub login_address_limit: u32,
    pub login_address_window_minutes: u32,
    /// A session ends this long after sign-in whatever its activity.
    pub session_max_hours: u32,
    /// Experts must enrol a second factor, as administrators and the province must.
    pub expert_second_factor: bool,
    pub cookie_secure: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub audit_key_file: PathBuf,
    pub security: Security,
    /// Where notification e-mails go; none means in-app notifications only.
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    /// The CJK font for certificate PDFs; none means the usual system paths.
    pub pdf_font: Option<PathBuf>,
    /// Objections accepted from one client address per hour, so a flood cannot bury the real ones.
    pub objection_rate_limit: u32,
    /// Reverse proxies whose X-Forwarded-For names the client (for the audit trail and the
    /// objection limit); from anyone else the header is ignored, as it is trivially forged.
    pub trusted_proxies: Vec<IpAddr>,
    /// Prefix for the links in notification e-mails; empty means bare paths.
    pub public_url: String,
    /// The installation's name and department, shown on every page and in e-mails.
    pub site: Site,
    /// The per-file attachment limit in whole megabytes.
    pub max_upload_mb: u64,
    pub log_format: LogFormat,
    /// Answer every request with the number of database statements it ran (measurement only).
    pub count_queries: bool,
    /// Where attachment contents are kept: the data folder, or an S3-compatible bucket.
    pub attachments: AttachmentStore,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("无法读取配置文件 {path}：{reason}")]
    Read { path: String, reason: String },
    #[error("配置文件 {path} 格式错误：{reason}")]
    Parse { path: String, reason: String },
    #[error("监听地址“{0}”无效，应形如 127.0.0.1:8080")]
    Listen(String),
    #[error("数据库地址“{0}”无效，应以 sqlite:// 或 postgres:// 开头")]
    DatabaseUrl(String),
    #[error("邮件中继地址“{0}”无效，应形如 smtp://relay.internal:25")]
    SmtpUrl(String),
    #[error("{name} 必须大于0")]
    Zero { name: &'static str },
    #[error("反向代理地址“{0}”无效，应为逗号分隔的IP地址，如 10.0.0.2,10.0.0.3")]
    TrustedProxy(String),
    #[error("附件大小上限“{0}”无效，应为 1 到 4096 之间的整数（MB）")]
    MaxUpload(u64),
    #[error("日志格式“{0}”无效，应为 text 或 json")]
    LogFormat(String),
    #[error(
        "附件存放位置“{0}”无效，应形如 s3://bucket/jiqun（存储桶名为3–63位小写字母、数字、点或连字符）"
    )]
    AttachmentsUrl(String),
    #[error("对象存储服务地址“{0}”无效，应以 http:// 或 https:// 开头")]
    S3Endpoint(String),
    #[error(
        "使用对象存储保存附件时须同时设置访问密钥 ID（JIQUN_S3_ACCESS_KEY_ID）与访问密钥（JIQUN_S3_SECRET_ACCESS_KEY）"
    )]
    S3Credentials,
}

impl Config {
    pub fn resolve(args: &ConfigArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let listen_text = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let listen: SocketAddr = listen_text
            .trim()
            .parse()
            .map_err(|_| ConfigError::Listen(listen_text.clone()))?;
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir.join("jiqun.db")));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::DatabaseUrl(database_url));
        }
        let audit_key_file = args
            .audit_key_file
            .clone()
            .or(file.audit_key_file)
            .unwrap_or_else(|| data_dir.join("audit.key"));
        let security = Security {
            lockout_threshold: args
                .lockout_threshold
                .or(file.lockout_threshold)
                .unwrap_or(5),
            lockout_minutes: args.lockout_minutes.or(file.lockout_minutes).unwrap_or(15),
            idle_timeout_minutes: args
                .idle_timeout_minutes
                .or(file.idle_timeout_minutes)
                .unwrap_or(30),
            login_address_limit: args
                .login_address_limit
                .or(file.login_address_limit)
                .unwrap_or(20),
            login_address_window_minutes: args
                .login_address_window_minutes
                .or(file.login_address_window_minutes)
                .unwrap_or(10),
            session_max_hours: args
                .session_max_hours
                .or(file.session_max_hours)
                .unwrap_or(12),
            expert_second_factor: args
                .expert_second_factor
                .or(file.expert_second_factor)
                .unwrap_or(false),
            cookie_secure: args.cookie_secure.or(file.cookie_secure).unwrap_or(false),
        };
        let objection_rate_limit = args
            .objection_rate_limit
            .or(file.objection_rate_limit)
            .unwrap_or(5);
        for (name, value) in [
            (
                "lockout_threshold（登录失败锁定次数）",
                security.lockout_threshold,
            ),
            ("lockout_minutes（锁定时长）", security.lockout_minutes),
            (
                "idle_timeout_minutes（空闲超时）",
                security.idle_timeout_minutes,
            ),
            (
                "login_address_limit（同一地址登录失败次数上限）",
                security.login_address_limit,
            ),
            (
                "login_address_window_minutes（登录失败计数时间窗）",
                security.login_address_window_minutes,
            ),
            (
                "session_max_hours（会话最长有效期）",
                security.session_max_hours,
            ),
            (
                "objection_rate_limit（每小时异议件数上限）",
                objection_rate_limit,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero { name });
            }
        }
        let smtp_url = args
            .smtp_url
            .clone()
            .or(file.smtp_url)
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        if let Some(u) = &smtp_url
            && !u.starts_with("smtp://")
        {
            return Err(ConfigError::SmtpUrl(u.clone()));
        }
        let trusted_proxies = args
            .trusted_proxies
            .clone()
            .or(file.trusted_proxies)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().map_err(|_| ConfigError::TrustedProxy(p.into())))
            .collect::<Result<Vec<IpAddr>, _>>()?;
        let max_upload_mb = args
            .max_upload_mb
            .or(file.max_upload_mb)
            .unwrap_or(jiqun_domain::attachment::DEFAULT_MAX_UPLOAD_MB);
        if !(1..=4096).contains(&max_upload_mb) {
            return Err(ConfigError::MaxUpload(max_upload_mb));
        }
        let log_format = match args
            .log_format
            .clone()
            .or(file.log_format)
            .unwrap_or_default()
            .trim()
        {
            "" | "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(ConfigError::LogFormat(other.into())),
        };
        let public_url = args
            .public_url
            .clone()
            .or(file.public_url)
            .unwrap_or_default()
            .trim()
            .trim_end_matches('/')
            .to_string();
        Ok(Config {
            listen,
            data_dir,
            database_url,
            audit_key_file,
            security,
            smtp_url,
            smtp_from: args
                .smtp_from
                .clone()
                .or(file.smtp_from)
                .unwrap_or_else(|| "jiqun <noreply@localhost>".into()),
            pdf_font: args
                .pdf_font
                .clone()
                .or(file.pdf_font)
                .filter(|p| !p.as_os_str().is_empty()),
            objection_rate_limit,
            trusted_proxies,
            public_url,
            max_upload_mb,
            log_format,
            count_queries: args.count_queries.unwrap_or(false),
            attachments: attachment_store(
                args.attachments_url.clone().or(file.attachments_url),
                args.s3_endpoint.clone().or(file.s3_endpoint),
                args.s3_region.clone().or(file.s3_region),
                args.s3_access_key_id.clone().or(file.s3_access_key_id),
                args.s3_secret_access_key
                    .clone()
                    .or(file.s3_secret_access_key),
            )?,
            site: Site::resolve(
                args.site_name.clone().or(file.site_name),
                args.department.clone().or(file.department),
            ),
        })
    }

    /// Makes the settings read deep inside the services (e-mail links, the upload limit) the
    /// ones of this configuration. Those places have no `App` at hand; every process serves
    /// one configuration, so the first call wins.
    pub fn install(&self) {
        let _ = INSTALLED.set(Installed {
            public_url: self.public_url.clone(),
            max_upload_mb: self.max_upload_mb,
            site: self.site.clone(),
        });
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

struct Installed {
    public_url: String,
    max_upload_mb: u64,
    site: Site,
}

/// Who runs this installation, as people read it: the system's name and the department. Both
/// are settings; unset, they come from the shipped policy (its certified title, its issuer), so
/// no programme's name is written into the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub name: String,
    pub department: String,
    /// The titles the programme confers (培育对象, then 认定), from the shipped policy's wording.
    pub titles: [String; 2],
}

impl Site {
    fn resolve(name: Option<String>, department: Option<String>) -> Site {
        let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let shipped = jiqun_rules::policy::builtin_policies()
            .ok()
            .and_then(|list| list.into_iter().next());
        // The programme's highest title names the system: "…集群" → "…集群培育管理系统".
        let shipped_name = shipped.as_ref().and_then(|p| p.wording()).map_or_else(
            || "jiqun".to_string(),
            |w| format!("{}培育管理系统", w.certified_name),
        );
        let titles = shipped
            .as_ref()
            .and_then(|p| p.wording())
            .map_or_else(Default::default, |w| {
                [w.cultivation_target_name.clone(), w.certified_name.clone()]
            });
        let shipped_department = shipped.map(|p| p.identity.issuer).unwrap_or_default();
        Site {
            name: given(name).unwrap_or(shipped_name),
            department: given(department).unwrap_or(shipped_department),
            titles,
        }
    }
}

/// The installed site (the shipped policy's names before `Config::install`).
pub fn site() -> &'static Site {
    static DEFAULT: std::sync::OnceLock<Site> = std::sync::OnceLock::new();
    INSTALLED
        .get()
        .map(|i| &i.site)
        .unwrap_or_else(|| DEFAULT.get_or_init(|| Site::resolve(None, None)))
}

/// The system's name, for page titles and e-mails.
pub fn site_name() -> &'static str {
    &site().name
}

/// The department running the system, for the page footer.
pub fn department() -> &'static str {
    &site().department
}

/// The title a designation confers, as the programme's policy words it.
pub fn title_of(d: jiqun_domain::round::Designation) -> &'static str {
    let [cultivation, certified] = &site().titles;
    match d {
        jiqun_domain::round::Designation::CultivationTarget => cultivation,
        jiqun_domain::round::Designation::Certified => certified,
    }
}

static INSTALLED: std::sync::OnceLock<Installed> = std::sync::OnceLock::new();

/// The installed prefix for links in e-mails (empty before `Config::install`).
pub fn public_url() -> &'static str {
    INSTALLED.get().map_or("", |i| i.public_url.as_str())
}

/// The installed per-file upload limit in megabytes (the default before `Config::install`).
pub fn max_upload_mb() -> u64 {
    INSTALLED
        .get()
        .map_or(jiqun_domain::attachment::DEFAULT_MAX_UPLOAD_MB, |i| {
            i.max_upload_mb
        })
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        reason: e.message().to_string(),
    })
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_go_to_an_object_store_only_when_named_and_the_secret_is_never_printed() {
        assert_eq!(
            Config::resolve(&ConfigArgs::default()).unwrap().attachments,
            AttachmentStore::Local
        );
        let args = ConfigArgs {
            attachments_url: Some("s3://jiqun-files/prod/attachments/".into()),
            s3_endpoint: Some("http://127.0.0.1:9000/".into()),
            s3_access_key_id: Some("AKID".into()),
            s3_secret_access_key: Some("very-secret-value".into()),
            ..Default::default()
        };
        let cfg = Config::resolve(&args).unwrap();
        let AttachmentStore::S3(s3) = &cfg.attachments else {
            panic!("an S3 store: {:?}", cfg.attachments);
        };
        assert_eq!(s3.bucket, "jiqun-files");
        assert_eq!(s3.prefix, "prod/attachments");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(s3.url(), "s3://jiqun-files/prod/attachments");
        assert_eq!(s3.secret_access_key.expose(), "very-secret-value");
        assert!(!format!("{cfg:?}").contains("very-secret-value"));
        let refused = |url: &str, key: Option<&str>| {
            Config::resolve(&ConfigArgs {
                attachments_url: Some(url.into()),
                s3_secret_access_key: key.map(Into::into),
                ..args.clone()
            })
            .unwrap_err()
            .to_string()
        };
        assert!(refused("/srv/files", Some("k")).contains("s3://bucket/jiqun"));
        assert!(refused("s3://Bad_Bucket/x", Some("k")).contains("存储桶名"));
        assert!(refused("s3://ok-bucket/../x", Some("k")).contains("无效"));
        assert!(refused("s3://ok-bucket/x", None).contains("JIQUN_S3_SECRET_ACCESS_KEY"));
    }

    #[test]
    fn defaults_point_into_the_data_dir() {
        let cfg = Config::resolve(&ConfigArgs::default()).unwrap();
        assert_eq!(cfg.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cfg.database_url, "sqlite://data/jiqun.db?mode=rwc");
        assert_eq!(cfg.security.lockout_threshold, 5);
        assert_eq!(cfg.security.idle_timeout_minutes, 30);
        assert_eq!(cfg.security.login_address_limit, 20);
        assert_eq!(cfg.security.login_address_window_minutes, 10);
        assert_eq!(cfg.security.session_max_hours, 12);
        assert!(!cfg.security.expert_second_factor);
    }

    #[test]
    fn the_site_is_named_by_the_shipped_policy_unless_the_installation_names_it() {
        let shipped = jiqun_rules::policy::builtin_policies().unwrap().remove(0);
        let cfg = Config::resolve(&ConfigArgs::default()).unwrap();
        let title = &shipped.wording().unwrap().certified_name;
        assert_eq!(cfg.site.name, format!("{title}培育管理系统"));
        assert_eq!(cfg.site.department, shipped.identity.issuer);
        let args = ConfigArgs {
            site_name: Some(" 某市产业集群管理平台 ".into()),
            department: Some("某市工业和信息化局".into()),
            ..Default::default()
        };
        let cfg = Config::resolve(&args).unwrap();
        assert_eq!(cfg.site.name, "某市产业集群管理平台");
        assert_eq!(cfg.site.department, "某市工业和信息化局");
        // Blank means unset.
        let args = ConfigArgs {
            site_name: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::resolve(&args).unwrap().site.name,
            format!("{title}培育管理系统")
        );
    }

    #[test]
    fn bad_values_are_named() {
        let args = ConfigArgs {
            listen: Some("abc".into()),
            ..Default::default()
        };
        let err = Config::resolve(&args).unwrap_err().to_string();
        assert!(err.contains("abc"), "{err}");
        let args = ConfigArgs {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        };
        assert!(matches!(
            Config::resolve(&args),
            Err(ConfigError::DatabaseUrl(_))
        ));
    }

    #[test]
    fn the_pdf_font_comes_from_the_flag_or_the_file() {
        assert_eq!(
            Config::resolve(&ConfigArgs::default()).unwrap().pdf_font,
            None
        );
        let dir = std::env::temp_dir().join(format!("jiqun-cfg-font-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("font.toml");
        std::fs::write(&path, "pdf_font = \"/opt/fonts/simsun.ttc\"\n").unwrap();
        let args = ConfigArgs {
            config: Some(path),
            ..Default::default()
        };
        let cfg = Config::resolve(&args).unwrap();
        assert_eq!(cfg.pdf_font, Some(PathBuf::from("/opt/fonts/simsun.ttc")));
        let args = ConfigArgs {
            pdf_font: Some(PathBuf::from("/srv/fonts/song.ttf")),
            ..args
        };
        let cfg = Config::resolve(&args).unwrap();
        assert_eq!(cfg.pdf_font, Some(PathBuf::from("/srv/fonts/song.ttf")));
    }

    #[test]
    fn upload_limit_log_format_and_public_url_are_settings() {
        let cfg = Config::resolve(&ConfigArgs::default()).unwrap();
        assert_eq!(cfg.max_upload_mb, 50);
        assert_eq!(cfg.log_format, LogFormat::Text);
        assert_eq!(cfg.public_url, "");
        let args = ConfigArgs {
            max_upload_mb: Some(20),
            log_format: Some("json".into()),
            public_url: Some("https://jiqun.example.gov.cn/".into()),
            ..Default::default()
        };
        let cfg = Config::resolve(&args).unwrap();
        assert_eq!(cfg.max_upload_mb, 20);
        assert_eq!(cfg.log_format, LogFormat::Json);
        assert_eq!(cfg.public_url, "https://jiqun.example.gov.cn");
        for bad in [
            ConfigArgs {
                max_upload_mb: Some(0),
                ..Default::default()
            },
            ConfigArgs {
                log_format: Some("xml".into()),
                ..Default::default()
            },
        ] {
            assert!(Config::resolve(&bad).is_err());
        }
    }

    #[test]
    fn a_malformed_file_names_itself() {
        let dir = std::env::temp_dir().join(format!("jiqun-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(&path, "listen = 8080\nunknown = 1\n").unwrap();
        let args = ConfigArgs {
            config: Some(path),
            ..Default::default()
        };
        let err = Config::resolve(&args).unwrap_err().to_string();
        assert!(err.contains("bad.toml"), "{err}");
    }
}
