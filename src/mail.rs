//! E-mail delivery of notifications over SMTP, when a relay is configured (`JIQUN_SMTP_URL`), e.g.
//! `smtp://relay.internal:25` or `smtp://user:password@relay.internal:25`: plain SMTP to the
//! office's internal relay, which handles onward delivery (no TLS client is built in).
//!
//! Every server runs the mailer; a message is claimed with one conditional update before it is
//! sent (`claimed_at`), so two servers on one database never send it twice. A claim older than
//! [`CLAIM_MINUTES`] (its server stopped mid-send) is taken again.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::{Expr, InsertStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
};
use time::OffsetDateTime;

use crate::app::App;
use crate::store::entity::mail_outbox;

const MAX_ATTEMPTS: i32 = 5;

/// A claimed message not settled within this long is free again.
pub const CLAIM_MINUTES: i64 = 10;

/// Mails older than this are not sent any more (a relay configured later does not flood people
/// with stale notices).
const MAX_AGE_DAYS: i64 = 3;

/// A message to queue.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The insert that queues the mails, for the caller to run inside its transaction (they exist
/// exactly when the change does); none when no mail has an address.
pub fn queued(mails: Vec<Mail>, now: OffsetDateTime) -> Option<InsertStatement> {
    let rows: Vec<mail_outbox::ActiveModel> = mails
        .into_iter()
        .filter(|m| !m.to.trim().is_empty())
        .map(|m| mail_outbox::ActiveModel {
            to_address: Set(m.to.trim().to_string()),
            subject: Set(m.subject),
            body: Set(m.body),
            attempts: Set(0),
            last_error: Set(String::new()),
            created_at: Set(now),
            sent_at: Set(None),
            ..Default::default()
        })
        .collect();
    (!rows.is_empty()).then(|| mail_outbox::Entity::insert_many(rows).into_query())
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("邮件服务器地址 JIQUN_SMTP_URL 无效：{0}")]
    Url(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn message(from: &str, m: &mail_outbox::Model) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("发件人地址无效：{e}"))?;
    let to: Mailbox = m
        .to_address
        .parse()
        .map_err(|e| format!("收件人地址无效：{e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| e.to_string())
}

fn transport(text: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let url = url::Url::parse(text).map_err(|e| MailError::Url(e.to_string()))?;
    if url.scheme() != "smtp" {
        return Err(MailError::Url(format!(
            "仅支持 smtp:// 地址，收到 {}://",
            url.scheme()
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| MailError::Url("缺少主机名".into()))?
        .to_string();
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(url.port().unwrap_or(25));
    if !url.username().is_empty() {
        let user = percent_decode(url.username());
        let pass = percent_decode(url.password().unwrap_or(""));
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            user, pass,
        ));
    }
    Ok(builder.build())
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Delivers what is waiting; returns how many went out.
pub async fn deliver_pending(app: &App) -> Result<u32, MailError> {
    let Some(url) = app.config.smtp_url.as_deref() else {
        return Ok(0);
    };
    let transport = transport(url)?;
    let from = app.config.smtp_from.clone();
    let now = app.clock.now();
    let free = || {
        Condition::any()
            .add(mail_outbox::Column::ClaimedAt.is_null())
            .add(mail_outbox::Column::ClaimedAt.lt(now - time::Duration::minutes(CLAIM_MINUTES)))
    };
    let pending = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::Attempts.lt(MAX_ATTEMPTS))
        .filter(free())
        .order_by_asc(mail_outbox::Column::Id)
        .limit(100)
        .all(&app.db)
        .await?;
    let mut sent = 0;
    for m in pending {
        // The claim: one statement, so of two servers reading the same row one sends it.
        let claimed = mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::ClaimedAt, Expr::value(now))
            .filter(mail_outbox::Column::Id.eq(m.id))
            .filter(mail_outbox::Column::SentAt.is_null())
            .filter(mail_outbox::Column::Attempts.eq(m.attempts))
            .filter(free())
            .exec(&app.db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let expired = now - m.created_at > time::Duration::days(MAX_AGE_DAYS);
        let result = if expired {
            Err(format!("超过{MAX_AGE_DAYS}天未能发送，已放弃"))
        } else {
            match message(&from, &m) {
                Ok(msg) => transport
                    .send(msg)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            }
        };
        let mut row: mail_outbox::ActiveModel = m.clone().into();
        row.attempts = Set(m.attempts + 1);
        // Settled either way; a failed one waits for the next round, by any server.
        row.claimed_at = Set(None);
        match result {
            Ok(()) => {
                row.sent_at = Set(Some(now));
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(to = %m.to_address, "e-mail delivery failed: {e}");
                if expired {
                    row.attempts = Set(MAX_ATTEMPTS);
                }
                row.last_error = Set(e);
            }
        }
        row.update(&app.db).await?;
    }
    Ok(sent)
}
