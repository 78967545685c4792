//! Operations (`ExecutePlan`): results are produced lazily, as the client reads them,
//! and kept until the client releases them (`ReleaseExecute`), so a client whose
//! stream broke can `ReattachExecute` after the last response it saw. An operation
//! whose client went away is cancelled and freed after the detach timeout;
//! `Interrupt` cancels it at once (the DataFusion stream is dropped, which stops the
//! query's tasks).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use spark_connect_proto::execute_plan_response::{ArrowBatch, ResponseType, ResultComplete};
use spark_connect_proto::ExecutePlanResponse;
use tokio::sync::Notify;

use crate::error::{ConnectError, Result};
use crate::session::ConnectSession;

/// A stream of responses still to be produced.
pub type ResponseSource = BoxStream<'static, Result<ExecutePlanResponse>>;

struct OpState {
    source: Option<ResponseSource>,
    /// Produced, unreleased responses; `base` is the index of the first.
    buffer: VecDeque<Arc<ExecutePlanResponse>>,
    base: usize,
    done: bool,
}

/// One `ExecutePlan` operation.
pub struct Operation {
    /// The operation id (client-chosen or a fresh UUID).
    pub id: String,
    /// Tags set with `spark.addTag` (for `interruptTag`).
    pub tags: Vec<String>,
    session_id: String,
    server_side_session_id: String,
    reattachable: bool,
    state: tokio::sync::Mutex<OpState>,
    cancelled: AtomicBool,
    cancel: Notify,
    attached: AtomicUsize,
    session: Weak<ConnectSession>,
}

impl Operation {
    /// A new operation producing the responses of `source`.
    pub fn new(
        session: &Arc<ConnectSession>,
        id: String,
        tags: Vec<String>,
        reattachable: bool,
        source: ResponseSource,
    ) -> Arc<Operation> {
        Arc::new(Operation {
            id,
            tags,
            session_id: session.session_id.clone(),
            server_side_session_id: session.server_side_session_id.clone(),
            reattachable,
            state: tokio::sync::Mutex::new(OpState {
                source: Some(source),
                buffer: VecDeque::new(),
                base: 0,
                done: false,
            }),
            cancelled: AtomicBool::new(false),
            cancel: Notify::new(),
            attached: AtomicUsize::new(0),
            session: Arc::downgrade(session),
        })
    }

    /// Cancels the operation; false when it had already finished or been cancelled.
    pub fn interrupt(&self) -> bool {
        let was = self.cancelled.swap(true, Ordering::SeqCst);
        self.cancel.notify_waiters();
        self.cancel.notify_one();
        !was
    }

    fn wrap(&self, mut r: ExecutePlanResponse) -> ExecutePlanResponse {
        r.session_id = self.session_id.clone();
        r.server_side_session_id = self.server_side_session_id.clone();
        r.operation_id = self.id.clone();
        r.response_id = uuid::Uuid::new_v4().to_string();
        r
    }

    /// Frees responses up to and including `response_id` (all when `None`); releasing
    /// everything forgets the operation.
    pub async fn release(self: &Arc<Self>, response_id: Option<&str>) {
        let mut st = self.state.lock().await;
        match response_id {
            None => {
                st.buffer.clear();
                drop(st);
                if let Some(s) = self.session.upgrade() {
                    s.remove_operation(&self.id);
                }
            }
            Some(id) => {
                if let Some(i) = st.buffer.iter().position(|r| r.response_id == id) {
                    st.buffer.drain(..=i);
                    st.base += i + 1;
                }
            }
        }
    }

    /// The index after `response_id` (for reattaching), or the first buffered one.
    async fn position_after(&self, response_id: Option<&str>) -> Result<usize> {
        let st = self.state.lock().await;
        match response_id {
            None => Ok(st.base),
            Some(id) => match st.buffer.iter().position(|r| r.response_id == id) {
                Some(i) => Ok(st.base + i + 1),
                None => Err(ConnectError::Handle {
                    class: "INVALID_CURSOR.POSITION_NOT_AVAILABLE",
                    message: format!(
                        "The cursor position id {id} is not available for operation {}: it was released.",
                        self.id
                    ),
                }),
            },
        }
    }

