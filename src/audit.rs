//! The audit trail's shell: appending entries inside the caller's transaction, loading the key
//! kept outside the database, streaming verification and queries for the audit administrator.

use crate::store::id::UserId;
use std::path::Path;

use jiqun_domain::audit::{self as chain, AuditKey, ChainBreak, ChainVerifier, Entry};
use jiqun_domain::audit_vocabulary;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use time::OffsetDateTime;

use crate::store::entity::{audit_entry, audit_head};

/// Who did something, as the audit trail records it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub name: String,
    pub role: String,
    pub org: String,
    pub client_addr: String,
}

impl Actor {
    pub fn user(
        u: &crate::store::entity::user::Model,
        org_name: String,
        client_addr: &str,
    ) -> Actor {
        Actor {
            // An API token acts through a stand-in account with a negative id (see
            // `services::api_tokens`): no person's id, so none is recorded; the name says which.
            user_id: (u.id.get() > 0).then_some(u.id),
            name: format!("{}（{}）", u.display_name, u.username),
            role: u.role.key().to_string(),
            org: org_name,
            client_addr: client_addr.to_string(),
        }
    }

    /// The command line, run by whoever operates the server.
    pub fn console(operator: &str) -> Actor {
        Actor {
            user_id: None,
            name: format!("命令行:{operator}"),
            role: "console".into(),
            org: String::new(),
            client_addr: "local".into(),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: String,
    /// A before/after summary of the change.
    pub summary: String,
    pub reason: String,
}

/// The audit trail as one operation writes to it: the key, who acts and the instant, fixed once so
/// that every entry the operation records carries the same actor and the same time as the rows it
/// changes (`updated_at` and the entry's time stay one `now`).
pub struct Audit<'a> {
    key: &'a AuditKey,
    actor: Actor,
    at: OffsetDateTime,
    last: &'a LastHead,
}

impl<'a> Audit<'a> {
    /// A signed-in principal acting at `at`.
    pub fn of(app: &'a crate::app::App, p: &crate::app::Principal, at: OffsetDateTime) -> Self {
        Self::by(app, p.actor(), at)
    }

    /// Any other actor: the console, the demo seed, a login attempt, a member of the public.
    pub fn by(app: &'a crate::app::App, actor: Actor, at: OffsetDateTime) -> Self {
        Audit {
            key: &app.audit_key,
            actor,
            at,
            last: &app.audit_head,
        }
    }

    /// Appends one entry. Call it inside the transaction that makes the change, so the change
    /// and its record commit together or not at all.
    pub async fn record<C: ConnectionTrait>(&self, conn: &C, event: Event) -> Result<i64, DbErr> {
        self.record_changes(conn, event, None).await
    }

