//! The `SparkConnectService` gRPC service.

use std::sync::Arc;

use futures::stream::{BoxStream, StreamExt};
use spark_connect_proto as pb;
use spark_connect_proto::analyze_plan_request::Analyze;
use spark_connect_proto::analyze_plan_response as ar;
use spark_connect_proto::config_request::operation::OpType;
use spark_connect_proto::plan::OpType as PlanOp;
use tonic::{Request, Response, Status};

use crate::error::{ConnectError, Result};
use crate::execute::{arrow_responses, Operation, ResponseSource};
use crate::relation::Planner;
use crate::service_stub::spark_connect_service_server::SparkConnectService;
use crate::session::{ConnectSession, SessionManager};

/// The Spark version ember reports (`spark.version`): the Spark release whose
/// behaviour it follows (outputs are compared with Spark 4.3's), as Spark 4.3's own
/// Connect server reports to a 4.2 client.
pub const SPARK_VERSION: &str = "4.3.0";

/// The service: sessions by client session id.
pub struct EmberConnect {
    /// All sessions.
    pub sessions: Arc<SessionManager>,
}

type RespStream = BoxStream<'static, std::result::Result<pb::ExecutePlanResponse, Status>>;

/// What a plan asks for.
pub enum PlanKind {
    /// A query.
    Relation(pb::Relation),
    /// A command.
    Command(pb::Command),
}

/// The relation or command of a plan, decompressing a zstd-compressed one.
pub fn plan_kind(plan: &pb::Plan) -> Result<PlanKind> {
    match plan
        .op_type
        .as_ref()
        .ok_or_else(|| ConnectError::invalid("plan without an operation"))?
    {
        PlanOp::Root(r) => Ok(PlanKind::Relation(r.clone())),
        PlanOp::Command(c) => Ok(PlanKind::Command(c.clone())),
        PlanOp::CompressedOperation(c) => {
            use pb::plan::compressed_operation::OpType as C;
            let data = zstd::stream::decode_all(c.data.as_ref()).map_err(|e| {
                ConnectError::invalid(format!("compressed plan does not decompress: {e}"))
            })?;
            let decode_err = |e: prost::DecodeError| {
                ConnectError::invalid(format!("compressed plan does not parse: {e}"))
            };
            match C::try_from(c.op_type).unwrap_or(C::Unspecified) {
                C::Relation => Ok(PlanKind::Relation(
                    prost::Message::decode(data.as_slice()).map_err(decode_err)?,
                )),
                C::Command => Ok(PlanKind::Command(
                    prost::Message::decode(data.as_slice()).map_err(decode_err)?,
                )),
                C::Unspecified => Err(ConnectError::invalid("compressed plan of unknown type")),
            }
        }
    }
}

fn plan_of(p: &Option<pb::Plan>) -> Result<&pb::Plan> {
    p.as_ref()
        .ok_or_else(|| ConnectError::invalid("request without a plan"))
}

/// The responses of a query: its rows as Arrow batches, the first also carrying its
/// schema.
pub async fn query_responses(
    cs: &Arc<ConnectSession>,
    rel: &pb::Relation,
) -> Result<ResponseSource> {
    let mut planner = Planner::executing(cs);
    let df = planner.relation(rel).await?;
    let observations = std::mem::take(&mut planner.observations);
    let schema = df.schema();
    let stream = df.into_stream_ordered().await?;
    let batches = stream
        .map(|r| r.map_err(|e| ConnectError::from(ember_core::EmberError::from(e))))
        .boxed();
    let spark_schema = crate::types::schema_to_proto(&schema);
    let rows = arrow_responses(schema, Some(spark_schema), batches);
    if observations.is_empty() {
        return Ok(rows);
    }
    // Observed metrics follow the rows (Spark sends them with the last response).
    let metrics = futures::stream::once(async move {
        let mut all = Vec::with_capacity(observations.len());
        for o in &observations {
            all.push(crate::observe::collect(o).await?);
        }
        Ok(pb::ExecutePlanResponse {
            observed_metrics: all,
            ..Default::default()
        })
    });
    Ok(rows.chain(metrics).boxed())
}

