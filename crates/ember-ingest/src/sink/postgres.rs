//! PostgreSQL with pgvector. The table gets one column per source column (text,
//! smallint, integer, bigint, real, double precision, boolean, date), the vector as
//! `vector(dim)` and the key as primary key. A batch is sent with binary `COPY` into
//! a session temporary table, then moved with `INSERT ... ON CONFLICT (key) DO
//! UPDATE` (upsert) or a plain `INSERT` (append), in one transaction: a batch lands
//! whole or not at all.
//!
//! Errors are sorted as the job needs them: connection failures and SQLSTATE classes
//! 08 (connection), 53 (resources), 57 (operator intervention, e.g. the server
//! shutting down) and 40 (serialization) are transient — the connection is dropped
//! and the task retried; classes 22 (data exception) and 23 (integrity) are data
//! errors — the job splits the batch to dead-letter the rejected records; anything
//! else (permissions, a missing extension) fails the job.

use std::error::Error as StdError;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    SchemaRef,
};
use bytes::{BufMut, BytesMut};
use tokio::sync::Mutex;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::{Client, NoTls};

use super::{VectorSink, WriteMode};
use crate::error::{IngestError, Result};

/// A pgvector table.
pub struct PgVectorSink {
    url: String,
    table: String,
    index: Option<String>,
    dim: usize,
    client: Mutex<Option<Client>>,
    layout: std::sync::Mutex<Option<Layout>>,
}

#[derive(Clone)]
struct Layout {
    columns: Vec<String>,
    types: Vec<Type>,
    key: String,
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn classify(e: tokio_postgres::Error) -> IngestError {
    let code = e.code().map(|c| c.code().to_string());
    let message = match e.as_db_error() {
        Some(db) => format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        ),
        None => {
            let mut m = e.to_string();
            if let Some(src) = e.source() {
                m.push_str(&format!(": {src}"));
            }
            m
        }
    };
    match code.as_deref() {
        None => IngestError::Sink {
            sink: "pgvector",
            message,
            transient: true,
        },
        Some(c) if ["08", "53", "57", "40"].iter().any(|p| c.starts_with(p)) => IngestError::Sink {
            sink: "pgvector",
            message,
            transient: true,
        },
        Some(c) if c.starts_with("22") || c.starts_with("23") => IngestError::SinkRejected {
            sink: "pgvector",
            message,
        },
        Some(_) => IngestError::Sink {
            sink: "pgvector",
            message,
            transient: false,
        },
    }
}

fn pg_type(t: &DataType) -> Result<&'static str> {
    Ok(match t {
        DataType::Utf8 | DataType::LargeUtf8 => "text",
        DataType::Int8 | DataType::Int16 => "smallint",
        DataType::Int32 => "integer",
        DataType::Int64 => "bigint",
        DataType::Float32 => "real",
        DataType::Float64 => "double precision",
        DataType::Boolean => "boolean",
        DataType::Date32 => "date",
        other => {
            return Err(IngestError::Config(format!(
                "sink pgvector: no column type for {other}"
            )))
        }
    })
}

impl PgVectorSink {
    /// A sink for `table` at `url`; connects lazily.
    ///
    /// Errors: [`IngestError::Config`] for an unknown index type.
    pub async fn open(
        url: &str,
        table: &str,
        index: Option<&str>,
        dim: usize,
    ) -> Result<PgVectorSink> {
        let index = match index.map(str::to_ascii_lowercase).as_deref() {
            None | Some("hnsw") => Some("hnsw".to_string()),
            Some("none") => None,
            Some(other) => {
                return Err(IngestError::Config(format!(
                    "sink.index '{other}' is not a pgvector index (hnsw, none)"
                )))
            }
        };
        Ok(PgVectorSink {
            url: url.to_string(),
            table: table.to_string(),
            index,
            dim,
            client: Mutex::new(None),
            layout: std::sync::Mutex::new(None),
        })
    }

