//! One set of migrations, rendered by sea-query for SQLite and PostgreSQL alike.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Foundation),
            Box::new(M0002Intake),
            Box::new(M0003TotpReplay),
            Box::new(M0004MailOutbox),
            Box::new(M0005Rounds),
            Box::new(M0006Throttle),
            Box::new(M0007Doors),
            Box::new(M0008ApiTokens),
            Box::new(M0009Scopes),
            Box::new(M0010AuditChanges),
            Box::new(M0011Lifecycle),
            Box::new(M0012Reports),
            Box::new(M0014Revocation),
            Box::new(M0013Policies),
            Box::new(M0018Funding),
            Box::new(M0016Imports),
            Box::new(M0015Records),
            Box::new(M0019Nomination),
            Box::new(M0022Monitoring),
            Box::new(M0021Finals),
            Box::new(M0020Recheck),
            Box::new(M0024RecheckObjections),
            Box::new(M0023CallRules),
            Box::new(M0025ScaleOut),
            Box::new(M0026CountyOpinions),
            Box::new(M0027SecondProgramme),
            Box::new(M0028CityCompetitions),
            Box::new(M0029CityCertificates),
            Box::new(M0030CityExpertPools),
            Box::new(M0031NationalTerms),
            Box::new(M0032ReportAlertProgrammes),
            Box::new(M0033RoundCountIndexes),
            Box::new(M0034WriteCheckIndexes),
        ]
    }
}

struct M0001Foundation;