    /// Appends one entry of an edit with the before/after of the fields it changed,
    /// `{"field": {"before": …, "after": …}}` (usually from [`changes_since`]). A separate call
    /// rather than a field of [`Event`], so the many events that change no fields keep their
    /// literals as they are.
    pub async fn record_changes<C: ConnectionTrait>(
        &self,
        conn: &C,
        event: Event,
        changes: Option<serde_json::Value>,
    ) -> Result<i64, DbErr> {
        append_changes(
            conn,
            self.key,
            self.at,
            &self.actor,
            event,
            changes,
            Some(self.last),
        )
        .await
    }
}

/// Appends one entry; operations go through [`Audit::record`] (start-up steps that run before an
/// `App` exists call this directly).
pub(crate) async fn append<C: ConnectionTrait>(
    conn: &C,
    key: &AuditKey,
    at: OffsetDateTime,
    actor: &Actor,
    event: Event,
) -> Result<i64, DbErr> {
    append_changes(conn, key, at, actor, event, None, None).await
}

async fn append_changes<C: ConnectionTrait>(
    conn: &C,
    key: &AuditKey,
    at: OffsetDateTime,
    actor: &Actor,
    event: Event,
    changes: Option<serde_json::Value>,
    last: Option<&LastHead>,
) -> Result<i64, DbErr> {
    // Serialised once: this exact text is chained and stored.
    let changes = changes
        .filter(|c| c.as_object().is_none_or(|o| !o.is_empty()))
        .map(|c| c.to_string());
    let guessed = last.and_then(LastHead::get);
    let mut from_guess = guessed.is_some();
    let mut head = match guessed {
        Some(head) => head,
        None => read_head(conn).await?,
    };
    // Moving the head takes its row lock (PostgreSQL) or is under the write lock (SQLite), so
    // concurrent writers queue here and the sequence has no gaps. It moves only from the head
    // this entry follows: a guess that is no longer the head (another server wrote, or a
    // transaction that moved it rolled back) is read again and the entry made anew.
    loop {
        let entry = next_entry(&head, at, actor, &event, &changes);
        let hash = chain::entry_hash(key, &entry);
        if append_after(conn, key, &head, &entry, &hash).await? {
            if let Some(last) = last {
                last.set(Head {
                    seq: entry.seq,
                    hash,
                });
            }
            return Ok(entry.seq);
        }
        if !from_guess {
            // Read under its lock, the head cannot have moved.
            return Err(DbErr::Custom(format!(
                "审计链头（第{}条）在读取后被改动，记录未写入",
                head.seq
            )));
        }
        head = read_head(conn).await?;
        from_guess = false;
    }
}

/// The chain's end: the last entry's sequence number and hash.
#[derive(Debug, Clone)]
struct Head {
    seq: i64,
    hash: String,
}

/// The head this server last moved the chain to, so that an append need not read it first: with
/// it, an append is one round trip to the database in the writer's transaction (it was three).
/// Only a guess: the append moves the head only if it still is the guess, and reads it otherwise.
#[derive(Debug, Default)]
pub struct LastHead(std::sync::Mutex<Option<Head>>);

impl LastHead {
    fn get(&self) -> Option<Head> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, head: Head) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(head);
    }
}

/// Reads the head under its row lock (PostgreSQL; SQLite's write lock is already held), making
/// the genesis head on the first entry ever.
async fn read_head<C: ConnectionTrait>(conn: &C) -> Result<Head, DbErr> {
    let found = audit_head::Entity::find_by_id(1)
        .lock_exclusive()
        .one(conn)
        .await?;
    let head = match found {
        Some(head) => head,
        None => {
            audit_head::ActiveModel {
                id: Set(1),
                seq: Set(0),
                hash: Set(chain::GENESIS.into()),
                mac: Set(String::new()),
            }
            .insert(conn)
            .await?
        }
    };
    Ok(Head {
        seq: head.seq,
        hash: head.hash,
    })
}

/// Moves the head from `from` to `entry` and inserts the entry, in one round trip to the
/// database: on PostgreSQL one statement (the insert takes its row from the head's update), on
/// SQLite two sent together (the insert runs only if the update changed the head). False, and
/// nothing written, when the head is not `from`.
async fn append_after<C: ConnectionTrait>(
    conn: &C,
    key: &AuditKey,
    from: &Head,
    entry: &Entry,
    hash: &str,
) -> Result<bool, DbErr> {
    use sea_orm::sea_query::{CommonTableExpression, Query, WithClause};
    use sea_orm::{DbBackend, Iterable};
    let backend = conn.get_database_backend();
    let mut moving = Query::update();
    moving
        .table(audit_head::Entity)
        .value(audit_head::Column::Seq, entry.seq)
        .value(audit_head::Column::Hash, hash)
        .value(
            audit_head::Column::Mac,
            chain::head_mac(key, entry.seq, hash),
        )
        .and_where(audit_head::Column::Id.eq(1))
        .and_where(audit_head::Column::Seq.eq(from.seq))
        .and_where(audit_head::Column::Hash.eq(from.hash.as_str()));
    // The entry's values as its model gives them, so they bind as an insert of it would.
    let row = entry_row(entry, hash);
    let mut values = Query::select();
    for c in audit_entry::Column::iter() {
        values.expr(Expr::val(
            row.get(c)
                .into_value()
                .ok_or_else(|| DbErr::Custom(format!("审计记录缺少字段 {c:?}")))?,
        ));
    }
    let mut insert = Query::insert();
    insert
        .into_table(audit_entry::Entity)
        .columns(audit_entry::Column::iter());
    let statement = if backend == DbBackend::Postgres {
        moving.returning_col(audit_head::Column::Seq);
        values.from("moved");
        insert
            .select_from(values)
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let moved = CommonTableExpression::new()
            .query(moving)
            .table_name("moved")
            .to_owned();
        backend.build(&insert.with(WithClause::new().cte(moved).to_owned()))
    } else {
        values.and_where(Expr::cust("changes() = 1"));
        insert
            .select_from(values)
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        crate::store::sent_together(
            backend,
            vec![backend.build(&moving), backend.build(&insert)],
        )
    };
    Ok(conn.execute_raw(statement).await?.rows_affected() > 0)
}