impl EmberConnect {
    fn session(
        &self,
        id: &str,
        observed: &Option<String>,
    ) -> std::result::Result<Arc<ConnectSession>, Status> {
        Ok(self.sessions.get_or_create(id, observed.as_deref())?)
    }
}

fn conf_value(cs: &ConnectSession, key: &str) -> Option<String> {
    if key == "spark.sql.session.timeZone" {
        return Some(
            cs.spark
                .conf_get(key)
                .unwrap_or_else(|| cs.spark.time_zone().name().to_string()),
        );
    }
    // Declared keys fall back to their defaults (ember_sql::config::ENTRIES).
    cs.spark.conf_get(key)
}

/// Static keys a silent Set records without applying: the application's own
/// settings (`spark.app.name`, `spark.executor.memory`, ...), which change nothing
/// in a running ember but which the program may read back. `spark.master` and static
/// `spark.sql.*` keys (the warehouse) keep the server's value, as in Spark.
fn records_ignored(key: &str) -> bool {
    key != "spark.master" && !key.starts_with("spark.sql.")
}

/// Keys fixed when a session starts (Spark's static configuration).
fn is_static(key: &str) -> bool {
    ember_sql::config::entry(key).is_some_and(|e| !e.runtime) || key.starts_with("spark.executor.")
}

fn kv(key: &str, value: Option<String>) -> pb::KeyValue {
    pb::KeyValue {
        key: key.to_string(),
        value,
    }
}

fn config(cs: &ConnectSession, op: &OpType) -> Result<(Vec<pb::KeyValue>, Vec<String>)> {
    let out = config_op(cs, op);
    if matches!(op, OpType::Set(_) | OpType::Unset(_)) {
        // Planned queries may depend on the old values (see ConnectSession::state_changed);
        // after the change, so a query planned meanwhile is not kept either.
        cs.state_changed();
    }
    out
}

fn config_op(cs: &ConnectSession, op: &OpType) -> Result<(Vec<pb::KeyValue>, Vec<String>)> {
    let warnings: Vec<String> = Vec::new();
    let pairs = match op {
        OpType::Set(s) => {
            // The builder's options (`appName`, `.config(k, v)`) arrive in a Set marked
            // `silent`: as Spark's SparkConnectConfigHandler, a key that cannot be set
            // there is skipped, not an error, so that `getOrCreate()` succeeds.
            let silent = s.silent.unwrap_or(false);
            for p in &s.pairs {
                let value = p.value.as_deref().unwrap_or("");
                if is_static(&p.key) {
                    if !silent {
                        return Err(ember_core::EmberError::analysis(
                            "CANNOT_MODIFY_STATIC_CONFIG",
                            format!(
                                "Cannot modify the value of the static Spark config: \"{}\".",
                                p.key
                            ),
                        )
                        .into());
                    }
                    if records_ignored(&p.key) {
                        // Recorded so that `spark.conf.get` returns what the program
                        // asked for (`spark.app.name` names the application in logs).
                        if p.key == "spark.app.name" {
                            tracing::info!(session = %cs.session_id, "application {value}");
                        }
                        cs.spark.conf_set(&p.key, value)?;
                    } else {
                        tracing::debug!(key = %p.key, "static config in a silent Set ignored");
                    }
                    continue;
                }
                match cs.spark.conf_set(&p.key, value) {
                    Err(e) if silent => {
                        tracing::warn!(key = %p.key, "config not applied: {e}");
                    }
                    other => other?,
                }
            }
            vec![]
        }
        OpType::Get(g) => {
            let mut out = Vec::new();
            for k in &g.keys {
                match conf_value(cs, k) {
                    Some(v) => out.push(kv(k, Some(v))),
                    None => {
                        return Err(ember_core::EmberError::analysis(
                            "SQL_CONF_NOT_FOUND",
                            format!("The SQL config \"{k}\" cannot be found. Please verify that the config exists."),
                        )
                        .into())
                    }
                }
            }
            out
        }
        OpType::GetWithDefault(g) => g
            .pairs
            .iter()
            .map(|p| {
                kv(
                    &p.key,
                    cs.spark.conf_get(&p.key).or_else(|| p.value.clone()),
                )
            })
            .collect(),
        OpType::GetOption(g) => g.keys.iter().map(|k| kv(k, conf_value(cs, k))).collect(),
        OpType::GetAll(g) => cs
            .spark
            .conf_all()
            .into_iter()
            .filter(|(k, _)| {
                g.prefix
                    .as_deref()
                    .map(|p| k.starts_with(p))
                    .unwrap_or(true)
            })
            .map(|(k, v)| kv(&k, Some(v)))
            .collect(),
        OpType::Unset(u) => {
            for k in &u.keys {
                cs.spark.conf_unset(k);
            }
            vec![]
        }
        OpType::IsModifiable(m) => m
            .keys
            .iter()
            .map(|k| kv(k, Some((!is_static(k)).to_string())))
            .collect(),
    };
    Ok((pairs, warnings))
}