impl MigrationName for M0001Foundation {
    fn name(&self) -> &str {
        "m0001_foundation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Foundation {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organisations")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string("kind"))
                .col(string_null("credit_code").unique_key())
                .col(string_null("city_code"))
                .col(string_null("county_code"))
                .col(string("contact_person"))
                .col(string("contact_phone"))
                .col(boolean("active"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_organisations_city")
                .table("organisations")
                .col("city_code")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(string_uniq("username"))
                .col(string("display_name"))
                .col(big_integer("org_id"))
                .col(string("role"))
                .col(string("phone"))
                .col(string("email"))
                .col(string("password_hash"))
                .col(boolean("must_change_password"))
                .col(integer("failed_logins"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(string_null("totp_secret"))
                .col(boolean("totp_enabled"))
                .col(text("recovery_codes"))
                .col(boolean("active"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("password_changed_at"))
                .col(timestamp_with_time_zone_null("last_login_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_users_org")
                        .from("users", "org_id")
                        .to("organisations", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("sessions")
                .col(string("id").primary_key())
                .col(big_integer("user_id"))
                .col(string("csrf_token"))
                .col(boolean("mfa_passed"))
                .col(string("client_addr"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("last_seen_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_sessions_user")
                        .from("sessions", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("audit_entries")
                .col(big_integer("seq").primary_key())
                .col(timestamp_with_time_zone("at"))
                .col(big_integer_null("actor_user_id"))
                .col(string("actor_name"))
                .col(string("actor_role"))
                .col(string("actor_org"))
                .col(string("action"))
                .col(string("object_type"))
                .col(string("object_id"))
                .col(text("summary"))
                .col(text("reason"))
                .col(string("client_addr"))
                .col(string("prev_hash"))
                .col(string("hash"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_entries_at")
                .table("audit_entries")
                .col("at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("audit_head")
                .col(integer("id").primary_key())
                .col(big_integer("seq"))
                .col(string("hash"))
                .col(string("mac"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("calendar_years")
                .col(integer("year").primary_key())
                .col(text("source"))
                .col(string("imported_by"))
                .col(timestamp_with_time_zone("imported_at"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

struct M0002Intake;

impl MigrationName for M0002Intake {
    fn name(&self) -> &str {
        "m0002_intake"
    }
}

fn index(name: &str, table: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table.to_string());
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0002Intake {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A year's competition call, bound to the policy it runs under.
        m.create_table(
            Table::create()
                .table("competitions")
                .col(big_pk_auto("id"))
                .col(integer("year"))
                .col(string("title"))
                .col(string("policy_id"))
                .col(text("policy_source"))
                .col(timestamp_with_time_zone("submission_deadline"))
                .col(timestamp_with_time_zone("review_deadline"))
                .col(text("notice_text"))
                .col(string("status"))
                .col(big_integer("created_by"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        // Stored file contents, named by their SM3 digest: the same bytes are stored once.
        m.create_table(
            Table::create()
                .table("blobs")
                .col(big_pk_auto("id"))
                .col(string_uniq("sm3"))
                .col(big_integer("size"))
                .col(string("mime"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        // A file as someone attached it to something.
        m.create_table(
            Table::create()
                .table("attachments")
                .col(big_pk_auto("id"))
                .col(big_integer("blob_id"))
                .col(string("owner_type"))
                .col(big_integer("owner_id"))
                .col(string("purpose"))
                .col(string("file_name"))
                .col(big_integer("uploaded_by"))
                .col(timestamp_with_time_zone("uploaded_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_attachments_blob")
                        .from("attachments", "blob_id")
                        .to("blobs", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_attachments_owner",
            "attachments",
            &["owner_type", "owner_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("clusters")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string("name"))
                .col(string("kind"))
                .col(string("industry_code"))
                .col(string("lead_county_code"))
                .col(string("city_code"))
                .col(string("core_park"))
                .col(string("lifecycle"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_clusters_org")
                        .from("clusters", "org_id")
                        .to("organisations", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_clusters_org", "clusters", &["org_id"]))
            .await?;
        m.create_table(
            Table::create()
                .table("cluster_counties")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(string("county_code"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_cluster_counties_cluster")
                        .from("cluster_counties", "cluster_id")
                        .to("clusters", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("cluster_members")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(string("name"))
                .col(string("credit_code"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_cluster_members_cluster")
                        .from("cluster_members", "cluster_id")
                        .to("clusters", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_cluster_members_code",
                "cluster_members",
                &["cluster_id", "credit_code"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("cluster_co_applicants")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("org_id"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_cluster_co_applicants_cluster")
                        .from("cluster_co_applicants", "cluster_id")
                        .to("clusters", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("applications")
                .col(big_pk_auto("id"))
                .col(big_integer("competition_id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("org_id"))
                .col(string("city_code"))
                .col(string("county_code"))
                .col(string("kind"))
                .col(string("status"))
                .col(text("form"))
                .col(integer("revision"))
                .col(timestamp_with_time_zone_null("submitted_at"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_applications_competition")
                        .from("applications", "competition_id")
                        .to("competitions", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_applications_cluster")
                        .from("applications", "cluster_id")
                        .to("clusters", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_applications_cluster",
                "applications",
                &["competition_id", "cluster_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_applications_city",
            "applications",
            &["city_code", "status"],
        ))
        .await?;
        // What was submitted each time: the city sees what changed between submissions.
        m.create_table(
            Table::create()
                .table("application_versions")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(integer("revision"))
                .col(text("form"))
                .col(text("snapshot"))
                .col(big_integer("submitted_by"))
                .col(timestamp_with_time_zone("submitted_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_application_versions_application")
                        .from("application_versions", "application_id")
                        .to("applications", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_application_versions",
                "application_versions",
                &["application_id", "revision"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // The decisions on one application, as its people see them (the audit log has them too).
        m.create_table(
            Table::create()
                .table("application_events")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(string("from_status"))
                .col(string("to_status"))
                .col(string("action"))
                .col(big_integer("actor_user_id"))
                .col(string("actor_name"))
                .col(text("comment"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_application_events_app",
            "application_events",
            &["application_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("recommendations")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("application_id"))
                .col(big_integer_null("letter_attachment_id"))
                .col(text("letter_text"))
                .col(text("cap_justification"))
                .col(big_integer("recommended_by"))
                .col(timestamp_with_time_zone("recommended_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("notifications")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string("title"))
                .col(text("body"))
                .col(string("link"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_notifications_user",
            "notifications",
            &["user_id"],
        ))
        .await?;
        Ok(())
    }
}

/// RFC 6238 §5.2: a code is accepted once, so remember the last time step used.
struct M0003TotpReplay;

impl MigrationName for M0003TotpReplay {
    fn name(&self) -> &str {
        "m0003_totp_replay"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003TotpReplay {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(big_integer_null("totp_last_step"))
                .to_owned(),
        )
        .await
    }
}

/// E-mails written in the same transaction as the notification they accompany, delivered
/// afterwards: a mail goes out exactly when its change committed, and a slow mail server never
/// holds a transaction open.
struct M0004MailOutbox;

impl MigrationName for M0004MailOutbox {
    fn name(&self) -> &str {
        "m0004_mail_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004MailOutbox {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("mail_outbox")
                .col(big_pk_auto("id"))
                .col(string("to_address"))
                .col(string("subject"))
                .col(text("body"))
                .col(integer("attempts"))
                .col(text("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_mail_outbox_sent", "mail_outbox", &["sent_at"]))
            .await
    }
}

struct M0005Rounds;

impl MigrationName for M0005Rounds {
    fn name(&self) -> &str {
        "m0005_rounds"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005Rounds {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // An expert in the pool (专家库), linked to the account they sign in with.
        m.create_table(
            Table::create()
                .table("experts")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("user_id"))
                .col(string("name"))
                .col(text("fields"))
                .col(string("city_code"))
                .col(string("employer"))
                .col(text("affiliations"))
                .col(boolean("active"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        // A conflict of interest an expert declared for an application.
        m.create_table(
            Table::create()
                .table("expert_conflicts")
                .col(big_pk_auto("id"))
                .col(big_integer("expert_id"))
                .col(big_integer("application_id"))
                .col(text("reason"))
                .col(timestamp_with_time_zone("declared_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_expert_conflicts",
                "expert_conflicts",
                &["expert_id", "application_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // A round (初赛/决赛) of a competition.
        m.create_table(
            Table::create()
                .table("rounds")
                .col(big_pk_auto("id"))
                .col(big_integer("competition_id"))
                .col(string("kind"))
                .col(string("status"))
                .col(integer("experts_per_application"))
                .col(text("panel_note"))
                .col(text("quotas"))
                .col(timestamp_with_time_zone("scoring_opens_at"))
                .col(timestamp_with_time_zone("scoring_closes_at"))
                .col(boolean("defence"))
                .col(text("notice_text"))
                .col(date_null("notice_published_on"))
                .col(date_null("notice_first_day"))
                .col(date_null("notice_last_day"))
                .col(date_null("confirmed_on"))
                .col(big_integer("created_by"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_rounds_kind", "rounds", &["competition_id", "kind"])
                .unique()
                .to_owned(),
        )
        .await?;
        // A cluster competing in a round, judged on one application.
        m.create_table(
            Table::create()
                .table("round_entries")
                .col(big_pk_auto("id"))
                .col(big_integer("round_id"))
                .col(big_integer("application_id"))
                .col(big_integer("cluster_id"))
                .col(string("cluster_kind"))
                .col(string("city_code"))
                .col(string("county_code"))
                .col(string("status"))
                .col(double_null("final_score"))
                .col(integer_null("rank"))
                .col(boolean("proposed"))
                .col(text("decision_note"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_round_entries",
                "round_entries",
                &["round_id", "cluster_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_round_entries_round",
            "round_entries",
            &["round_id"],
        ))
        .await?;
        // An expert on a round's panel.
        m.create_table(
            Table::create()
                .table("round_panel")
                .col(big_pk_auto("id"))
                .col(big_integer("round_id"))
                .col(big_integer("expert_id"))
                .col(big_integer("added_by"))
                .col(timestamp_with_time_zone("added_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_round_panel", "round_panel", &["round_id", "expert_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        // An expert assigned to judge an entry.
        m.create_table(
            Table::create()
                .table("assignments")
                .col(big_pk_auto("id"))
                .col(big_integer("round_id"))
                .col(big_integer("entry_id"))
                .col(big_integer("expert_id"))
                .col(string("source"))
                .col(text("override_reason"))
                .col(timestamp_with_time_zone_null("recused_at"))
                .col(text("recusal_reason"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_assignments", "assignments", &["entry_id", "expert_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_assignments_expert",
            "assignments",
            &["expert_id"],
        ))
        .await?;
        m.create_index(index("idx_assignments_round", "assignments", &["round_id"]))
            .await?;
        // An expert's scores for one assignment.
        m.create_table(
            Table::create()
                .table("score_sheets")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("assignment_id"))
                .col(big_integer("round_id"))
                .col(big_integer("entry_id"))
                .col(big_integer("expert_id"))
                .col(text("scores"))
                .col(text("comment"))
                .col(double_null("total"))
                .col(string("status"))
                .col(timestamp_with_time_zone_null("submitted_at"))
                .col(text("reopened_reason"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_score_sheets_round",
            "score_sheets",
            &["round_id"],
        ))
        .await?;
        // A defence (答辩) score recorded by the province for one expert.
        m.create_table(
            Table::create()
                .table("defence_scores")
                .col(big_pk_auto("id"))
                .col(big_integer("round_id"))
                .col(big_integer("entry_id"))
                .col(big_integer("expert_id"))
                .col(double("score"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("recorded_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_defence_scores",
                "defence_scores",
                &["entry_id", "expert_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        // A named objection (异议) filed by the public against a proposed list.
        m.create_table(
            Table::create()
                .table("objections")
                .col(big_pk_auto("id"))
                .col(big_integer("round_id"))
                .col(big_integer("entry_id"))
                .col(string("name"))
                .col(string("organisation"))
                .col(string("contact"))
                .col(text("reason"))
                .col(string("client_addr"))
                .col(string("status"))
                .col(text("reply"))
                .col(timestamp_with_time_zone("filed_at"))
                .col(timestamp_with_time_zone_null("registered_at"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(big_integer_null("decided_by"))
                .col(integer("version"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_objections_round", "objections", &["round_id"]))
            .await?;
        m.create_index(index(
            "idx_objections_addr",
            "objections",
            &["client_addr", "filed_at"],
        ))
        .await?;
        // What a confirmed round made a cluster, with its numbered certificate.
        m.create_table(
            Table::create()
                .table("designations")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("round_id"))
                .col(big_integer("entry_id"))
                .col(string("designation"))
                .col(date("effective_on"))
                .col(integer("year"))
                .col(integer("seq"))
                .col(string_uniq("certificate_number"))
                .col(date_null("revoked_on"))
                .col(text("revoke_reason"))
                .col(big_integer("decided_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_designations_seq",
                "designations",
                &["designation", "year", "seq"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_designations_cluster",
            "designations",
            &["cluster_id"],
        ))
        .await?;
        Ok(())
    }
}

/// Attempts counted against a limit per subject (failed logins per client address), in the
/// database so that the limit holds across every app server.
struct M0006Throttle;

impl MigrationName for M0006Throttle {
    fn name(&self) -> &str {
        "m0006_throttle"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0006Throttle {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("throttle_hits")
                .col(big_pk_auto("id"))
                .col(string("bucket"))
                .col(string("subject"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_throttle_hits_subject",
            "throttle_hits",
            &["bucket", "subject", "at"],
        ))
        .await
    }
}

/// Second-factor failures counted per account (a right password must not reset them, or the
/// password holder could guess codes forever), and whether the current lock came from them (such
/// a lock is not lifted by presenting the second factor: the password is known to someone).
struct M0007Doors;

impl MigrationName for M0007Doors {
    fn name(&self) -> &str {
        "m0007_doors"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0007Doors {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(integer("failed_second_factors").default(0))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(boolean("locked_by_second_factor").default(false))
                .to_owned(),
        )
        .await
    }
}

/// Long-lived API tokens for other government systems. Only the SM3 digest of a token is kept,
/// as for sessions; the short prefix identifies a token in lists and the audit trail.
struct M0008ApiTokens;

impl MigrationName for M0008ApiTokens {
    fn name(&self) -> &str {
        "m0008_api_tokens"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0008ApiTokens {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("api_tokens")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string_uniq("digest"))
                .col(string("prefix"))
                .col(string("role"))
                .col(big_integer("org_id"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(big_integer_null("revoked_by"))
                .foreign_key(
                    ForeignKey::create()
                        .from("api_tokens", "org_id")
                        .to("organisations", "id"),
                )
                .to_owned(),
        )
        .await
    }
}

/// The before/after of the fields an audited change touched, as JSON text (chained exactly as
/// stored, so a text column: a JSON type would normalise it). Older entries keep NULL.
struct M0010AuditChanges;

impl MigrationName for M0010AuditChanges {
    fn name(&self) -> &str {
        "m0010_audit_changes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0010AuditChanges {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("audit_entries")
                .add_column(text_null("changes"))
                .to_owned(),
        )
        .await
    }
}

/// 三权分立: an account the system administrator creates waits for the security administrator,
/// who activates it and receives its first credential. Existing accounts are in use already.
struct M0009Scopes;

impl MigrationName for M0009Scopes {
    fn name(&self) -> &str {
        "m0009_scopes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0009Scopes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("users")
                .add_column(boolean("activation_pending").default(false))
                .to_owned(),
        )
        .await
    }
}

/// A designation records how it closed (superseded by a certification, or revoked), and a
/// cluster's stored standing is what `jiqun_domain::lifecycle::standing` makes of its titles
/// (第三条、第十四条). Existing data is upgraded: an open 培育对象 title of a cluster certified
/// later is marked superseded on the certification's effective date, and every cluster's
/// `lifecycle` is recomputed, which also repairs clusters shown as revoked after a superseded
/// title was revoked.
struct M0011Lifecycle;

impl MigrationName for M0011Lifecycle {
    fn name(&self) -> &str {
        "m0011_lifecycle"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0011Lifecycle {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use std::collections::BTreeMap;

        use jiqun_domain::lifecycle::{self, Closure, Standing, Title};
        use jiqun_domain::round::Designation;
        use sea_orm::ConnectionTrait;

        use crate::store::entity::kinds::Lifecycle;

        m.alter_table(
            Table::alter()
                .table("designations")
                .add_column(date_null("superseded_on"))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let rows = db
            .query_all(
                &Query::select()
                    .columns([
                        "id",
                        "cluster_id",
                        "designation",
                        "effective_on",
                        "revoked_on",
                    ])
                    .from("designations")
                    .to_owned(),
            )
            .await?;
        // Each cluster's titles replayed in the order they were conferred.
        let mut by_cluster: BTreeMap<i64, Vec<(time::Date, i64, Designation, Option<time::Date>)>> =
            BTreeMap::new();
        for r in rows {
            let key: String = r.try_get("", "designation")?;
            let designation = Designation::from_key(&key)
                .ok_or_else(|| DbErr::Migration(format!("unknown designation kind {key:?}")))?;
            by_cluster
                .entry(r.try_get("", "cluster_id")?)
                .or_default()
                .push((
                    r.try_get("", "effective_on")?,
                    r.try_get("", "id")?,
                    designation,
                    r.try_get("", "revoked_on")?,
                ));
        }
        let mut standings: BTreeMap<i64, Standing> = BTreeMap::new();
        for (cluster_id, mut list) in by_cluster {
            list.sort_by_key(|(on, id, _, _)| (*on, *id));
            let mut titles: Vec<Title> = Vec::new();
            let mut ids = Vec::new();
            for (on, id, designation, revoked_on) in list {
                for i in lifecycle::confer(&mut titles, designation, on) {
                    db.execute(
                        &Query::update()
                            .table("designations")
                            .value("superseded_on", on)
                            .and_where(Expr::col("id").eq(ids[i]))
                            .to_owned(),
                    )
                    .await?;
                }
                if let (Some(day), Some(t)) = (revoked_on, titles.last_mut()) {
                    t.closed = Some(Closure::Revoked(day));
                }
                ids.push(id);
            }
            standings.insert(cluster_id, lifecycle::standing(&titles));
        }
        let clusters = db
            .query_all(&Query::select().column("id").from("clusters").to_owned())
            .await?;
        for r in clusters {
            let id: i64 = r.try_get("", "id")?;
            let standing = standings.get(&id).copied().unwrap_or(Standing::None);
            db.execute(
                &Query::update()
                    .table("clusters")
                    .value("lifecycle", Lifecycle::of_standing(standing).key())
                    .and_where(Expr::col("id").eq(id))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Development reports (第十三条): one per cluster and period, the versions kept at each
/// submission, the report's own history, and the reminders and overdue notices sent (one row
/// per cluster, period and kind, so each goes out once whichever server sends it).
struct M0012Reports;

impl MigrationName for M0012Reports {
    fn name(&self) -> &str {
        "m0012_reports"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0012Reports {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("reports")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("org_id"))
                .col(string("city_code"))
                .col(string("period_kind"))
                .col(integer("period_year"))
                .col(string("status"))
                .col(text("form"))
                .col(integer("revision"))
                .col(text("city_opinion"))
                .col(text("province_comment"))
                .col(timestamp_with_time_zone_null("submitted_at"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_reports_cluster")
                        .from("reports", "cluster_id")
                        .to("clusters", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_reports_period",
                "reports",
                &["cluster_id", "period_kind", "period_year"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index("idx_reports_city", "reports", &["city_code"]))
            .await?;
        m.create_table(
            Table::create()
                .table("report_versions")
                .col(big_pk_auto("id"))
                .col(big_integer("report_id"))
                .col(integer("revision"))
                .col(text("form"))
                .col(big_integer("submitted_by"))
                .col(timestamp_with_time_zone("submitted_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_report_versions_report")
                        .from("report_versions", "report_id")
                        .to("reports", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_report_versions_revision",
                "report_versions",
                &["report_id", "revision"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("report_events")
                .col(big_pk_auto("id"))
                .col(big_integer("report_id"))
                .col(string("from_status"))
                .col(string("to_status"))
                .col(string("action"))
                .col(big_integer("actor_user_id"))
                .col(string("actor_name"))
                .col(text("comment"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_report_events_report",
            "report_events",
            &["report_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("report_alerts")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(string("period_kind"))
                .col(integer("period_year"))
                .col(string("kind"))
                .col(timestamp_with_time_zone("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_report_alerts",
                "report_alerts",
                &["cluster_id", "period_kind", "period_year", "kind"],
            )
            .unique()
            .to_owned(),
        )
        .await
    }
}

/// Revocation as a proceeding (第十四条 按程序撤销): one row per case, from the opening (ground,
/// facts) through the 告知书 and the statement window to the numbered 决定书, whose text is frozen
/// in `decision_snapshot` at the decision. Decision numbers are unique per year.
struct M0014Revocation;

impl MigrationName for M0014Revocation {
    fn name(&self) -> &str {
        "m0014_revocation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0014Revocation {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("revocation_cases")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(string("ground_key"))
                .col(string("ground_name"))
                .col(string("ground_article"))
                .col(text("facts"))
                .col(string("status"))
                .col(big_integer("opened_by"))
                .col(date("opened_on"))
                .col(date_null("notified_on"))
                .col(date_null("response_last_day"))
                .col(integer_null("response_working_days"))
                .col(text("notice_text"))
                .col(text("response_text"))
                .col(timestamp_with_time_zone_null("responded_at"))
                .col(big_integer_null("responded_by"))
                .col(date_null("decided_on"))
                .col(integer_null("decision_year"))
                .col(integer_null("decision_seq"))
                .col(string_null("decision_number"))
                .col(text("decision_reasons"))
                .col(big_integer_null("decided_by"))
                .col(text("decision_snapshot"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_revocation_cases_cluster",
            "revocation_cases",
            &["cluster_id"],
        ))
        .await?;
        m.create_index(
            index(
                "uq_revocation_cases_decision",
                "revocation_cases",
                &["decision_year", "decision_seq"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// Policies live in the database (第十八条: the 2021 Measures ran out; a successor must be
/// installable without a rebuild): each installed text with its SM3 hash, key and version. A
/// call records the hash of the exact text it opened under, and may record why it opened under
/// a policy outside its validity (延续执行). One applicant's deadline may be extended.
/// Existing calls are upgraded: every text a call is bound to is installed as it stands and the
/// call is linked to it by hash, so nothing already published changes.
struct M0013Policies;

impl MigrationName for M0013Policies {
    fn name(&self) -> &str {
        "m0013_policies"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0013Policies {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use std::collections::BTreeMap;

        use sea_orm::ConnectionTrait;

        m.create_table(
            Table::create()
                .table("policies")
                .col(big_pk_auto("id"))
                .col(string("key"))
                .col(integer("version"))
                .col(string_uniq("sm3"))
                .col(text("source"))
                .col(string("origin"))
                .col(string("installed_by"))
                .col(timestamp_with_time_zone("installed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_policies_key")
                .table("policies")
                .col("key")
                .to_owned(),
        )
        .await?;
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            string_null("policy_hash"),
            text_null("override_reason"),
            string_null("override_document"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("competitions")
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("deadline_extensions")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(string("step"))
                .col(timestamp_with_time_zone("until"))
                .col(text("reason"))
                .col(big_integer_null("granted_by"))
                .col(string("granted_by_name"))
                .col(timestamp_with_time_zone("granted_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_deadline_extensions_application")
                .table("deadline_extensions")
                .col("application_id")
                .to_owned(),
        )
        .await?;

        let db = m.get_connection();
        let rows = db
            .query_all(
                &Query::select()
                    .columns(["id", "policy_id", "policy_source", "created_at"])
                    .from("competitions")
                    .to_owned(),
            )
            .await?;
        // Each distinct bound text once, installed when the first call bound to it was opened.
        let mut texts: BTreeMap<String, (String, String, time::OffsetDateTime, Vec<i64>)> =
            BTreeMap::new();
        for r in rows {
            let source: String = r.try_get("", "policy_source")?;
            let hash = crate::services::policy::sm3_hex(&source);
            let id: i64 = r.try_get("", "id")?;
            let created: time::OffsetDateTime = r.try_get("", "created_at")?;
            let key: String = r.try_get("", "policy_id")?;
            let entry = texts
                .entry(hash)
                .or_insert_with(|| (key, source, created, Vec::new()));
            entry.2 = std::cmp::min(entry.2, created);
            entry.3.push(id);
        }
        for (hash, (key, source, first, ids)) in texts {
            let version = jiqun_rules::Policy::parse(&source, "").map_or(1, |p| p.identity.version);
            let mut insert = Query::insert();
            insert.into_table("policies").columns([
                "key",
                "version",
                "sm3",
                "source",
                "origin",
                "installed_by",
                "installed_at",
            ]);
            insert
                .values([
                    key.into(),
                    i64::from(version).into(),
                    hash.clone().into(),
                    source.into(),
                    "upgrade".into(),
                    "数据库升级（已有竞赛绑定的文本）".into(),
                    first.into(),
                ])
                .map_err(|e| DbErr::Migration(e.to_string()))?;
            db.execute(&insert).await?;
            db.execute(
                &Query::update()
                    .table("competitions")
                    .value("policy_hash", hash)
                    .and_where(Expr::col("id").is_in(ids))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// The funding ledger (第十七条): each item of support a cluster receives (a reward for a new
/// 培育对象 or 认定, or project support from a special fund) with its fund, year, amount in 分,
/// document number and where it stands; and the reward amounts the province set for a year
/// (one per year and title, the policy's default otherwise).
struct M0018Funding;

impl MigrationName for M0018Funding {
    fn name(&self) -> &str {
        "m0018_funding"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0018Funding {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("funding_entries")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("org_id"))
                .col(string("city_code"))
                .col(string("kind"))
                .col(string("fund"))
                .col(string("project"))
                .col(integer("year"))
                .col(big_integer("amount_fen"))
                .col(string("document_number"))
                .col(string("status"))
                .col(text("note"))
                .col(big_integer("created_by"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_funding_entries_cluster")
                        .from("funding_entries", "cluster_id")
                        .to("clusters", "id"),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_funding_entries_cluster", &["cluster_id"][..]),
            ("idx_funding_entries_city", &["city_code"][..]),
            ("idx_funding_entries_year", &["year"][..]),
        ] {
            m.create_index(index(name, "funding_entries", cols)).await?;
        }
        m.create_table(
            Table::create()
                .table("funding_rewards")
                .col(big_pk_auto("id"))
                .col(integer("year"))
                .col(string("designation"))
                .col(big_integer("amount_fen"))
                .col(big_integer("set_by"))
                .col(string("set_by_name"))
                .col(timestamp_with_time_zone("set_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_funding_rewards_year",
                "funding_rewards",
                &["year", "designation"],
            )
            .unique()
            .to_owned(),
        )
        .await
    }
}

/// Excel imports with a preview: the uploaded file stays in the blob store (by its SM3 hash)
/// between the preview and the confirmation, which names the import by its id. `status` moves
/// from `previewed` to `committed` in one statement, so two confirmations import once.
struct M0016Imports;

impl MigrationName for M0016Imports {
    fn name(&self) -> &str {
        "m0016_imports"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0016Imports {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("imports")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(big_integer("target_id"))
                .col(big_integer("blob_id"))
                .col(string("file_name"))
                .col(string("status"))
                .col(integer("rows_new"))
                .col(integer("rows_updated"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("committed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_imports_created_by", "imports", &["created_by"]))
            .await?;
        Ok(())
    }
}

/// Published records never change (第十条至第十二条): a snapshot of what each published 公示
/// entry and each certificate showed, the certificate that replaced one (换发), and the
/// 变更申请 of designated clusters. Existing
/// published entries and certificates are frozen from the data as it stands, so they read the
/// same afterwards.
struct M0015Records;

impl MigrationName for M0015Records {
    fn name(&self) -> &str {
        "m0015_records"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0015Records {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        m.alter_table(
            Table::alter()
                .table("round_entries")
                .add_column(text("notice_snapshot").default(""))
                .to_owned(),
        )
        .await?;
        for column in [
            &mut text("snapshot").default("").to_owned(),
            &mut big_integer_null("superseded_by"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("designations")
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("change_requests")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("org_id"))
                .col(string("city_code"))
                .col(string("status"))
                .col(text("before_json"))
                .col(text("changes_json"))
                .col(text("reasons"))
                .col(boolean_null("city_agrees"))
                .col(text("city_opinion"))
                .col(big_integer_null("city_by"))
                .col(timestamp_with_time_zone_null("city_at"))
                .col(text("decision_reasons"))
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(big_integer_null("old_designation_id"))
                .col(big_integer_null("new_designation_id"))
                .col(big_integer("filed_by"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_change_requests_cluster",
            "change_requests",
            &["cluster_id"],
        ))
        .await?;
        records_backfill(m.get_connection()).await
    }
}

/// Freezes every published 公示 entry and every certificate from the data as it stands (raw
/// queries: the entities describe the newest schema, not this one).
async fn records_backfill<C: sea_orm::ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    use std::collections::HashMap;

    use crate::services::records::{Facts, freeze, kind_label};

    let rows = |table: &'static str, cols: &[&'static str]| {
        let mut q = Query::select();
        q.columns(cols.iter().copied()).from(table);
        q.to_owned()
    };
    let mut policies: HashMap<i64, Option<jiqun_rules::Policy>> = HashMap::new();
    for r in db
        .query_all(&rows("competitions", &["id", "policy_source"]))
        .await?
    {
        let source: String = r.try_get("", "policy_source")?;
        policies.insert(
            r.try_get("", "id")?,
            jiqun_rules::Policy::parse(&source, "").ok(),
        );
    }
    let mut round_competition: HashMap<i64, (i64, bool)> = HashMap::new();
    for r in db
        .query_all(&rows(
            "rounds",
            &["id", "competition_id", "notice_published_on"],
        ))
        .await?
    {
        let published: Option<time::Date> = r.try_get("", "notice_published_on")?;
        round_competition.insert(
            r.try_get("", "id")?,
            (r.try_get("", "competition_id")?, published.is_some()),
        );
    }
    let mut orgs: HashMap<i64, String> = HashMap::new();
    for r in db
        .query_all(&rows("organisations", &["id", "name"]))
        .await?
    {
        orgs.insert(r.try_get("", "id")?, r.try_get("", "name")?);
    }
    let mut counties: HashMap<i64, Vec<String>> = HashMap::new();
    for r in db
        .query_all(&rows("cluster_counties", &["cluster_id", "county_code"]))
        .await?
    {
        counties
            .entry(r.try_get("", "cluster_id")?)
            .or_default()
            .push(r.try_get("", "county_code")?);
    }
    for list in counties.values_mut() {
        list.sort();
    }
    // id → (name, kind, org, lead county, city)
    let mut clusters: HashMap<i64, (String, String, i64, String, String)> = HashMap::new();
    for r in db
        .query_all(&rows(
            "clusters",
            &[
                "id",
                "name",
                "kind",
                "org_id",
                "lead_county_code",
                "city_code",
            ],
        ))
        .await?
    {
        clusters.insert(
            r.try_get("", "id")?,
            (
                r.try_get("", "name")?,
                r.try_get("", "kind")?,
                r.try_get("", "org_id")?,
                r.try_get("", "lead_county_code")?,
                r.try_get("", "city_code")?,
            ),
        );
    }
    let snapshot = |cluster_id: i64,
                    kind: Option<&str>,
                    city: Option<&str>,
                    competition: Option<i64>,
                    score: Option<f64>,
                    rank: Option<i32>|
     -> Option<String> {
        let (name, own_kind, org, lead, own_city) = clusters.get(&cluster_id)?;
        let kind = kind.unwrap_or(own_kind);
        // A title written without a round (an imported one) reads the kinds of any bound policy.
        let label = competition
            .and_then(|c| policies.get(&c))
            .and_then(Option::as_ref)
            .or_else(|| policies.values().flatten().next())
            .map_or_else(|| kind.to_string(), |p| kind_label(p, kind));
        let others = counties.get(&cluster_id).cloned().unwrap_or_default();
        let snap = freeze(&Facts {
            cluster_name: name,
            kind,
            kind_label: &label,
            org_name: orgs.get(org).map(String::as_str).unwrap_or(""),
            city_code: city.unwrap_or(own_city),
            lead_county: lead,
            other_counties: &others,
            final_score: score,
            rank,
        });
        serde_json::to_string(&snap).ok()
    };
    // entry id → (cluster, kind, city, round, score, rank)
    type Entry = (i64, String, String, i64, Option<f64>, Option<i32>);
    let mut entries: HashMap<i64, Entry> = HashMap::new();
    for r in db
        .query_all(&rows(
            "round_entries",
            &[
                "id",
                "cluster_id",
                "cluster_kind",
                "city_code",
                "round_id",
                "final_score",
                "rank",
                "status",
            ],
        ))
        .await?
    {
        let id: i64 = r.try_get("", "id")?;
        let round_id: i64 = r.try_get("", "round_id")?;
        let status: String = r.try_get("", "status")?;
        let entry: Entry = (
            r.try_get("", "cluster_id")?,
            r.try_get("", "cluster_kind")?,
            r.try_get("", "city_code")?,
            round_id,
            r.try_get("", "final_score")?,
            r.try_get("", "rank")?,
        );
        let published = round_competition.get(&round_id).copied();
        // Entrants that went on notice: what the public list shows.
        if let Some((competition, true)) = published
            && ["on_notice", "confirmed", "removed"].contains(&status.as_str())
            && let Some(text) = snapshot(
                entry.0,
                Some(&entry.1),
                Some(&entry.2),
                Some(competition),
                entry.4,
                entry.5,
            )
        {
            db.execute(
                &Query::update()
                    .table("round_entries")
                    .value("notice_snapshot", text)
                    .and_where(Expr::col("id").eq(id))
                    .to_owned(),
            )
            .await?;
        }
        entries.insert(id, entry);
    }
    for r in db
        .query_all(&rows("designations", &["id", "cluster_id", "entry_id"]))
        .await?
    {
        let id: i64 = r.try_get("", "id")?;
        let cluster_id: i64 = r.try_get("", "cluster_id")?;
        let entry_id: i64 = r.try_get("", "entry_id")?;
        let text = match entries.get(&entry_id) {
            Some((_, kind, city, round_id, score, rank)) => snapshot(
                cluster_id,
                Some(kind),
                Some(city),
                round_competition.get(round_id).map(|(c, _)| *c),
                *score,
                *rank,
            ),
            None => snapshot(cluster_id, None, None, None, None, None),
        };
        if let Some(text) = text {
            db.execute(
                &Query::update()
                    .table("designations")
                    .value("snapshot", text)
                    .and_where(Expr::col("id").eq(id))
                    .to_owned(),
            )
            .await?;
        }
    }
    Ok(())
}

/// National nominations (第十七条 择优推荐): the province puts a certified cluster forward for a
/// year, with its reason and document number, then records the national outcome once. One
/// nomination per cluster and year (the unique index backs the service's serialised check).
struct M0019Nomination;

impl MigrationName for M0019Nomination {
    fn name(&self) -> &str {
        "m0019_nomination"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0019Nomination {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("nominations")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(integer("year"))
                .col(text("reason"))
                .col(string("document_number"))
                .col(big_integer("nominated_by"))
                .col(date("nominated_on"))
                .col(string("outcome"))
                .col(date_null("outcome_on"))
                .col(string("outcome_document"))
                .col(text("outcome_note"))
                .col(big_integer_null("outcome_by"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_nominations_cluster_year",
                "nominations",
                &["cluster_id", "year"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// Monitoring notes (第五条, 第十四条): the province or a city bureau writes a note on a flagged
/// figure of a cluster's report (a question asked, an explanation received, a check done).
/// Notes are only added, never changed.
struct M0022Monitoring;

impl MigrationName for M0022Monitoring {
    fn name(&self) -> &str {
        "m0022_monitoring"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0022Monitoring {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("monitoring_notes")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("report_id"))
                .col(string("indicator"))
                .col(string("flag_kind"))
                .col(text("note"))
                .col(big_integer("author_user_id"))
                .col(string("author_name"))
                .col(string("author_org"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_monitoring_notes_cluster")
                        .from("monitoring_notes", "cluster_id")
                        .to("clusters", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_monitoring_notes_report")
                        .from("monitoring_notes", "report_id")
                        .to("reports", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_monitoring_notes_cluster",
                "monitoring_notes",
                &["cluster_id"],
            )
            .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// The 决赛申报材料 of each finalist (第十一条), the yearly 集中公告 compiled from a year's
/// designations and the 授牌 of each designation (第十二条). New tables only.
struct M0021Finals;

impl MigrationName for M0021Finals {
    fn name(&self) -> &str {
        "m0021_finals"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0021Finals {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("final_materials")
                .col(big_pk_auto("id"))
                .col(big_integer("round_id"))
                .col(big_integer("entry_id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("org_id"))
                .col(string("city_code"))
                .col(text("form"))
                .col(timestamp_with_time_zone("due_at"))
                .col(timestamp_with_time_zone_null("submitted_at"))
                .col(big_integer_null("submitted_by"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_final_materials_entry", "final_materials", &["entry_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ix_final_materials_round", "final_materials", &["round_id"]).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("yearly_announcements")
                .col(big_pk_auto("id"))
                .col(integer("year"))
                .col(string("document_number"))
                .col(text("snapshot"))
                .col(date("published_on"))
                .col(big_integer("published_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_yearly_announcements_year",
                "yearly_announcements",
                &["year"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("plaques")
                .col(big_pk_auto("id"))
                .col(big_integer("designation_id"))
                .col(date("presented_on"))
                .col(string("plaque_number"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_plaques_designation", "plaques", &["designation_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_plaques_number", "plaques", &["plaque_number"])
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// 复核 (第十四条) as a proceeding: the province's yearly call (requirements, deadline, and the
/// result notice once published) and one recheck per cluster the call lists, carrying the
/// cluster's materials, its city's opinion, the panel's decision and the confirmed result (with
/// the revocation case a failure or a lapse opened).
struct M0020Recheck;

impl MigrationName for M0020Recheck {
    fn name(&self) -> &str {
        "m0020_recheck"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0020Recheck {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("recheck_calls")
                .col(big_pk_auto("id"))
                .col(integer("year"))
                .col(text("requirements"))
                .col(date("deadline"))
                .col(big_integer("issued_by"))
                .col(date("issued_on"))
                .col(date_null("notice_published_on"))
                .col(date_null("notice_last_day"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("uq_recheck_calls_year", "recheck_calls", &["year"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("rechecks")
                .col(big_pk_auto("id"))
                .col(big_integer("call_id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("org_id"))
                .col(string("city_code"))
                .col(string("certificate_number"))
                .col(date("due_on"))
                .col(string("status"))
                .col(text("materials_json"))
                .col(timestamp_with_time_zone_null("submitted_at"))
                .col(big_integer_null("submitted_by"))
                .col(boolean_null("city_agrees"))
                .col(text("city_opinion"))
                .col(big_integer_null("city_by"))
                .col(timestamp_with_time_zone_null("city_at"))
                .col(text("panel_json"))
                .col(double_null("score"))
                .col(boolean_null("passed"))
                .col(text("result_reasons"))
                .col(big_integer_null("reviewed_by"))
                .col(date_null("reviewed_on"))
                .col(date_null("confirmed_on"))
                .col(date_null("next_due_on"))
                .col(big_integer_null("revocation_case_id"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_rechecks_call_cluster",
                "rechecks",
                &["call_id", "cluster_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index("ix_rechecks_cluster", "rechecks", &["cluster_id"]).to_owned())
            .await?;
        Ok(())
    }
}

/// Objections (异议) to a 复核 result notice, and the notice's rows as published (a snapshot
/// the public page reads, so a later change of a result never alters what was noticed).
struct M0024RecheckObjections;

impl MigrationName for M0024RecheckObjections {
    fn name(&self) -> &str {
        "m0024_recheck_objections"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0024RecheckObjections {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("recheck_calls")
                .add_column(text("notice_json").default(""))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("recheck_objections")
                .col(big_pk_auto("id"))
                .col(big_integer("call_id"))
                .col(big_integer("recheck_id"))
                .col(string("name"))
                .col(string("organisation"))
                .col(string("contact"))
                .col(text("reason"))
                .col(string("client_addr"))
                .col(string("status"))
                .col(text("reply"))
                .col(timestamp_with_time_zone("filed_at"))
                .col(timestamp_with_time_zone_null("registered_at"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(big_integer_null("decided_by"))
                .col(integer("version"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_recheck_objections_recheck")
                        .from("recheck_objections", "recheck_id")
                        .to("rechecks", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_recheck_objections_recheck",
                "recheck_objections",
                &["recheck_id"],
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_recheck_objections_addr",
                "recheck_objections",
                &["client_addr", "filed_at"],
            )
            .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// A call's own rules within its policy (竞赛通知): that year's stricter thresholds, quotas per
/// kind, extra files and requirements, as JSON beside the call; absent on existing calls.
struct M0023CallRules;

impl MigrationName for M0023CallRules {
    fn name(&self) -> &str {
        "m0023_call_rules"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0023CallRules {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("competitions")
                .add_column(text_null("call_rules"))
                .to_owned(),
        )
        .await
    }
}

/// Several servers on one database: a change counter per round's public notice, so a page kept
/// by one server is dropped when another changes the round (`page_cache`), and the claim of an
/// outgoing e-mail, so two servers' mailers never send the same message (`mail`).
struct M0025ScaleOut;

impl MigrationName for M0025ScaleOut {
    fn name(&self) -> &str {
        "m0025_scale_out"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0025ScaleOut {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("page_versions")
                .col(big_integer("round_id").primary_key())
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("mail_outbox")
                .add_column(timestamp_with_time_zone_null("claimed_at"))
                .to_owned(),
        )
        .await
    }
}

/// 第十六条: a county bureau's opinion (县级意见) in the city's 初审. A new table only; the
/// county role and organisation kind are new keys in the existing string columns.
struct M0026CountyOpinions;

impl MigrationName for M0026CountyOpinions {
    fn name(&self) -> &str {
        "m0026_county_opinions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0026CountyOpinions {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("county_opinions")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(big_integer("org_id"))
                .col(string("county_code"))
                .col(integer("revision"))
                .col(text("opinion"))
                .col(big_integer("author_user_id"))
                .col(string("author_name"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_county_opinions_application")
                        .from("county_opinions", "application_id")
                        .to("applications", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_county_opinions_org")
                        .from("county_opinions", "org_id")
                        .to("organisations", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_county_opinions_application",
                "county_opinions",
                &["application_id"],
            )
            .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// A programme whose outcome is the ministry's (the national 中小企业特色产业集群): the
/// province's 实地抽查 during its 初审, and the ministry's result recorded per recommended
/// application. New tables only.
struct M0027SecondProgramme;

impl MigrationName for M0027SecondProgramme {
    fn name(&self) -> &str {
        "m0027_second_programme"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0027SecondProgramme {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("field_checks")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(date("checked_on"))
                .col(text("findings"))
                .col(boolean("passed"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_field_checks_application")
                        .from("field_checks", "application_id")
                        .to("applications", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_field_checks_application",
                "field_checks",
                &["application_id"],
            )
            .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("ministry_results")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(big_integer("competition_id"))
                .col(big_integer("cluster_id"))
                .col(boolean("selected"))
                .col(date("decided_on"))
                .col(string("document_number"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ministry_results_application")
                        .from("ministry_results", "application_id")
                        .to("applications", "id"),
                )
                .to_owned(),
        )
        .await?;
        // One result per application: a second recording is refused by the database too.
        m.create_index(
            index(
                "ux_ministry_results_application",
                "ministry_results",
                &["application_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// 第十六条 分级培育: a competition's organiser (NULL = the province, as every existing call;
/// else the organising city's code) and the city-level designations (市级先进制造业集群) its
/// rounds confer, kept apart from the provincial titles, which carry reports and rechecks.
struct M0028CityCompetitions;

impl MigrationName for M0028CityCompetitions {
    fn name(&self) -> &str {
        "m0028_city_competitions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0028CityCompetitions {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("competitions")
                .add_column(string_null("organiser_city_code"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("city_designations")
                .col(big_pk_auto("id"))
                .col(big_integer("cluster_id"))
                .col(big_integer("competition_id"))
                .col(big_integer("round_id"))
                .col(big_integer("entry_id"))
                .col(string("city_code"))
                .col(text("title"))
                .col(integer("year"))
                .col(date("effective_on"))
                .col(date_null("revoked_on"))
                .col(big_integer("decided_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_city_designations_cluster")
                        .from("city_designations", "cluster_id")
                        .to("clusters", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_city_designations_competition")
                        .from("city_designations", "competition_id")
                        .to("competitions", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_city_designations_round")
                        .from("city_designations", "round_id")
                        .to("rounds", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_city_designations_entry")
                        .from("city_designations", "entry_id")
                        .to("round_entries", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_city_designations_round_cluster",
                "city_designations",
                &["round_id", "cluster_id"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_city_designations_cluster",
                "city_designations",
                &["cluster_id"],
            )
            .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ix_competitions_organiser",
                "competitions",
                &["organiser_city_code"],
            )
            .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// 第十六条: a city title as a record — its certificate number (per city and year), the frozen
/// snapshot the certificate shows, and its revocation by the conferring city (reason, document
/// number, who). Titles conferred before get their numbers and snapshots here, in the order
/// they were conferred.
struct M0029CityCertificates;

impl MigrationName for M0029CityCertificates {
    fn name(&self) -> &str {
        "m0029_city_certificates"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0029CityCertificates {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            &mut integer("seq").default(0).to_owned(),
            &mut text("certificate_number").default("").to_owned(),
            &mut text("snapshot").default("").to_owned(),
            &mut text("revoke_reason").default("").to_owned(),
            &mut text("revoke_document").default("").to_owned(),
            &mut big_integer_null("revoked_by"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("city_designations")
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        city_certificates_backfill(m.get_connection()).await?;
        m.create_index(
            index(
                "ux_city_designations_number",
                "city_designations",
                &["certificate_number"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        Ok(())
    }

    /// Back to M0028's table (the upgrade test runs the backfill over rows written before).
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ux_city_designations_number")
                .table("city_designations")
                .to_owned(),
        )
        .await?;
        for column in [
            "seq",
            "certificate_number",
            "snapshot",
            "revoke_reason",
            "revoke_document",
            "revoked_by",
        ] {
            m.alter_table(
                Table::alter()
                    .table("city_designations")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Numbers and freezes the city titles conferred before certificates existed: per city and
/// year of conferral in the order they were written, under the prefix of the city text their
/// competition is bound to; the snapshot is the cluster as it stands (raw queries: the entities
/// describe the newest schema).
async fn city_certificates_backfill<C: sea_orm::ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    use std::collections::HashMap;

    use crate::services::records::{Facts, freeze, kind_label};

    let rows = |table: &'static str, cols: &[&'static str]| {
        let mut q = Query::select();
        q.columns(cols.iter().copied()).from(table);
        q.to_owned()
    };
    let titles = db
        .query_all(&rows(
            "city_designations",
            &[
                "id",
                "cluster_id",
                "competition_id",
                "entry_id",
                "city_code",
                "effective_on",
            ],
        ))
        .await?;
    if titles.is_empty() {
        return Ok(());
    }
    let mut policies: HashMap<i64, Option<jiqun_rules::Policy>> = HashMap::new();
    for r in db
        .query_all(&rows("competitions", &["id", "policy_source"]))
        .await?
    {
        let source: String = r.try_get("", "policy_source")?;
        policies.insert(
            r.try_get("", "id")?,
            jiqun_rules::Policy::parse(&source, "").ok(),
        );
    }
    let mut orgs: HashMap<i64, String> = HashMap::new();
    for r in db
        .query_all(&rows("organisations", &["id", "name"]))
        .await?
    {
        orgs.insert(r.try_get("", "id")?, r.try_get("", "name")?);
    }
    let mut counties: HashMap<i64, Vec<String>> = HashMap::new();
    for r in db
        .query_all(&rows("cluster_counties", &["cluster_id", "county_code"]))
        .await?
    {
        counties
            .entry(r.try_get("", "cluster_id")?)
            .or_default()
            .push(r.try_get("", "county_code")?);
    }
    for list in counties.values_mut() {
        list.sort();
    }
    // id → (name, org, lead county)
    let mut clusters: HashMap<i64, (String, i64, String)> = HashMap::new();
    for r in db
        .query_all(&rows(
            "clusters",
            &["id", "name", "org_id", "lead_county_code"],
        ))
        .await?
    {
        clusters.insert(
            r.try_get("", "id")?,
            (
                r.try_get("", "name")?,
                r.try_get("", "org_id")?,
                r.try_get("", "lead_county_code")?,
            ),
        );
    }
    // entry id → (kind, score, rank)
    let mut entries: HashMap<i64, (String, Option<f64>, Option<i32>)> = HashMap::new();
    for r in db
        .query_all(&rows(
            "round_entries",
            &["id", "cluster_kind", "final_score", "rank"],
        ))
        .await?
    {
        entries.insert(
            r.try_get("", "id")?,
            (
                r.try_get("", "cluster_kind")?,
                r.try_get("", "final_score")?,
                r.try_get("", "rank")?,
            ),
        );
    }
    type Title = (i64, i64, i64, i64, String, time::Date);
    let mut list: Vec<Title> = Vec::with_capacity(titles.len());
    for r in titles {
        list.push((
            r.try_get("", "id")?,
            r.try_get("", "cluster_id")?,
            r.try_get("", "competition_id")?,
            r.try_get("", "entry_id")?,
            r.try_get("", "city_code")?,
            r.try_get("", "effective_on")?,
        ));
    }
    list.sort_by_key(|t| (t.4.clone(), t.5.year(), t.0));
    let mut seqs: HashMap<(String, i32), u32> = HashMap::new();
    for (id, cluster_id, competition_id, entry_id, city, on) in list {
        let seq = seqs.entry((city.clone(), on.year())).or_insert(0);
        *seq += 1;
        let city_name = jiqun_domain::region::city_name(&city);
        let policy = policies.get(&competition_id).and_then(Option::as_ref);
        let prefix = policy
            .and_then(|p| p.city_certificate_prefix(&city_name))
            .unwrap_or_else(|| city_name.clone());
        let number = jiqun_domain::certificate::CityCertificateKey {
            city: city.parse().unwrap_or_default(),
            year: on.year(),
            seq: *seq,
        }
        .number(&prefix);
        let (kind, score, rank) = entries.get(&entry_id).cloned().unwrap_or_default();
        let snapshot = clusters.get(&cluster_id).map(|(name, org, lead)| {
            let label = policy.map_or_else(|| kind.clone(), |p| kind_label(p, &kind));
            let others = counties.get(&cluster_id).cloned().unwrap_or_default();
            let mut snap = freeze(&Facts {
                cluster_name: name,
                kind: &kind,
                kind_label: &label,
                org_name: orgs.get(org).map(String::as_str).unwrap_or(""),
                city_code: &city,
                lead_county: lead,
                other_counties: &others,
                final_score: score,
                rank,
            });
            snap.issued_on = on.to_string();
            let issuer = policy
                .and_then(|p| p.city_certificate_issuer(&city_name))
                .unwrap_or_default();
            serde_json::to_string(&crate::services::city_designations::CitySnapshot {
                record: snap,
                issuer,
            })
            .unwrap_or_default()
        });
        db.execute(
            &Query::update()
                .table("city_designations")
                .value(
                    "seq",
                    <i32 as TryFrom<u32>>::try_from(*seq).unwrap_or(i32::MAX),
                )
                .value("certificate_number", number)
                .value("snapshot", snapshot.unwrap_or_default())
                .and_where(Expr::col("id").eq(id))
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// 第十六条: a city bureau's own expert pool for its own competitions. `experts.pool_city_code`
/// NULL is the provincial pool (every existing expert); a city's code puts the expert in that
/// city's pool, from which only the city's own rounds draw their panels.
struct M0030CityExpertPools;

impl MigrationName for M0030CityExpertPools {
    fn name(&self) -> &str {
        "m0030_city_expert_pools"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0030CityExpertPools {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("experts")
                .add_column(string_null("pool_city_code"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_experts_pool_city", "experts", &["pool_city_code"]).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_experts_pool_city")
                .table("experts")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("experts")
                .drop_column("pool_city_code")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// The national title's lifecycle: reports carry their programme (`policy_id`, empty = the
/// provincial one, so existing rows keep their meaning) and are unique per programme, and each
/// term of a ministry's title closes once (`ministry_terms`).
struct M0031NationalTerms;

impl MigrationName for M0031NationalTerms {
    fn name(&self) -> &str {
        "m0031_national_terms"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0031NationalTerms {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("reports")
                .add_column(string("policy_id").default(""))
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("uq_reports_period")
                .table("reports")
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_reports_programme_period",
                "reports",
                &["cluster_id", "policy_id", "period_kind", "period_year"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("ministry_terms")
                .col(big_pk_auto("id"))
                .col(big_integer("application_id"))
                .col(big_integer("cluster_id"))
                .col(date("term_start"))
                .col(boolean("passed"))
                .col(string("reason_key"))
                .col(text("reason_name"))
                .col(date("decided_on"))
                .col(text("document_number"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ministry_terms_application")
                        .from("ministry_terms", "application_id")
                        .to("applications", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_ministry_terms_term",
                "ministry_terms",
                &["application_id", "term_start"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        Ok(())
    }

    /// Back to one report per cluster and period: the returns of other programmes go with the
    /// column that told them apart (a rollback for tests and emergencies, not an upgrade path).
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("ministry_terms").to_owned())
            .await?;
        m.drop_index(
            Index::drop()
                .name("uq_reports_programme_period")
                .table("reports")
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        for table in ["report_versions", "report_events"] {
            db.execute_unprepared(&format!(
                "DELETE FROM {table} WHERE report_id IN (SELECT id FROM reports WHERE policy_id <> '')"
            ))
            .await?;
        }
        db.execute_unprepared("DELETE FROM reports WHERE policy_id <> ''")
            .await?;
        m.create_index(
            index(
                "uq_reports_period",
                "reports",
                &["cluster_id", "period_kind", "period_year"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("reports")
                .drop_column("policy_id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// A report's reminders and overdue notices are kept per programme too (`policy_id`, empty =
/// the provincial one, as on `reports`), so a ministry's title's return and the provincial
/// report of the same year are each reminded once.
struct M0032ReportAlertProgrammes;

impl MigrationName for M0032ReportAlertProgrammes {
    fn name(&self) -> &str {
        "m0032_report_alert_programmes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0032ReportAlertProgrammes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("report_alerts")
                .add_column(string("policy_id").default(""))
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("uq_report_alerts")
                .table("report_alerts")
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "uq_report_alerts_programme",
                "report_alerts",
                &[
                    "cluster_id",
                    "policy_id",
                    "period_kind",
                    "period_year",
                    "kind",
                ],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        Ok(())
    }

    /// Back to alerts of the provincial programme only (a rollback for tests and emergencies).
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("uq_report_alerts_programme")
                .table("report_alerts")
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("DELETE FROM report_alerts WHERE policy_id <> ''")
            .await?;
        m.create_index(
            index(
                "uq_report_alerts",
                "report_alerts",
                &["cluster_id", "period_kind", "period_year", "kind"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("report_alerts")
                .drop_column("policy_id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

/// The round page counts a round's standing assignments per entrant and per expert, and its
/// submitted sheets, over 5,000 rows at a 1,000-entrant round; these indexes answer the counts
/// from the index alone (no table rows read, no temporary sort) and find a page's assignments by
/// entrant.
struct M0033RoundCountIndexes;

impl MigrationName for M0033RoundCountIndexes {
    fn name(&self) -> &str {
        "m0033_round_count_indexes"
    }
}

const ROUND_COUNT_INDEXES: [(&str, &str, &[&str]); 3] = [
    (
        "idx_assignments_round_entry",
        "assignments",
        &["round_id", "entry_id", "recused_at"],
    ),
    (
        "idx_assignments_round_expert",
        "assignments",
        &["round_id", "expert_id", "recused_at"],
    ),
    (
        "idx_score_sheets_round_status",
        "score_sheets",
        &["round_id", "status", "assignment_id"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for M0033RoundCountIndexes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_indexes(m, &ROUND_COUNT_INDEXES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_indexes(m, &ROUND_COUNT_INDEXES).await
    }
}

/// Indexes a migration adds: name, table, columns.
type Indexes<'a> = [(&'a str, &'a str, &'a [&'static str])];

async fn create_indexes(m: &SchemaManager<'_>, list: &Indexes<'_>) -> Result<(), DbErr> {
    for (name, table, cols) in list {
        m.create_index(index(name, table, cols)).await?;
    }
    Ok(())
}

async fn drop_indexes(m: &SchemaManager<'_>, list: &Indexes<'_>) -> Result<(), DbErr> {
    for (name, table, _) in list {
        m.drop_index(
            Index::drop()
                .name(*name)
                .table(String::from(*table))
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// The checks a write makes inside its transaction, found by index rather than by reading the
/// whole table: a recommendation counts its county's applications in the call and the county's
/// titled clusters (the per-county cap), and a notification finds an organisation's users. At
/// the programme's scale each was a scan of a thousand rows while the writer held the database.
struct M0034WriteCheckIndexes;

impl MigrationName for M0034WriteCheckIndexes {
    fn name(&self) -> &str {
        "m0034_write_check_indexes"
    }
}

const WRITE_CHECK_INDEXES: [(&str, &str, &[&str]); 3] = [
    (
        "idx_applications_competition_county",
        "applications",
        &["competition_id", "county_code", "status"],
    ),
    (
        "idx_clusters_lead_county",
        "clusters",
        &["lead_county_code", "lifecycle"],
    ),
    ("idx_users_org", "users", &["org_id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for M0034WriteCheckIndexes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        create_indexes(m, &WRITE_CHECK_INDEXES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_indexes(m, &WRITE_CHECK_INDEXES).await
    }
}