fn entry_row(entry: &Entry, hash: &str) -> audit_entry::ActiveModel {
    audit_entry::ActiveModel {
        seq: Set(entry.seq),
        at: Set(entry.at),
        actor_user_id: Set(entry.actor_user_id.map(UserId::new)),
        actor_name: Set(entry.actor_name.clone()),
        actor_role: Set(entry.actor_role.clone()),
        actor_org: Set(entry.actor_org.clone()),
        action: Set(entry.action.clone()),
        object_type: Set(entry.object_type.clone()),
        object_id: Set(entry.object_id.clone()),
        summary: Set(entry.summary.clone()),
        reason: Set(entry.reason.clone()),
        client_addr: Set(entry.client_addr.clone()),
        prev_hash: Set(entry.prev_hash.clone()),
        hash: Set(hash.to_string()),
        changes: Set(entry.changes.clone()),
    }
}

/// The entry that follows `head`.
fn next_entry(
    head: &Head,
    at: OffsetDateTime,
    actor: &Actor,
    event: &Event,
    changes: &Option<String>,
) -> Entry {
    Entry {
        seq: head.seq + 1,
        at: chain::chain_time(at),
        actor_user_id: actor.user_id.map(UserId::get),
        actor_name: actor.name.clone(),
        actor_role: actor.role.clone(),
        actor_org: actor.org.clone(),
        action: event.action.into(),
        object_type: event.object_type.into(),
        object_id: event.object_id.clone(),
        summary: event.summary.clone(),
        reason: event.reason.clone(),
        client_addr: actor.client_addr.clone(),
        prev_hash: head.hash.clone(),
        changes: changes.clone(),
    }
}

/// Records an event that changes nothing else, in a transaction of its own: something the audit
/// administrator did with the log itself (等保: the administrators' own operations are audited
/// too), or an export or download.
pub async fn record_own(app: &crate::app::App, actor: Actor, event: Event) -> Result<(), DbErr> {
    let txn = crate::store::write_txn(&app.db).await?;
    Audit::by(app, actor, app.clock.now())
        .record(&txn, event)
        .await?;
    txn.commit().await
}

/// Records an export or a download by the signed-in principal, in a transaction of its own.
pub async fn record_export(
    app: &crate::app::App,
    p: &crate::app::Principal,
    event: Event,
) -> Result<(), DbErr> {
    record_own(app, p.actor(), event).await
}

fn to_entry(m: &audit_entry::Model) -> Entry {
    Entry {
        seq: m.seq,
        at: m.at,
        actor_user_id: m.actor_user_id.map(UserId::get),
        actor_name: m.actor_name.clone(),
        actor_role: m.actor_role.clone(),
        actor_org: m.actor_org.clone(),
        action: m.action.clone(),
        object_type: m.object_type.clone(),
        object_id: m.object_id.clone(),
        summary: m.summary.clone(),
        reason: m.reason.clone(),
        client_addr: m.client_addr.clone(),
        prev_hash: m.prev_hash.clone(),
        changes: m.changes.clone(),
    }
}

/// Columns never shown as before/after: bookkeeping, and secrets that must not reach the log.
const NOT_AUDITED: [&str; 7] = [
    "version",
    "updated_at",
    "password_hash",
    "totp_secret",
    "totp_last_step",
    "recovery_codes",
    "digest",
];

fn json_of(v: &sea_orm::Value) -> serde_json::Value {
    match v {
        sea_orm::Value::TimeDateTimeWithTimeZone(Some(t)) => crate::clock::format_local(*t).into(),
        sea_orm::Value::Bytes(_) => serde_json::Value::Null,
        other => sea_orm::sea_query::sea_value_to_json_value(other),
    }
}

