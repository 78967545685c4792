//! Server stubs for `spark.connect.SparkConnectService`, compiled with protoc from the
//! `.proto` files shipped by the crates.io crate `apache-spark-connect-proto` 4.2.0.
//! The messages themselves are that crate's (`extern_path`), so only the service
//! trait and its tonic server are generated here.

use std::path::PathBuf;

/// The crate's `proto/` directory: `SPARK_CONNECT_PROTO_DIR` when set (vendored
/// builds), else the copy Cargo unpacked under `$CARGO_HOME/registry/src`.
fn proto_root() -> PathBuf {
    println!("cargo:rerun-if-env-changed=SPARK_CONNECT_PROTO_DIR");
    if let Ok(dir) = std::env::var("SPARK_CONNECT_PROTO_DIR") {
        return PathBuf::from(dir);
    }
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| ".".into())).join(".cargo")
        });
    let registry = cargo_home.join("registry").join("src");
    if let Ok(entries) = std::fs::read_dir(&registry) {
        for entry in entries.flatten() {
            let p = entry
                .path()
                .join("apache-spark-connect-proto-4.2.0")
                .join("proto");
            if p.join("spark/connect/base.proto").exists() {
                return p;
            }
        }
    }
    panic!(
        "the .proto files of apache-spark-connect-proto 4.2.0 were not found under {}; \
         set SPARK_CONNECT_PROTO_DIR to its proto/ directory",
        registry.display()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = proto_root();
    let base = root.join("spark/connect/base.proto");
    println!("cargo:rerun-if-changed={}", base.display());
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .bytes(".")
        .extern_path(".spark.connect", "::spark_connect_proto")
        .compile_protos(&[base], &[root])?;
    Ok(())
}