/// Input files of a plan's reads (`df.inputFiles()`): the files under each path.
fn input_files(rel: &pb::Relation, out: &mut Vec<String>) {
    use pb::relation::RelType;
    if let Some(RelType::Read(r)) = &rel.rel_type {
        if let Some(pb::read::ReadType::DataSource(d)) = &r.read_type {
            for p in &d.paths {
                let path = std::path::Path::new(p);
                if path.is_dir() {
                    let mut stack = vec![path.to_path_buf()];
                    while let Some(dir) = stack.pop() {
                        if let Ok(entries) = std::fs::read_dir(&dir) {
                            let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
                            names.sort();
                            for e in names {
                                let hidden = e
                                    .file_name()
                                    .map(|n| n.to_string_lossy().starts_with(['_', '.']))
                                    .unwrap_or(true);
                                if hidden {
                                    continue;
                                }
                                if e.is_dir() {
                                    stack.push(e);
                                } else {
                                    out.push(format!(
                                        "file://{}",
                                        std::fs::canonicalize(&e).unwrap_or(e).display()
                                    ));
                                }
                            }
                        }
                    }
                } else {
                    out.push(p.clone());
                }
            }
        }
    }
    // Recurse into every child relation of any type through the prost encoding.
    walk_children(rel, out);
}

fn walk_children(rel: &pb::Relation, out: &mut Vec<String>) {
    use pb::relation::RelType as R;
    let kids: Vec<&pb::Relation> = match &rel.rel_type {
        Some(R::Project(x)) => x.input.iter().map(|b| b.as_ref()).collect(),
        Some(R::Filter(x)) => x.input.iter().map(|b| b.as_ref()).collect(),
        Some(R::Join(x)) => x
            .left
            .iter()
            .chain(x.right.iter())
            .map(|b| b.as_ref())
            .collect(),
        Some(R::SetOp(x)) => x
            .left_input
            .iter()
            .chain(x.right_input.iter())
            .map(|b| b.as_ref())
            .collect(),
        Some(R::Sort(x)) => x.input.iter().map(|b| b.as_ref()).collect(),
        Some(R::Limit(x)) => x.input.iter().map(|b| b.as_ref()).collect(),
        Some(R::Aggregate(x)) => x.input.iter().map(|b| b.as_ref()).collect(),
        Some(R::Deduplicate(x)) => x.input.iter().map(|b| b.as_ref()).collect(),
        Some(R::SubqueryAlias(x)) => x.input.iter().map(|b| b.as_ref()).collect(),
        Some(R::WithColumns(x)) => x.input.iter().map(|b| b.as_ref()).collect(),
        Some(R::Drop(x)) => x.input.iter().map(|b| b.as_ref()).collect(),
        _ => vec![],
    };
    for k in kids {
        input_files(k, out);
    }
}