/// The fields that differ between two versions of a row, `{"field": {"before", "after"}}`;
/// a text column holding a JSON object (an application's form) is compared key by key, as
/// `column.key`. `None` when nothing shown changed.
pub fn changes_between<M: ModelTrait>(before: &M, after: &M) -> Option<serde_json::Value> {
    use sea_orm::{IdenStatic, Iterable};
    let mut out = serde_json::Map::new();
    for col in <<M as ModelTrait>::Entity as EntityTrait>::Column::iter() {
        let name = col.as_str();
        let (b, a) = (before.get(col), after.get(col));
        if NOT_AUDITED.contains(&name) || b == a {
            continue;
        }
        let (b, a) = (json_of(&b), json_of(&a));
        let objects = |v: &serde_json::Value| {
            v.as_str().and_then(|s| {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(s).ok()
            })
        };
        if let (Some(bo), Some(ao)) = (objects(&b), objects(&a)) {
            let keys: std::collections::BTreeSet<&String> = bo.keys().chain(ao.keys()).collect();
            for k in keys {
                let (x, y) = (bo.get(k), ao.get(k));
                if x != y {
                    out.insert(
                        format!("{name}.{k}"),
                        serde_json::json!({"before": x, "after": y}),
                    );
                }
            }
            continue;
        }
        out.insert(
            name.to_string(),
            serde_json::json!({"before": b, "after": a}),
        );
    }
    (!out.is_empty()).then_some(serde_json::Value::Object(out))
}

/// The changes an update in this transaction made to the row `before` was loaded as: the row is
/// read again and compared. For an audit entry's `changes`, after the update and before commit.
pub async fn changes_since<E, C>(
    conn: &C,
    before: &E::Model,
) -> Result<Option<serde_json::Value>, DbErr>
where
    E: crate::store::HasId,
    E::Model: ModelTrait<Entity = E>,
    C: ConnectionTrait,
{
    let after = E::find()
        .filter(E::id_column().eq(E::id_of(before)))
        .one(conn)
        .await?;
    Ok(after.and_then(|a| changes_between(before, &a)))
}

/// Verifies the whole chain, streaming it in pages. `Ok(Ok(n))` means n intact entries.
pub async fn verify(
    db: &DatabaseConnection,
    key: &AuditKey,
) -> Result<Result<i64, ChainBreak>, DbErr> {
    const PAGE: u64 = 1000;
    let mut verifier = ChainVerifier::new(key);
    let mut after = 0i64;
    loop {
        let page = audit_entry::Entity::find()
            .filter(audit_entry::Column::Seq.gt(after))
            .order_by_asc(audit_entry::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        for m in &page {
            if let Err(e) = verifier.push(&to_entry(m), &m.hash) {
                return Ok(Err(e));
            }
        }
        match page.last() {
            Some(last) if page.len() as u64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    Ok(verifier.finish(
        head.as_ref()
            .map(|h| (h.seq, h.hash.as_str(), h.mac.as_str())),
    ))
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

/// Newest first.
pub async fn query(
    db: &DatabaseConnection,
    filter: &Filter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<audit_entry::Model>, u64), DbErr> {
    let mut q = audit_entry::Entity::find();
    if let Some(actor) = filter.actor.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_entry::Column::ActorName.contains(actor));
    }
    if let Some(action) = filter.action.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_entry::Column::Action.starts_with(action));
    }
    if let Some(object_type) = filter.object_type.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_entry::Column::ObjectType.eq(object_type));
    }
    if let Some(from) = filter.from {
        q = q.filter(audit_entry::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(audit_entry::Column::At.lt(to));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(audit_entry::Column::Seq)
        .offset(page.saturating_sub(1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows, total))
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("审计密钥文件 {path} 不存在（它应与数据库分开保存；首次运行 serve 或 migrate 时生成）")]
    Missing { path: String },
    #[error("无法读取或写入审计密钥文件 {path}：{reason}")]
    Io { path: String, reason: String },
    #[error("审计密钥文件 {path} 内容无效：应为64位十六进制字符")]
    Malformed { path: String },
}

