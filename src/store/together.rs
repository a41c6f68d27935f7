//! Several inserts in one round trip to the database, for a write's transaction: the rows a
//! decision adds beside the row it changes (its history, its notices) need no answer, so they need
//! not each wait for one while the writer's turn is held.

use sea_orm::sea_query::{CommonTableExpression, InsertStatement, WithClause};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// Runs the inserts, in order, in one round trip: on PostgreSQL one statement (each insert but
/// the last in its `WITH`), on SQLite the statements sent together.
pub async fn insert_together<C: ConnectionTrait>(
    conn: &C,
    mut inserts: Vec<InsertStatement>,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let Some(last) = inserts.pop() else {
        return Ok(());
    };
    let statement = if inserts.is_empty() {
        backend.build(&last)
    } else if backend == DbBackend::Postgres {
        let mut with = WithClause::new();
        for (i, insert) in inserts.into_iter().enumerate() {
            with.cte(
                CommonTableExpression::new()
                    .query(insert)
                    .table_name(format!("insert_{i}"))
                    .to_owned(),
            );
        }
        backend.build(&last.with(with))
    } else {
        sent_together(
            backend,
            inserts
                .iter()
                .chain([&last])
                .map(|i| backend.build(i))
                .collect(),
        )
    };
    conn.execute_raw(statement).await?;
    Ok(())
}

/// Statements SQLite runs in one call, one after the other: their texts joined, their values in
/// order.
pub fn sent_together(backend: DbBackend, statements: Vec<Statement>) -> Statement {
    let mut sql = Vec::new();
    let mut values = Vec::new();
    for s in statements {
        sql.push(s.sql);
        values.extend(s.values.map(|v| v.0).unwrap_or_default());
    }
    Statement::from_sql_and_values(backend, sql.join("; "), values)
}