async fn analyze(cs: &Arc<ConnectSession>, a: &Analyze) -> Result<ar::Result> {
    let tz = cs.spark.time_zone().name().to_string();
    let relation_of = |p: &Option<pb::Plan>| -> Result<pb::Relation> {
        match plan_kind(plan_of(p)?)? {
            PlanKind::Relation(r) => Ok(r),
            PlanKind::Command(_) => Err(ConnectError::invalid("a command has no schema")),
        }
    };
    Ok(match a {
        Analyze::Schema(s) => {
            let df = Planner::new(cs).relation(&relation_of(&s.plan)?).await?;
            ar::Result::Schema(ar::Schema {
                schema: Some(crate::types::schema_to_proto(&df.schema())),
            })
        }
        Analyze::Explain(e) => {
            let df = Planner::new(cs).relation(&relation_of(&e.plan)?).await?;
            use pb::analyze_plan_request::explain::ExplainMode;
            // `extended` and `cost` show the logical plans too; `simple`, `codegen`
            // and `formatted` the physical plan.
            let extended = e.explain_mode == ExplainMode::Extended as i32
                || e.explain_mode == ExplainMode::Cost as i32;
            ar::Result::Explain(ar::Explain {
                explain_string: df.explain_string(extended).await?,
            })
        }
        Analyze::TreeString(t) => {
            let df = Planner::new(cs).relation(&relation_of(&t.plan)?).await?;
            ar::Result::TreeString(ar::TreeString {
                tree_string: df.tree_string(),
            })
        }
        Analyze::IsLocal(l) => {
            let r = relation_of(&l.plan)?;
            let local = matches!(r.rel_type, Some(pb::relation::RelType::LocalRelation(_)));
            ar::Result::IsLocal(ar::IsLocal { is_local: local })
        }
        Analyze::IsStreaming(_) => ar::Result::IsStreaming(ar::IsStreaming {
            is_streaming: false,
        }),
        Analyze::InputFiles(i) => {
            let mut files = Vec::new();
            input_files(&relation_of(&i.plan)?, &mut files);
            files.sort();
            files.dedup();
            ar::Result::InputFiles(ar::InputFiles { files })
        }
        Analyze::SparkVersion(_) => ar::Result::SparkVersion(ar::SparkVersion {
            version: SPARK_VERSION.into(),
        }),
        Analyze::DdlParse(d) => {
            let parsed = match ember_sql::types::parse_ddl_schema(&d.ddl_string, &tz) {
                Ok(s) => crate::types::schema_to_proto(&s),
                Err(e) => match ember_sql::types::parse_data_type(&d.ddl_string, &tz) {
                    Ok(t) => crate::types::to_proto(&t),
                    Err(_) => return Err(e.into()),
                },
            };
            ar::Result::DdlParse(ar::DdlParse {
                parsed: Some(parsed),
            })
        }
        Analyze::SameSemantics(s) => {
            let a = Planner::new(cs)
                .relation(&relation_of(&s.target_plan)?)
                .await?;
            let b = Planner::new(cs)
                .relation(&relation_of(&s.other_plan)?)
                .await?;
            // Spark compares canonical plans: output names do not matter.
            let canon = |d: &ember_core::DataFrame| {
                let text = format!("{}", d.inner().logical_plan().display_indent());
                ALIAS.replace_all(&text, "").into_owned()
            };
            let same = canon(&a) == canon(&b);
            ar::Result::SameSemantics(ar::SameSemantics { result: same })
        }
        Analyze::SemanticHash(s) => {
            let a = Planner::new(cs).relation(&relation_of(&s.plan)?).await?;
            let text = format!("{}", a.inner().logical_plan().display_indent());
            let h = text.bytes().fold(0x811c9dc5u32, |h, b| {
                (h ^ b as u32).wrapping_mul(0x01000193)
            });
            ar::Result::SemanticHash(ar::SemanticHash { result: h as i32 })
        }
        Analyze::Persist(p) => {
            let r = p
                .relation
                .as_ref()
                .ok_or_else(|| ConnectError::invalid("persist without a relation"))?;
            // Check that the plan is valid now, as Spark analyzes it.
            Planner::new(cs).relation(r).await?;
            crate::persist::persist(cs, r, p.storage_level);
            ar::Result::Persist(ar::Persist {})
        }
        Analyze::Unpersist(u) => {
            if let Some(r) = &u.relation {
                crate::persist::unpersist(cs, r);
            }
            ar::Result::Unpersist(ar::Unpersist {})
        }
        Analyze::GetStorageLevel(g) => {
            let r = g
                .relation
                .as_ref()
                .ok_or_else(|| ConnectError::invalid("storageLevel without a relation"))?;
            ar::Result::GetStorageLevel(ar::GetStorageLevel {
                storage_level: Some(crate::persist::storage_level(cs, r)),
            })
        }
        Analyze::JsonToDdl(j) => ar::Result::JsonToDdl(ar::JsonToDdl {
            ddl_string: crate::schema_json::to_ddl(&j.json_string, &tz)?,
        }),
    })
}

