//! `AddArtifacts` / `ArtifactStatus`: files the client uploads. `cache/<sha256>`
//! artifacts hold large `createDataFrame` data (kept in memory); `pyfiles/`,
//! `archives/`, `files/` artifacts are written under the session's artifact
//! directory, which the Python UDF workers put on `sys.path`.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use spark_connect_proto as pb;
use spark_connect_proto::add_artifacts_request::{ArtifactChunk, Payload};
use spark_connect_proto::add_artifacts_response::ArtifactSummary;

use crate::error::{ConnectError, Result};
use crate::session::{ConnectSession, SessionManager};

fn crc_ok(c: &ArtifactChunk) -> bool {
    crc32fast::hash(&c.data) as i64 == c.crc
}

/// Stores a complete artifact.
fn store(cs: &ConnectSession, name: &str, data: Bytes) -> Result<()> {
    if name.contains("..") || name.starts_with('/') {
        return Err(ConnectError::invalid(format!(
            "artifact name {name} escapes the artifact directory"
        )));
    }
    if !name.starts_with("cache/") {
        let path = cs.artifact_dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(ember_core::EmberError::from)?;
        }
        std::fs::write(&path, &data).map_err(ember_core::EmberError::from)?;
    }
    if let Ok(mut a) = cs.artifacts.lock() {
        a.insert(name.to_string(), data);
    }
    Ok(())
}

/// Receives one `AddArtifacts` stream.
///
/// Errors: [`ConnectError::Invalid`] for a chunk without a preceding begin message.
pub async fn add(
    sessions: &SessionManager,
    mut stream: tonic::Streaming<pb::AddArtifactsRequest>,
) -> Result<pb::AddArtifactsResponse> {
    let mut summaries = Vec::new();
    let mut cs: Option<Arc<ConnectSession>> = None;
    // (name, expected chunks, received chunks, data, all crcs ok)
    let mut pending: Option<(String, i64, i64, BytesMut, bool)> = None;
    while let Some(req) = stream
        .message()
        .await
        .map_err(|e| ConnectError::invalid(format!("artifact stream broke: {e}")))?
    {
        if cs.is_none() {
            cs = Some(sessions.get_or_create(
                &req.session_id,
                req.client_observed_server_side_session_id.as_deref(),
            )?);
        }
        let session = cs
            .as_ref()
            .ok_or_else(|| ConnectError::invalid("artifact stream without a session"))?;
        match req.payload {
            Some(Payload::Batch(b)) => {
                for a in b.artifacts {
                    let chunk = a.data.unwrap_or_default();
                    let ok = crc_ok(&chunk);
                    if ok {
                        store(session, &a.name, chunk.data)?;
                    }
                    summaries.push(ArtifactSummary {
                        name: a.name,
                        is_crc_successful: ok,
                    });
                }
            }
            Some(Payload::BeginChunk(b)) => {
                let first = b.initial_chunk.unwrap_or_default();
                let ok = crc_ok(&first);
                let mut data = BytesMut::with_capacity(b.total_bytes.max(0) as usize);
                data.extend_from_slice(&first.data);
                pending = Some((b.name, b.num_chunks, 1, data, ok));
            }
            Some(Payload::Chunk(c)) => {
                let p = pending.as_mut().ok_or_else(|| {
                    ConnectError::invalid("artifact chunk without a begin message")
                })?;
                p.4 &= crc_ok(&c);
                p.3.extend_from_slice(&c.data);
                p.2 += 1;
            }
            None => {}
        }
        if let Some((_, n, got, _, _)) = &pending {
            if got >= n {
                let (name, _, _, data, ok) = pending
                    .take()
                    .ok_or_else(|| ConnectError::invalid("artifact state"))?;
                if ok {
                    store(session, &name, data.freeze())?;
                }
                summaries.push(ArtifactSummary {
                    name,
                    is_crc_successful: ok,
                });
            }
        }
    }
    let (session_id, server_side_session_id) = match &cs {
        Some(s) => (s.session_id.clone(), s.server_side_session_id.clone()),
        None => (String::new(), String::new()),
    };
    Ok(pb::AddArtifactsResponse {
        session_id,
        server_side_session_id,
        artifacts: summaries,
    })
}

/// Which of the named artifacts the session holds.
pub fn status(
    cs: &ConnectSession,
    req: &pb::ArtifactStatusesRequest,
) -> pb::ArtifactStatusesResponse {
    let have = cs
        .artifacts
        .lock()
        .map(|a| a.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let statuses = req
        .names
        .iter()
        .map(|n| {
            (
                n.clone(),
                pb::artifact_statuses_response::ArtifactStatus {
                    exists: have.contains(n),
                },
            )
        })
        .collect();
    pb::ArtifactStatusesResponse {
        session_id: cs.session_id.clone(),
        server_side_session_id: cs.server_side_session_id.clone(),
        statuses,
    }
}