    /// A live connection (a new one when the last was lost).
    async fn client<'a>(&self, slot: &'a mut Option<Client>) -> Result<&'a Client> {
        if slot.as_ref().is_none_or(|c| c.is_closed()) {
            let (client, conn) = tokio_postgres::connect(&self.url, NoTls)
                .await
                .map_err(classify)?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("pgvector connection ended: {e}");
                }
            });
            *slot = Some(client);
            tracing::debug!("connected to PostgreSQL");
        }
        slot.as_ref().ok_or_else(|| IngestError::Sink {
            sink: "pgvector",
            message: "no connection".into(),
            transient: true,
        })
    }

    fn layout(&self) -> Result<Layout> {
        self.layout
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| IngestError::Sink {
                sink: "pgvector",
                message: "write before prepare".into(),
                transient: false,
            })
    }
}

/// One value in binary COPY format.
#[derive(Debug)]
enum Cell<'a> {
    Null,
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    Text(&'a str),
    /// Days since 1970-01-01 (Arrow's Date32).
    Date(i32),
    Vector(&'a [f32]),
}

impl ToSql for Cell<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Cell::Null => return Ok(IsNull::Yes),
            Cell::I16(v) => out.put_i16(*v),
            Cell::I32(v) => out.put_i32(*v),
            Cell::I64(v) => out.put_i64(*v),
            Cell::F32(v) => out.put_f32(*v),
            Cell::F64(v) => out.put_f64(*v),
            Cell::Bool(v) => out.put_u8(u8::from(*v)),
            Cell::Text(s) => out.put_slice(s.as_bytes()),
            // PostgreSQL dates count from 2000-01-01 (10,957 days after 1970-01-01).
            Cell::Date(d) => out.put_i32(d - 10_957),
            // pgvector's binary form: dimension (int16), unused (int16), float4s.
            Cell::Vector(v) => {
                out.put_i16(v.len() as i16);
                out.put_i16(0);
                for x in *v {
                    out.put_f32(*x);
                }
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn cell<'a>(col: &'a dyn Array, row: usize) -> Cell<'a> {
    if col.is_null(row) {
        return Cell::Null;
    }
    match col.data_type() {
        DataType::Utf8 => Cell::Text(col.as_string::<i32>().value(row)),
        DataType::Int8 => Cell::I16(col.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => Cell::I16(col.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => Cell::I32(col.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => Cell::I64(col.as_primitive::<Int64Type>().value(row)),
        DataType::Float32 => Cell::F32(col.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => Cell::F64(col.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Cell::Bool(col.as_boolean().value(row)),
        DataType::Date32 => Cell::Date(col.as_primitive::<Date32Type>().value(row)),
        DataType::FixedSizeList(_, n) => {
            let l = col.as_fixed_size_list();
            let n = *n as usize;
            let values = l.values().as_primitive::<Float32Type>().values();
            let start = (l.offset() + row) * n;
            Cell::Vector(&values[start..start + n])
        }
        _ => Cell::Null,
    }
}

#[async_trait::async_trait]
impl VectorSink for PgVectorSink {
    fn name(&self) -> &'static str {
        "pgvector"
    }

    async fn prepare(&self, schema: SchemaRef, key: &str) -> Result<bool> {
        let mut slot = self.client.lock().await;
        let client = self.client(&mut slot).await?;
        let table = quote(&self.table);
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .await
            .map_err(classify)?
            .get(0);
        let mut cols = Vec::new();
        for f in schema.fields() {
            let ty = match f.data_type() {
                DataType::FixedSizeList(_, _) => format!("vector({})", self.dim),
                t => pg_type(t)?.to_string(),
            };
            let null = if f.is_nullable() { "" } else { " NOT NULL" };
            cols.push(format!("{} {ty}{null}", quote(f.name())));
        }
        client
            .batch_execute(&format!(
                "CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE IF NOT EXISTS {table} ({}, PRIMARY KEY ({}))",
                cols.join(", "),
                quote(key)
            ))
            .await
            .map_err(classify)?;
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let list = names
            .iter()
            .map(|n| quote(n))
            .collect::<Vec<_>>()
            .join(", ");
        let stmt = client
            .prepare(&format!("SELECT {list} FROM {table} LIMIT 0"))
            .await
            .map_err(classify)?;
        let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
        *self.layout.lock().unwrap_or_else(|p| p.into_inner()) = Some(Layout {
            columns: names,
            types,
            key: key.to_string(),
        });
        Ok(!exists)
    }

    async fn write(&self, batch: RecordBatch, mode: WriteMode) -> Result<u64> {
        let layout = self.layout()?;
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(0);
        }
        let mut slot = self.client.lock().await;
        let result = async {
            let client = self.client(&mut slot).await?;
            let table = quote(&self.table);
            let list = layout.columns.iter().map(|n| quote(n)).collect::<Vec<_>>().join(", ");
            client
                .batch_execute(&format!(
                    "BEGIN; DROP TABLE IF EXISTS ember_stage; CREATE TEMP TABLE ember_stage (LIKE {table})"
                ))
                .await
                .map_err(classify)?;
            let sink = client
                .copy_in(&format!("COPY ember_stage ({list}) FROM STDIN (FORMAT binary)"))
                .await
                .map_err(classify)?;
            let writer = BinaryCopyInWriter::new(sink, &layout.types);
            futures::pin_mut!(writer);
            let cols: Vec<&dyn Array> = batch.columns().iter().map(|c| c.as_ref()).collect();
            let mut cells: Vec<Cell<'_>> = Vec::with_capacity(cols.len());
            for r in 0..rows {
                cells.clear();
                cells.extend(cols.iter().map(|c| cell(*c, r)));
                let refs: Vec<&(dyn ToSql + Sync)> = cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
                writer.as_mut().write(&refs).await.map_err(classify)?;
            }
            writer.finish().await.map_err(classify)?;
            let insert = match mode {
                WriteMode::Append => format!("INSERT INTO {table} ({list}) SELECT {list} FROM ember_stage"),
                WriteMode::Upsert => {
                    let set = layout
                        .columns
                        .iter()
                        .filter(|c| **c != layout.key)
                        .map(|c| format!("{0} = EXCLUDED.{0}", quote(c)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!(
                        "INSERT INTO {table} ({list}) SELECT {list} FROM ember_stage ON CONFLICT ({}) DO UPDATE SET {set}",
                        quote(&layout.key)
                    )
                }
            };
            client.batch_execute(&format!("{insert}; COMMIT")).await.map_err(classify)?;
            Ok::<u64, IngestError>(rows as u64)
        }
        .await;
        if result.is_err() {
            // Roll back whatever is open; a lost connection is replaced next time.
            if let Some(c) = slot.as_ref() {
                if c.batch_execute("ROLLBACK").await.is_err() {
                    *slot = None;
                }
            }
        }
        result
    }

    async fn finish(&self) -> Result<()> {
        let Some(kind) = &self.index else {
            return Ok(());
        };
        let mut slot = self.client.lock().await;
        let client = self.client(&mut slot).await?;
        let name = quote(&format!("{}_embedding_{kind}", self.table));
        client
            .batch_execute(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON {} USING hnsw (embedding vector_cosine_ops)",
                quote(&self.table)
            ))
            .await
            .map_err(classify)
    }

    async fn count(&self) -> Result<u64> {
        let mut slot = self.client.lock().await;
        let client = self.client(&mut slot).await?;
        let n: i64 = client
            .query_one(&format!("SELECT count(*) FROM {}", quote(&self.table)), &[])
            .await
            .map_err(classify)?
            .get(0);
        Ok(n as u64)
    }
}