static ALIAS: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r" AS [^,\]\n]+").expect("valid regex"));

fn reattachable(req: &pb::ExecutePlanRequest) -> bool {
    req.request_options.iter().any(|o| {
        matches!(&o.request_option, Some(pb::execute_plan_request::request_option::RequestOption::ReattachOptions(r)) if r.reattachable)
    })
}

#[tonic::async_trait]
impl SparkConnectService for EmberConnect {
    type ExecutePlanStream = RespStream;
    type ReattachExecuteStream = RespStream;

    async fn execute_plan(
        &self,
        request: Request<pb::ExecutePlanRequest>,
    ) -> std::result::Result<Response<RespStream>, Status> {
        let req = request.into_inner();
        let cs = self.session(&req.session_id, &req.client_observed_server_side_session_id)?;
        let op_id = req
            .operation_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if cs.operation(&op_id).is_some() {
            return Err(ConnectError::Handle {
                class: "INVALID_HANDLE.OPERATION_ALREADY_EXISTS",
                message: format!("The handle {op_id} is invalid. Operation already exists."),
            }
            .into());
        }
        let source = match plan_kind(plan_of(&req.plan)?)? {
            PlanKind::Relation(r) => query_responses(&cs, &r).await?,
            PlanKind::Command(c) => crate::command::run(&cs, &c).await?,
        };
        let op = Operation::new(
            &cs,
            op_id.clone(),
            req.tags.clone(),
            reattachable(&req),
            source,
        );
        if let Ok(mut ops) = cs.operations.lock() {
            ops.insert(op_id, op.clone());
        }
        let stream = op.attach(None, self.sessions.detached_timeout()).await?;
        Ok(Response::new(stream))
    }

    async fn analyze_plan(
        &self,
        request: Request<pb::AnalyzePlanRequest>,
    ) -> std::result::Result<Response<pb::AnalyzePlanResponse>, Status> {
        let req = request.into_inner();
        let cs = self.session(&req.session_id, &req.client_observed_server_side_session_id)?;
        let a = req
            .analyze
            .as_ref()
            .ok_or_else(|| ConnectError::invalid("AnalyzePlan without a request"))?;
        let result = analyze(&cs, a).await?;
        Ok(Response::new(pb::AnalyzePlanResponse {
            session_id: req.session_id.clone(),
            server_side_session_id: cs.server_side_session_id.clone(),
            result: Some(result),
        }))
    }

    async fn config(
        &self,
        request: Request<pb::ConfigRequest>,
    ) -> std::result::Result<Response<pb::ConfigResponse>, Status> {
        let req = request.into_inner();
        let cs = self.session(&req.session_id, &req.client_observed_server_side_session_id)?;
        let op = req
            .operation
            .as_ref()
            .and_then(|o| o.op_type.as_ref())
            .ok_or_else(|| ConnectError::invalid("Config without an operation"))?;
        let (pairs, warnings) = config(&cs, op)?;
        Ok(Response::new(pb::ConfigResponse {
            session_id: req.session_id.clone(),
            server_side_session_id: cs.server_side_session_id.clone(),
            pairs,
            warnings,
        }))
    }

