//! Form readers shared by the pages and the API.

use crate::store::id::EntryId;
use axum::extract::Multipart;
use axum::extract::multipart::Field;

use crate::app::App;
use crate::attachments::{self, Received};
use crate::error::AppError;
use crate::services::notices::{self, ObjectionInput};
use crate::services::users;

pub fn credential_action(key: &str) -> Result<users::CredentialAction, AppError> {
    match key {
        "reset_password" => Ok(users::CredentialAction::ResetPassword),
        "unlock" => Ok(users::CredentialAction::Unlock),
        "reset_second_factor" => Ok(users::CredentialAction::ResetSecondFactor),
        _ => Err(AppError::invalid(
            "action",
            "操作应为 reset_password、unlock 或 reset_second_factor",
        )),
    }
}

/// The objection form as typed (all text, so nothing is lost on a redraw); the API's multipart
/// variant reads the same fields.
#[derive(Debug, Clone, Default)]
pub struct ObjectionForm {
    pub entry_id: String,
    pub name: String,
    pub organisation: String,
    pub contact: String,
    pub reason: String,
}

impl ObjectionForm {
    pub fn input(&self) -> ObjectionInput {
        ObjectionInput {
            entry_id: self.entry_id.trim().parse().ok(),
            name: self.name.clone(),
            organisation: self.organisation.clone(),
            contact: self.contact.clone(),
            reason: self.reason.clone(),
        }
    }

    /// The same fields as an objection to a 复核 result (the row is the recheck).
    pub fn recheck_input(&self) -> crate::services::recheck::RecheckObjectionInput {
        crate::services::recheck::RecheckObjectionInput {
            recheck_id: self.entry_id.trim().parse().ok(),
            name: self.name.clone(),
            organisation: self.organisation.clone(),
            contact: self.contact.clone(),
            reason: self.reason.clone(),
        }
    }

    pub fn selected(&self, entry_id: &EntryId) -> bool {
        self.entry_id.trim() == entry_id.to_string()
    }
}

/// Text fields are small; anything longer than this is not a form someone typed.
const MAX_TEXT_FIELD_BYTES: usize = 64 * 1024;

async fn read_text(name: &str, mut field: Field<'_>) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|_| AppError::invalid(name, "提交未完成：连接中断或表单格式有误，请重新提交"))?
    {
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
            return Err(AppError::invalid(name, "填写的内容过长"));
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // The same rule `web/hygiene.rs` applies to every urlencoded and JSON body: multipart text
    // is read only here.
    if let Some((pos, c)) = jiqun_domain::text::forbidden_char(&text) {
        return Err(AppError::invalid(
            name,
            jiqun_domain::text::forbidden_message(pos, c),
        ));
    }
    Ok(text)
}

/// Reads the multipart objection form: its text fields, and (with `keep_file`) the evidence
/// streamed to a temporary file; without it the file's bytes are read and discarded. A refused
/// file is reported with the typed fields kept.
pub async fn read_objection(
    app: &App,
    multipart: &mut Multipart,
    keep_file: bool,
) -> (ObjectionForm, Result<Option<Received>, AppError>) {
    let mut form = ObjectionForm::default();
    let mut evidence: Result<Option<Received>, AppError> = Ok(None);
    // A refused text field stands whatever parts follow it (a later file must not hide it).
    let mut refused: Option<AppError> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                evidence = Err(AppError::invalid(
                    attachments::FILE_FIELD,
                    "提交未完成：连接中断或表单格式有误，请重新提交",
                ));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == attachments::FILE_FIELD {
            let file_name = field.file_name().unwrap_or_default().to_string();
            if file_name.trim().is_empty() || !keep_file || refused.is_some() {
                // No file chosen (browsers still send an empty part), or none wanted.
                let mut field = field;
                while let Ok(Some(_)) = field.chunk().await {}
                continue;
            }
            evidence = attachments::receive(app, field, &notices::evidence_limits())
                .await
                .map(Some);
            continue;
        }
        let text = match read_text(&name, field).await {
            Ok(t) => t,
            Err(e) => {
                refused.get_or_insert(e);
                continue;
            }
        };
        match name.as_str() {
            // The row objected to: a round's entry, or a result of a 复核 notice.
            "entry_id" | "recheck_id" => form.entry_id = text,
            "name" => form.name = text,
            "organisation" => form.organisation = text,
            "contact" => form.contact = text,
            "reason" => form.reason = text,
            _ => {}
        }
    }
    if let Some(e) = refused {
        // Dropping a received file removes its temporary copy.
        evidence = Err(e);
    }
    (form, evidence)
}

/// The name of the tick every irreversible step's page form carries.
pub const ACKNOWLEDGE: &str = "acknowledge";

/// An irreversible step's confirmation on a page: a checkbox whose label says what the person
/// attests and what will happen, `required` in the browser and checked again by the page handler
/// (a post without the tick is refused with 422 and nothing is written). The JSON API has no
/// tick: calling it is the confirmation. Shown by the `confirm` macro in `macros.html`.
#[derive(Debug, Clone, Default)]
pub struct Confirm {
    /// The checkbox's element id.
    pub id: String,
    /// What the person attests by ticking: "我已核对名单".
    pub attest: String,
    /// What the step does and that it cannot be taken back.
    pub consequence: String,
    /// The refusal shown under the checkbox after a post without the tick.
    pub error: String,
}

impl Confirm {
    pub fn new(
        id: impl Into<String>,
        attest: impl Into<String>,
        consequence: impl Into<String>,
    ) -> Self {
        Confirm {
            id: id.into(),
            attest: attest.into(),
            consequence: consequence.into(),
            error: String::new(),
        }
    }

    /// Refuses the step unless the tick was posted (any non-empty value; browsers send "on").
    pub fn check(&self, posted: &str) -> Result<(), AppError> {
        if posted.trim().is_empty() {
            return Err(AppError::invalid(
                ACKNOWLEDGE,
                format!("请勾选“{}”：{}", self.attest, self.consequence),
            ));
        }
        Ok(())
    }

    /// The same confirmation showing the tick's refusal carried by `error`, if it has one.
    pub fn refused_by(mut self, error: Option<&AppError>) -> Self {
        if let Some(f) = error.and_then(|e| e.fields().iter().find(|f| f.field == ACKNOWLEDGE)) {
            self.error = f.message.clone();
        }
        self
    }
}
