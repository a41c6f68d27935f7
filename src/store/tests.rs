//! The storage edge's helpers against a real (SQLite) database.

use crate::store::id::BlobId;
use std::path::PathBuf;

use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use time::OffsetDateTime;

use super::entity::{blob, organisation};
use crate::error::AppError;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn fresh() -> (TempDir, DatabaseConnection) {
    let dir = std::env::temp_dir().join(format!(
        "jiqun-store-test-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = super::connect(&crate::config::sqlite_url(&dir.join("jiqun.db")))
        .await
        .unwrap();
    super::migrate(&db).await.unwrap();
    (TempDir(dir), db)
}

#[tokio::test]
async fn batch_loads_cross_the_chunk_size() {
    let (_dir, db) = fresh().await;
    let now = OffsetDateTime::now_utc();
    let rows: Vec<blob::ActiveModel> = (0..1200_i64)
        .map(|i| blob::ActiveModel {
            sm3: Set(format!("{i:064x}")),
            size: Set(i),
            mime: Set("text/plain".into()),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(100) {
        blob::Entity::insert_many(chunk.to_vec())
            .exec(&db)
            .await
            .unwrap();
    }
    let ids: Vec<BlobId> = blob::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids.len(), 1200);
    // Duplicates and an id that does not exist are fine.
    let wanted = ids
        .iter()
        .copied()
        .chain(ids.iter().take(10).copied())
        .chain([BlobId::new(i64::MAX)]);
    let by_id = super::load_by_ids::<blob::Entity>(&db, wanted)
        .await
        .unwrap();
    assert_eq!(by_id.len(), 1200);
    let sizes = super::load_by_ids_map::<blob::Entity, _>(&db, ids.iter().copied(), |b| b.size)
        .await
        .unwrap();
    assert_eq!(sizes.values().sum::<i64>(), (0..1200).sum::<i64>());
    let children = super::load_where_in::<blob::Entity>(&db, blob::Column::Size, (0..1200).rev())
        .await
        .unwrap();
    assert_eq!(children.len(), 1200);
    assert!(children.windows(2).all(|w| w[0].id < w[1].id), "id order");
    let none = super::load_by_ids::<blob::Entity>(&db, []).await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_versioned_update_moves_the_version_once_and_refuses_a_stale_one() {
    let (_dir, db) = fresh().await;
    let now = OffsetDateTime::now_utc();
    let org = organisation::ActiveModel {
        name: Set("旧名称".into()),
        kind: Set(jiqun_domain::access::OrgKind::PromotionOrg),
        credit_code: Set(None),
        city_code: Set(None),
        county_code: Set(None),
        contact_person: Set(String::new()),
        contact_phone: Set(String::new()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    let rename = |name: &str| organisation::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    };
    super::update_versioned(&db, org.id, 1, rename("新名称"))
        .await
        .unwrap();
    let stale = super::update_versioned(&db, org.id, 1, rename("抢先"))
        .await
        .unwrap_err();
    assert!(matches!(stale, AppError::StaleVersion), "{stale:?}");
    // A second write at the version this transaction already moved to keeps that version.
    super::update_at_version(
        &db,
        org.id,
        2,
        organisation::ActiveModel {
            contact_person: Set("张三".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let after = organisation::Entity::find_by_id(org.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            after.name.as_str(),
            after.contact_person.as_str(),
            after.version
        ),
        ("新名称", "张三", 2)
    );
}