    async fn add_artifacts(
        &self,
        request: Request<tonic::Streaming<pb::AddArtifactsRequest>>,
    ) -> std::result::Result<Response<pb::AddArtifactsResponse>, Status> {
        crate::artifacts::add(&self.sessions, request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }

    async fn artifact_status(
        &self,
        request: Request<pb::ArtifactStatusesRequest>,
    ) -> std::result::Result<Response<pb::ArtifactStatusesResponse>, Status> {
        let req = request.into_inner();
        let cs = self.session(&req.session_id, &req.client_observed_server_side_session_id)?;
        Ok(Response::new(crate::artifacts::status(&cs, &req)))
    }

    async fn interrupt(
        &self,
        request: Request<pb::InterruptRequest>,
    ) -> std::result::Result<Response<pb::InterruptResponse>, Status> {
        use pb::interrupt_request::{Interrupt as I, InterruptType as T};
        let req = request.into_inner();
        let cs = self.session(&req.session_id, &req.client_observed_server_side_session_id)?;
        let ops: Vec<Arc<Operation>> = cs
            .operations
            .lock()
            .map(|o| o.values().cloned().collect())
            .unwrap_or_default();
        let mut ids = Vec::new();
        for op in ops {
            let hit = match (
                T::try_from(req.interrupt_type).unwrap_or(T::Unspecified),
                &req.interrupt,
            ) {
                (T::All, _) => true,
                (T::Tag, Some(I::OperationTag(t))) => op.tags.contains(t),
                (T::OperationId, Some(I::OperationId(id))) => &op.id == id,
                _ => false,
            };
            if hit && op.interrupt() {
                ids.push(op.id.clone());
            }
        }
        Ok(Response::new(pb::InterruptResponse {
            session_id: req.session_id.clone(),
            server_side_session_id: cs.server_side_session_id.clone(),
            interrupted_ids: ids,
        }))
    }

    async fn reattach_execute(
        &self,
        request: Request<pb::ReattachExecuteRequest>,
    ) -> std::result::Result<Response<RespStream>, Status> {
        let req = request.into_inner();
        let cs = self.session(&req.session_id, &req.client_observed_server_side_session_id)?;
        let op = cs
            .operation(&req.operation_id)
            .ok_or_else(|| ConnectError::Handle {
                class: "INVALID_HANDLE.OPERATION_NOT_FOUND",
                message: format!(
                    "The handle {} is invalid. Operation not found.",
                    req.operation_id
                ),
            })?;
        let stream = op
            .attach(
                req.last_response_id.as_deref(),
                self.sessions.detached_timeout(),
            )
            .await?;
        Ok(Response::new(stream))
    }

    async fn release_execute(
        &self,
        request: Request<pb::ReleaseExecuteRequest>,
    ) -> std::result::Result<Response<pb::ReleaseExecuteResponse>, Status> {
        use pb::release_execute_request::Release;
        let req = request.into_inner();
        let cs = self.session(&req.session_id, &req.client_observed_server_side_session_id)?;
        if let Some(op) = cs.operation(&req.operation_id) {
            match &req.release {
                Some(Release::ReleaseUntil(u)) => op.release(Some(&u.response_id)).await,
                _ => op.release(None).await,
            }
        }
        Ok(Response::new(pb::ReleaseExecuteResponse {
            session_id: req.session_id.clone(),
            server_side_session_id: cs.server_side_session_id.clone(),
            operation_id: Some(req.operation_id.clone()),
        }))
    }

    async fn release_session(
        &self,
        request: Request<pb::ReleaseSessionRequest>,
    ) -> std::result::Result<Response<pb::ReleaseSessionResponse>, Status> {
        let req = request.into_inner();
        let released = self.sessions.release(&req.session_id);
        Ok(Response::new(pb::ReleaseSessionResponse {
            session_id: req.session_id.clone(),
            server_side_session_id: released
                .map(|s| s.server_side_session_id.clone())
                .unwrap_or_default(),
        }))
    }

    async fn fetch_error_details(
        &self,
        request: Request<pb::FetchErrorDetailsRequest>,
    ) -> std::result::Result<Response<pb::FetchErrorDetailsResponse>, Status> {
        let req = request.into_inner();
        let cs = self.session(&req.session_id, &req.client_observed_server_side_session_id)?;
        Ok(Response::new(pb::FetchErrorDetailsResponse {
            session_id: req.session_id.clone(),
            server_side_session_id: cs.server_side_session_id.clone(),
            root_error_idx: None,
            errors: vec![],
        }))
    }

    async fn clone_session(
        &self,
        _request: Request<pb::CloneSessionRequest>,
    ) -> std::result::Result<Response<pb::CloneSessionResponse>, Status> {
        Err(ConnectError::unsupported("cloning sessions (CloneSession)").into())
    }

    async fn get_status(
        &self,
        _request: Request<pb::GetStatusRequest>,
    ) -> std::result::Result<Response<pb::GetStatusResponse>, Status> {
        Err(ConnectError::unsupported("GetStatus").into())
    }
}
