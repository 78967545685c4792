//! ember's Spark Connect server: the stock PySpark client (`pyspark-client` 4.2)
//! drives ember over gRPC, so `SparkSession.builder.remote("sc://host:15002")` is
//! the only line a PySpark program changes.
//!
//! - [`service`]: the `SparkConnectService` RPCs (ExecutePlan, AnalyzePlan, Config,
//!   Interrupt, Reattach/ReleaseExecute, ReleaseSession, artifacts).
//! - [`session`]: one ember `SparkSession` per client session id.
//! - [`execute`]: operations whose results stream as Arrow IPC batches, buffered
//!   until released so clients can reattach.
//! - [`relation`], [`expr`], [`aggregate`], [`read`], [`local`], [`na`],
//!   [`catalog`], [`command`]: the translation of Spark Connect plans onto
//!   ember-core.
//! - [`error`]: errors as the gRPC status PySpark turns into Spark's exceptions.
//!
//! The gRPC server stubs are compiled by `build.rs` from the `.proto` files of the
//! crates.io crate `apache-spark-connect-proto` 4.2.0, whose messages this crate uses.

pub mod aggregate;
pub mod artifacts;
pub mod catalog;
pub mod command;
pub mod error;
pub mod execute;
pub mod expr;
pub mod functions;
pub mod generate;
pub mod literal;
pub mod local;
mod missing_refs;
pub mod na;
pub mod observe;
pub mod persist;
pub mod pyspark_package;
mod python_agg;
pub mod python_map;
pub mod read;
pub mod relation;
pub mod schema_json;
pub mod service;
pub mod session;
pub mod show;
pub mod spark_fns;
pub mod stat;
pub mod types;
pub mod udf;
pub mod udtf;
mod worker;

/// Generated server stubs (`spark_connect_service_server`).
#[allow(clippy::all, missing_docs)]
pub mod service_stub {
    tonic::include_proto!("spark.connect");
}

use std::net::SocketAddr;
use std::sync::Arc;

pub use error::{ConnectError, Result};
pub use session::SessionDefaults;

/// Largest gRPC message accepted or sent (bytes): PySpark's own limit, 128 MiB.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024 * 1024;

/// Serves Spark Connect on `addr` until `shutdown` resolves.
///
/// With `token`, as [`serve_listener`].
///
/// Errors: the bind error when the address is taken or not local to this machine;
/// a transport error of the gRPC server.
pub async fn serve(
    addr: SocketAddr,
    defaults: SessionDefaults,
    token: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::result::Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    Ok(serve_listener(listener, defaults, token, shutdown).await?)
}

/// Why [`serve`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen: {0}")]
    Bind(#[from] std::io::Error),
    /// The gRPC server failed.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// Serves Spark Connect on an already bound listener until `shutdown` resolves
/// (`ember submit` binds port 0 on loopback and hands the port to the program).
///
/// With `token`, every call must carry `authorization: Bearer <token>`, as Spark's
/// local Connect server checks `SPARK_CONNECT_AUTHENTICATE_TOKEN` (the PySpark client
/// sends that variable's value); others get `UNAUTHENTICATED`.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    defaults: SessionDefaults,
    token: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::result::Result<(), tonic::transport::Error> {
    let svc = service::EmberConnect {
        sessions: Arc::new(session::SessionManager::new(defaults)),
    };
    let server = service_stub::spark_connect_service_server::SparkConnectServiceServer::new(svc)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let expected = token.map(|t| format!("Bearer {t}"));
    let check =
        move |req: tonic::Request<()>| -> std::result::Result<tonic::Request<()>, tonic::Status> {
            match &expected {
                None => Ok(req),
                Some(want) => {
                    let got = req
                        .metadata()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok());
                    if got == Some(want.as_str()) {
                        Ok(req)
                    } else {
                        Err(tonic::Status::unauthenticated(
                            "Invalid authentication token",
                        ))
                    }
                }
            }
        };
    tonic::transport::Server::builder()
        .add_service(tonic::service::interceptor::InterceptedService::new(
            server, check,
        ))
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            shutdown,
        )
        .await
}