    async fn next_at(
        &self,
        index: usize,
    ) -> Option<std::result::Result<Arc<ExecutePlanResponse>, tonic::Status>> {
        let mut st = self.state.lock().await;
        if index < st.base {
            return Some(Err(ConnectError::Handle {
                class: "INVALID_CURSOR.POSITION_NOT_AVAILABLE",
                message: format!("responses of operation {} were released", self.id),
            }
            .to_status()));
        }
        if index < st.base + st.buffer.len() {
            return Some(Ok(st.buffer[index - st.base].clone()));
        }
        if st.done {
            return None;
        }
        if self.cancelled.load(Ordering::SeqCst) {
            st.done = true;
            st.source = None;
            return Some(Err(cancelled(&self.id)));
        }
        let source = st.source.as_mut()?;
        let item = tokio::select! {
            item = source.next() => item,
            _ = self.cancel.notified() => {
                st.done = true;
                st.source = None;
                return Some(Err(cancelled(&self.id)));
            }
        };
        let resp = match item {
            Some(Ok(r)) => self.wrap(r),
            Some(Err(e)) => {
                st.done = true;
                st.source = None;
                return Some(Err(e.to_status()));
            }
            None => {
                st.source = None;
                st.done = true;
                self.wrap(response(ResponseType::ResultComplete(ResultComplete {})))
            }
        };
        let resp = Arc::new(resp);
        st.buffer.push_back(resp.clone());
        if !self.reattachable {
            // Nobody can come back for it: keep only what is unread.
            while st.buffer.len() > 1 {
                st.buffer.pop_front();
                st.base += 1;
            }
        }
        Some(Ok(resp))
    }

    /// A response stream for a client, from the response after `after` (or from the
    /// start). When the client goes away before the end, the operation is cancelled
    /// after `detach_timeout` unless a client reattaches.
    pub async fn attach(
        self: &Arc<Self>,
        after: Option<&str>,
        detach_timeout: std::time::Duration,
    ) -> Result<BoxStream<'static, std::result::Result<ExecutePlanResponse, tonic::Status>>> {
        let start = self.position_after(after).await?;
        self.attached.fetch_add(1, Ordering::SeqCst);
        let guard = Attachment {
            op: self.clone(),
            detach_timeout,
            finished: false,
        };
        Ok(
            futures::stream::unfold((guard, start), |(mut g, i)| async move {
                match g.op.next_at(i).await {
                    Some(Ok(r)) => Some((Ok((*r).clone()), (g, i + 1))),
                    Some(Err(e)) => {
                        g.finished = true;
                        Some((Err(e), (g, usize::MAX)))
                    }
                    None => {
                        g.finished = true;
                        if !g.op.reattachable {
                            if let Some(s) = g.op.session.upgrade() {
                                s.remove_operation(&g.op.id);
                            }
                        }
                        None
                    }
                }
            })
            .boxed(),
        )
    }
}

fn cancelled(id: &str) -> tonic::Status {
    ConnectError::Handle {
        class: "OPERATION_CANCELED",
        message: format!("Operation {id} has been cancelled."),
    }
    .to_status()
}

/// Held by a client's response stream; when dropped before the end, schedules the
/// operation's cancellation.
struct Attachment {
    op: Arc<Operation>,
    detach_timeout: std::time::Duration,
    finished: bool,
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let left = self.op.attached.fetch_sub(1, Ordering::SeqCst) - 1;
        if self.finished || left > 0 {
            return;
        }
        let op = self.op.clone();
        let timeout = if op.reattachable {
            self.detach_timeout
        } else {
            std::time::Duration::ZERO
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                tokio::time::sleep(timeout).await;
                if op.attached.load(Ordering::SeqCst) == 0 {
                    tracing::info!(operation = %op.id, "client detached; operation cancelled and freed");
                    if let Some(s) = op.session.upgrade() {
                        s.remove_operation(&op.id);
                    }
                    op.interrupt();
                }
            });
        }
    }
}

