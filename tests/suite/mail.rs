//! Notification e-mails reach a real SMTP server (Python's standard smtpd) after the change that
//! caused them committed.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use crate::support;

/// A local SMTP server that writes every message it receives into `dir/mail.txt`.
pub(crate) struct SmtpSink {
    child: Child,
    pub(crate) port: u16,
    pub(crate) file: std::path::PathBuf,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn smtp_sink(dir: &std::path::Path) -> SmtpSink {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let file = dir.join("mail.txt");
    let script = format!(
        r#"
import asyncore, smtpd, sys
class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        with open({file:?}, 'ab') as f:
            f.write(b'TO:' + ','.join(rcpttos).encode() + b'\n' + (data if isinstance(data, bytes) else data.encode()) + b'\n----\n')
Sink(('127.0.0.1', {port}), None, decode_data=False)
print('ready', flush=True)
asyncore.loop()
"#,
        file = file.display().to_string()
    );
    let mut child = Command::new("python3")
        .args(["-W", "ignore", "-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the SMTP server");
    let mut ready = [0u8; 5];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut ready)
        .expect("SMTP server started");
    SmtpSink { child, port, file }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_is_also_sent_by_mail_when_a_relay_is_configured() {
    let db = support::fresh_db().await;
    let sink = smtp_sink(&db.dir);
    let mut config = support::config_for(&db);
    config.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port));
    config.smtp_from = "湖南省工信厅 <noreply@jiqun.test>".into();
    let app = Arc::new(jiqun::server::open(config, true).await.expect("open"));
    jiqun::demo::seed(&app).await.expect("seed");
    let applicant = jiqun::services::users::find_by_username(&app, "applicant")
        .await
        .unwrap()
        .unwrap();
    let mut with_mail: jiqun::store::entity::user::ActiveModel = applicant.clone().into();
    with_mail.email = Set("liu@cluster.test".into());
    with_mail.update(&app.db).await.unwrap();

    let now = app.clock.now();
    jiqun::services::notifications::notify_org(
        &app.db,
        applicant.org_id,
        "申报被退回修改：长沙工程机械产业集群",
        "请补充佐证材料。",
        "/applications/1",
        now,
    )
    .await
    .unwrap();
    assert_eq!(jiqun::mail::deliver_pending(&app).await.unwrap(), 1);
    let received = std::fs::read(&sink.file).expect("the SMTP server received a message");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("TO:liu@cluster.test"), "{text}");
    assert!(text.contains("noreply@jiqun.test"), "{text}");
    // Nothing is sent twice.
    assert_eq!(jiqun::mail::deliver_pending(&app).await.unwrap(), 0);
    let rows = jiqun::store::entity::mail_outbox::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].sent_at.is_some());

    // An unreachable relay: the mail waits with the reason, and is not lost.
    drop(sink);
    jiqun::services::notifications::notify_org(
        &app.db,
        applicant.org_id,
        "第二条",
        "正文",
        "/",
        app.clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(jiqun::mail::deliver_pending(&app).await.unwrap(), 0);
    let rows = jiqun::store::entity::mail_outbox::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let waiting = rows.iter().find(|r| r.sent_at.is_none()).expect("kept");
    assert_eq!(waiting.attempts, 1);
    assert!(!waiting.last_error.is_empty());
}

/// One notice to many people queues one mail for each of those with an address, each addressed
/// by name, in the same write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_to_several_people_queues_a_mail_for_each_with_an_address() {
    use jiqun::store::entity::{notification, user};
    use sea_orm::{ColumnTrait, QueryFilter};
    let t = support::spawn().await;
    let app = &t.app;
    let experts = user::Entity::find()
        .filter(user::Column::Role.eq(jiqun_domain::access::Role::Expert))
        .filter(user::Column::Active.eq(true))
        .all(&app.db)
        .await
        .unwrap();
    assert!(experts.len() >= 3, "the demo has several experts");
    let mut with_mail = Vec::new();
    for (i, u) in experts.iter().take(2).enumerate() {
        let mut m: user::ActiveModel = u.clone().into();
        m.email = Set(format!("expert{i}@pool.test"));
        m.update(&app.db).await.unwrap();
        with_mail.push((format!("expert{i}@pool.test"), u.display_name.clone()));
    }
    let before = notification::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len();
    let n = jiqun::services::notifications::notify_role(
        &app.db,
        jiqun_domain::access::Role::Expert,
        "评审任务提醒",
        "请于评分截止前提交评分表。",
        "/scoring",
        app.clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(n as usize, experts.len());
    let after = notification::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len();
    assert_eq!(after - before, experts.len());
    let mut queued: Vec<(String, String)> = jiqun::store::entity::mail_outbox::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.to_address, r.body))
        .collect();
    queued.sort();
    assert_eq!(queued.len(), 2, "{queued:?}");
    for ((to, body), (address, name)) in queued.iter().zip(&with_mail) {
        assert_eq!(to, address);
        assert!(body.starts_with(&format!("{name}：")), "{body}");
        assert!(body.contains("请于评分截止前提交评分表。"), "{body}");
    }
}