/// Loads the key; `create` makes a new random one when the file does not exist yet.
pub fn load_key(path: &Path, create: bool) -> Result<AuditKey, KeyError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Malformed {
                path: shown.clone(),
            })?;
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| KeyError::Malformed { path: shown })?;
            Ok(AuditKey(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let key: [u8; 32] = rand::random();
            write_private(path, &hex::encode(key)).map_err(|e| KeyError::Io {
                path: shown,
                reason: e.to_string(),
            })?;
            Ok(AuditKey(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(KeyError::Missing { path: shown })
        }
        Err(e) => Err(KeyError::Io {
            path: shown,
            reason: e.to_string(),
        }),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// CSV export of the filtered log (UTF-8 with BOM so that Excel shows the Chinese correctly).
pub fn to_csv(rows: &[audit_entry::Model]) -> String {
    let mut out = String::from(
        "\u{feff}序号,时间,操作人,角色,单位,操作,操作代码,对象类型,对象,摘要,理由,字段变更,客户端地址,校验值\r\n",
    );
    for r in rows {
        let fields = [
            r.seq.to_string(),
            crate::clock::format_local(r.at),
            r.actor_name.clone(),
            r.actor_role.clone(),
            r.actor_org.clone(),
            audit_vocabulary::action_label(&r.action)
                .unwrap_or(&r.action)
                .to_string(),
            r.action.clone(),
            audit_vocabulary::object_label(&r.object_type)
                .unwrap_or(&r.object_type)
                .to_string(),
            r.object_id.clone(),
            r.summary.clone(),
            r.reason.clone(),
            r.changes.clone().unwrap_or_default(),
            r.client_addr.clone(),
            r.hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(value: &str) -> String {
    // A leading =, +, - or @ would run as a formula in a spreadsheet.
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use jiqun_domain::audit_vocabulary::action_label;

    /// Quoted `noun.verb` literals in the shell's sources: the action keys entries are recorded
    /// with (file names such as `login.html` and the few other such literals excluded).
    fn action_keys_in(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                action_keys_in(&path, out);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for quoted in text.split('"').skip(1).step_by(2) {
                let Some((noun, verb)) = quoted.split_once('.') else {
                    continue;
                };
                let word = |w: &str| {
                    !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                };
                const FILES: [&str; 16] = [
                    "html", "css", "js", "pdf", "key", "anchor", "toml", "csv", "xlsx", "zip",
                    "png", "ico", "json", "svg", "db", "rs",
                ];
                if word(noun)
                    && word(verb)
                    && !FILES.contains(&verb)
                    && !NOT_ACTIONS.contains(&quoted)
                {
                    out.push((quoted.to_string(), path.display().to_string()));
                }
            }
        }
    }

    /// `noun.verb` literals in the sources that are not audit actions: a file suffix, a policy key
    /// path, a dump's name, test keys.
    const NOT_ACTIONS: [&str; 8] = [
        "competitions.per_year",
        "anchor.partial",
        "identity.effective_to",
        "jiqun.pgdump",
        "scores.a",
        "scores.b",
        "scores.z",
        "form.narratives",
    ];

    #[test]
    fn every_recorded_action_has_a_chinese_name() {
        let mut found = Vec::new();
        action_keys_in(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.len() > 40,
            "the scan found too few actions: {found:?}"
        );
        let unnamed: Vec<_> = found
            .iter()
            .filter(|(key, _)| action_label(key).is_none())
            .collect();
        assert!(
            unnamed.is_empty(),
            "audit actions without a name in audit_vocabulary::ACTIONS: {unnamed:?}"
        );
    }

    #[test]
    fn every_recorded_object_type_has_a_chinese_name() {
        fn scan(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    scan(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    for rest in text.split("object_type: \"").skip(1) {
                        out.extend(rest.split('"').next().map(str::to_string));
                    }
                }
            }
        }
        let mut found = Vec::new();
        scan(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.len() > 20, "the scan found too few: {found:?}");
        found.retain(|t| jiqun_domain::audit_vocabulary::object_label(t).is_none());
        assert!(
            found.is_empty(),
            "object types without a name in audit_vocabulary::OBJECT_TYPES: {found:?}"
        );
    }
}