/// One Arrow IPC stream (schema + one batch) per result batch, as PySpark reads
/// `ArrowBatch.data`; an empty result still sends one empty batch. `schema` (the
/// Spark schema of the result) rides on the first of these responses: PySpark reads
/// `ExecutePlanResponse.schema` from any response, and every response but the last
/// costs the client a `ReleaseExecute` call.
pub fn arrow_responses(
    schema: arrow::datatypes::SchemaRef,
    spark_schema: Option<spark_connect_proto::DataType>,
    batches: BoxStream<'static, Result<RecordBatch>>,
) -> ResponseSource {
    let wire = Arc::new(crate::types::wire_schema(&schema));
    let state = (batches, 0i64, spark_schema, false, wire);
    futures::stream::unfold(Some(state), |st| async move {
        let (mut batches, offset, mut spark_schema, sent_any, wire) = st?;
        loop {
            let (b, last) = match batches.next().await {
                Some(Ok(b)) if b.num_rows() == 0 => continue,
                Some(Ok(b)) => (b, false),
                Some(Err(e)) => return Some((Err(e), None)),
                None if !sent_any => (RecordBatch::new_empty(wire.clone()), true),
                None => return None,
            };
            let rows = b.num_rows() as i64;
            let r = encode(&wire, &b).map(|data| ExecutePlanResponse {
                schema: spark_schema.take(),
                ..response(ResponseType::ArrowBatch(ArrowBatch {
                    row_count: rows,
                    data,
                    start_offset: Some(offset),
                    ..Default::default()
                }))
            });
            let next = (!last).then_some((batches, offset + rows, None, true, wire));
            return Some((r, next));
        }
    })
    .boxed()
}

/// A response carrying `r` (ids are filled in by the operation).
pub fn response(r: ResponseType) -> ExecutePlanResponse {
    ExecutePlanResponse {
        response_type: Some(r),
        ..Default::default()
    }
}

fn encode(wire: &arrow::datatypes::SchemaRef, b: &RecordBatch) -> Result<Bytes> {
    let batch = crate::types::cast_batch(b, wire)?;
    let mut buf = Vec::with_capacity(batch.get_array_memory_size() + 512);
    {
        let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut buf, wire)?;
        w.write(&batch)?;
        w.finish()?;
    }
    Ok(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringViewArray};
    use arrow::datatypes::{DataType, Field, Schema};

    #[tokio::test]
    async fn batches_are_ipc_streams_with_wire_types() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("s", DataType::Utf8View, true),
        ]));
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringViewArray::from(vec![Some("a"), None])),
            ],
        )
        .unwrap();
        let src = futures::stream::iter(vec![Ok(b.clone()), Ok(b)]).boxed();
        let spark_schema = crate::types::schema_to_proto(&schema);
        let out: Vec<_> = arrow_responses(schema, Some(spark_schema.clone()), src)
            .collect()
            .await;
        assert_eq!(out.len(), 2);
        let first = out[0].as_ref().unwrap();
        assert_eq!(first.schema.as_ref(), Some(&spark_schema));
        assert!(matches!(
            first.response_type,
            Some(ResponseType::ArrowBatch(_))
        ));
        assert_eq!(out[1].as_ref().unwrap().schema, None);
        let Some(ResponseType::ArrowBatch(a)) =
            out[1].as_ref().ok().and_then(|r| r.response_type.as_ref())
        else {
            panic!("not a batch")
        };
        assert_eq!((a.row_count, a.start_offset), (2, Some(2)));
        let mut r =
            arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(a.data.to_vec()), None)
                .unwrap();
        let got = r.next().unwrap().unwrap();
        assert_eq!(got.schema().field(1).data_type(), &DataType::Utf8);
        assert_eq!(got.num_rows(), 2);
    }

    #[tokio::test]
    async fn empty_results_send_one_empty_batch() {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let spark_schema = crate::types::schema_to_proto(&schema);
        let out: Vec<_> = arrow_responses(
            schema,
            Some(spark_schema.clone()),
            futures::stream::empty().boxed(),
        )
        .collect()
        .await;
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].as_ref().unwrap().schema.as_ref(),
            Some(&spark_schema)
        );
        let Some(ResponseType::ArrowBatch(a)) =
            out[0].as_ref().ok().and_then(|r| r.response_type.as_ref())
        else {
            panic!("not a batch")
        };
        assert_eq!(a.row_count, 0);
    }
}
