//! The `ember` command: a thin front end over `ember-core` (no engine logic here).
//!
//! - `ember sql -e "SELECT 1"` / `ember sql -f file.sql` / `ember sql` (interactive shell)
//! - `ember submit job.sql [--master local[4]] [--conf k=v ...] [--output table|csv|json]`
//! - `ember submit [--master ..] [--conf k=v] [--name ..] [--py-files ..] job.py [args...]`
//! - `ember conf` prints every `spark.*` key ember honours.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod submit;
use ember_core::{DataFrame, EmberError, SparkSession};

/// mimalloc instead of the system allocator: DataFusion's hash tables, sorts and
/// string builders allocate and free many short-lived buffers from every worker
/// thread, which glibc's malloc serves with per-arena locks and fragments after
/// large queries (the same choice as Sail and DataFusion's own CLI).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXAMPLES: &str = "\
Examples:
  ember sql -e \"SELECT 1 AS one\"
  ember sql -e \"CREATE TEMPORARY VIEW f USING csv OPTIONS (path 'flights.csv.gz', header 'true', inferSchema 'true', nullValue 'NA'); SELECT carrier, COUNT(*) FROM f GROUP BY carrier\"
  ember sql -f queries.sql --output csv
  ember sql                                   # interactive shell (history in ~/.ember_history)
  ember submit examples/flights/pipeline.sql --master local[2] --conf spark.sql.shuffle.partitions=4
  ember submit --master local[2] job.py --input data/ --output out/   # a PySpark program
  ember conf                                  # every spark.* key with default and meaning
  ember connect --port 15002                  # Spark Connect server for PySpark";

#[derive(Parser)]
#[command(name = "ember", version, about = "ember: Spark-compatible batch data processing in one small binary", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Output {
    /// Spark's `show()` table (all rows, strings not truncated).
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON object per row.
    Json,
}

#[derive(clap::Args, Clone)]
struct SessionArgs {
    /// Spark master: local, local[n] or local[*].
    #[arg(long, default_value = "local[*]")]
    master: String,
    /// Configuration `key=value` (repeatable), e.g. spark.sql.session.timeZone=UTC.
    #[arg(long = "conf", value_name = "K=V")]
    conf: Vec<String>,
    /// Output format of query results.
    #[arg(long, value_enum, default_value = "table")]
    output: Output,
    /// Print per-file malformed-row reports of CSV/JSON views to stderr after each query.
    #[arg(long)]
    report: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run Spark SQL: -e TEXT, -f FILE, or an interactive shell.
    #[command(
        after_help = "Examples:\n  ember sql -e \"SELECT 1\"\n  ember sql -f job.sql --output json\n  ember sql --conf spark.sql.session.timeZone=UTC"
    )]
    Sql {
        /// SQL text (several statements separated by ';').
        #[arg(short = 'e', long = "execute")]
        execute: Option<String>,
        /// A SQL script file.
        #[arg(short = 'f', long = "file")]
        file: Option<String>,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Run a job: a PySpark program (.py) as spark-submit does, or a Spark SQL script.
    #[command(
        after_help = "Examples:\n  ember submit --master local[2] --conf spark.sql.shuffle.partitions=4 job.py --input data/ --output out/\n  ember submit --name nightly --py-files helpers.py,deps.zip job.py\n  ember submit examples/flights/pipeline.sql --master local[2] --conf spark.sql.shuffle.partitions=4\n\nA .py program runs with SPARK_REMOTE pointing at an in-process Spark Connect server; the\narguments after the script are the program's own (sys.argv), and ember exits with its status.\nPython: PYSPARK_DRIVER_PYTHON, then PYSPARK_PYTHON, then python3 (with pyspark-client, pandas, pyarrow)."
    )]
    Submit {
        #[command(flatten)]
        session: SessionArgs,
        #[command(flatten)]
        submit: submit::SubmitArgs,
        /// The job: a PySpark program (.py) or a Spark SQL script.
        script: String,
        /// The program's own arguments (for a .sql script: ember's options, as before).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print every spark.* configuration key ember honours: type, default, static or
    /// runtime, meaning.
    #[command(
        after_help = "Examples:\n  ember conf\n  ember conf --markdown   # the README's table"
    )]
    Conf {
        /// Print a Markdown table (the README's configuration section).
        #[arg(long)]
        markdown: bool,
    },
    /// Run an ingestion job (records + embeddings into a vector store), resumable.
    #[command(
        after_help = "Examples:\n  ember ingest examples/inaturalist/job.toml\n  ember ingest job.toml --resume      # after a crash or kill: committed tasks are skipped\n  ember ingest job.toml --restart     # forget the journal and start over\n  ember ingest job.toml --report      # print the last run's summary"
    )]
    Ingest {
        /// The job file (TOML).
        job: String,
        /// Continue from the journal: skip tasks an earlier run committed.
        #[arg(long, conflicts_with = "restart")]
        resume: bool,
        /// Delete the journal, staged rows and dead letters first (the sink is kept;
        /// writes are upserts).
        #[arg(long)]
        restart: bool,
        /// Print the summary of the job's last run and exit.
        #[arg(long, conflicts_with_all = ["resume", "restart"])]
        report: bool,
    },
    /// Serve Spark Connect: unmodified PySpark programs run on ember.
    #[command(
        after_help = "Examples:\n  ember connect                                  # sc://127.0.0.1:15002\n  ember connect --port 15003 --master local[4] --conf spark.sql.shuffle.partitions=8\n  # then, in Python: SparkSession.builder.remote(\"sc://127.0.0.1:15002\").getOrCreate()"
    )]
    Connect {
        /// Port to listen on (Spark Connect's default).
        #[arg(long, default_value_t = 15002)]
        port: u16,
        /// Address to bind; loopback unless told otherwise.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Spark master of every client session: local, local[n] or local[*].
        #[arg(long, default_value = "local[*]")]
        master: String,
        /// Configuration `key=value` every session starts with (repeatable).
        #[arg(long = "conf", value_name = "K=V")]
        conf: Vec<String>,
    },
}

/// The options of `ember submit job.sql` given after the script (a later
/// `--master` overrides an earlier one).
#[derive(Parser)]
#[command(args_override_self = true)]
struct SqlScriptArgs {
    #[command(flatten)]
    session: SessionArgs,
}

/// Warns (once per key and process) about a `--conf` key ember does not know: a
/// typo such as `spark.sql.shufle.partitions` would otherwise be silently ignored.
pub(crate) fn warn_unknown_conf(key: &str) {
    static SEEN: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::OnceLock::new();
    if ember_sql::config::is_known(key) {
        return;
    }
    let seen = SEEN.get_or_init(Default::default);
    if let Ok(mut s) = seen.lock() {
        if s.insert(key.to_string()) {
            eprintln!(
                "warning: --conf {key}: not a configuration key ember knows (see `ember conf`); it is kept but has no effect"
            );
        }
    }
}

fn build_session(args: &SessionArgs) -> Result<SparkSession, EmberError> {
    let mut b = SparkSession::builder()
        .master(&args.master)
        .app_name("ember");
    for kv in &args.conf {
        let (k, v) = kv.split_once('=').ok_or_else(|| {
            EmberError::analysis(
                "INVALID_CONF_VALUE",
                format!("--conf expects key=value, got '{kv}'"),
            )
        })?;
        warn_unknown_conf(k.trim());
        b = b.config(k.trim(), v.trim());
    }
    b.get_or_create()
}

fn is_query(stmt: &str) -> bool {
    let up = stmt.trim_start().to_ascii_uppercase();
    [
        "SELECT", "WITH", "SHOW", "DESCRIBE", "DESC ", "EXPLAIN", "VALUES", "FROM", "SET",
        "TABLE ", "(",
    ]
    .iter()
    .any(|p| up.starts_with(p))
}

async fn print_df(df: &DataFrame, out: Output) -> Result<(), EmberError> {
    let batches = df.collect().await?;
    let fo = df.session().format_options();
    match out {
        Output::Table => {
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            println!(
                "{}",
                ember_sql::format::show_string(&df.columns(), &batches, rows, 0, &fo)
                    .trim_end_matches('\n')
            );
        }
        Output::Csv => {
            println!("{}", df.columns().join(","));
            for b in &batches {
                for r in 0..b.num_rows() {
                    let cells: Vec<String> = b
                        .columns()
                        .iter()
                        .map(|c| {
                            let v = ember_sql::format::value_string(c.as_ref(), r, &fo)
                                .unwrap_or_default();
                            if v.contains(',') || v.contains('"') || v.contains('\n') {
                                format!("\"{}\"", v.replace('"', "\"\""))
                            } else {
                                v
                            }
                        })
                        .collect();
                    println!("{}", cells.join(","));
                }
            }
        }
        Output::Json => {
            let names = df.columns();
            for b in &batches {
                for r in 0..b.num_rows() {
                    let mut m = serde_json::Map::new();
                    for (n, c) in names.iter().zip(b.columns()) {
                        m.insert(n.clone(), ember_sql::format::value_json(c.as_ref(), r, &fo));
                    }
                    println!("{}", serde_json::Value::Object(m));
                }
            }
        }
    }
    Ok(())
}

async fn run_statements(
    spark: &SparkSession,
    text: &str,
    args: &SessionArgs,
) -> Result<(), EmberError> {
    for stmt in ember_sql::sql::split_statements(text) {
        let df = spark.sql(&stmt).await?;
        if is_query(&stmt) {
            print_df(&df, args.output).await?;
        }
    }
    if args.report {
        for v in spark.list_tables() {
            if let Some(r) = spark.view_report(&v) {
                for line in r.render().lines() {
                    eprintln!("[{v}] {line}");
                }
            }
        }
    }
    Ok(())
}

async fn shell(spark: &SparkSession, args: &SessionArgs) -> Result<(), EmberError> {
    let mut rl =
        rustyline::DefaultEditor::new().map_err(|e| EmberError::internal(e.to_string()))?;
    let history = std::env::var("HOME")
        .map(|h| format!("{h}/.ember_history"))
        .unwrap_or_else(|_| ".ember_history".into());
    let _ = rl.load_history(&history);
    let mut buf = String::new();
    loop {
        let prompt = if buf.is_empty() {
            "ember-sql> "
        } else {
            "         > "
        };
        match rl.readline(prompt) {
            Ok(line) => {
                buf.push_str(&line);
                buf.push('\n');
                if !line.trim_end().ends_with(';') && !line.trim().is_empty() {
                    continue;
                }
                let text = std::mem::take(&mut buf);
                if text.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(text.trim());
                if let Err(e) = run_statements(spark, &text, args).await {
                    eprintln!("{}: {}", e.exception, e);
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => buf.clear(),
            Err(_) => break,
        }
    }
    let _ = rl.save_history(&history);
    Ok(())
}

async fn run(cli: Cli) -> Result<(), EmberError> {
    match cli.command {
        Command::Conf { markdown } => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            if markdown {
                let _ = write!(out, "{}", ember_sql::config::markdown_table());
                return Ok(());
            }
            for e in ember_sql::config::ENTRIES {
                let scope = if e.runtime { "runtime" } else { "static" };
                let _ = writeln!(
                    out,
                    "{:<58} {:<10} {:<8} {:<26} {}",
                    e.key,
                    e.kind.name(),
                    scope,
                    e.default,
                    e.doc
                );
            }
            Ok(())
        }
        // Handled in main (its errors are not Spark exceptions).
        Command::Ingest { .. } | Command::Connect { .. } => Ok(()),
        Command::Sql {
            execute,
            file,
            session,
        } => {
            let spark = build_session(&session)?;
            if let Some(text) = execute {
                run_statements(&spark, &text, &session).await
            } else if let Some(f) = file {
                let text = std::fs::read_to_string(&f).map_err(|e| {
                    EmberError::analysis(
                        "PATH_NOT_FOUND",
                        format!("Path does not exist: {f} ({e})."),
                    )
                })?;
                run_statements(&spark, &text, &session).await
            } else if std::io::stdin().is_terminal() {
                shell(&spark, &session).await
            } else {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
                run_statements(&spark, &text, &session).await
            }
        }
        Command::Submit {
            script,
            session,
            args,
            ..
        } => {
            // Options after a SQL script are ember's (`ember submit job.sql --master ..`).
            let session = if args.is_empty() {
                session
            } else {
                let mut argv = vec!["ember-submit".to_string()];
                for kv in &session.conf {
                    argv.push("--conf".into());
                    argv.push(kv.clone());
                }
                argv.push("--master".into());
                argv.push(session.master.clone());
                argv.extend(args.iter().cloned());
                match SqlScriptArgs::try_parse_from(argv) {
                    Ok(a) => a.session,
                    Err(e) => {
                        return Err(EmberError::analysis(
                            "INVALID_ARGUMENT",
                            e.to_string().trim().to_string(),
                        ))
                    }
                }
            };
            let spark = build_session(&session)?;
            let text = std::fs::read_to_string(&script).map_err(|e| {
                EmberError::analysis(
                    "PATH_NOT_FOUND",
                    format!("Path does not exist: {script} ({e})."),
                )
            })?;
            run_statements(&spark, &text, &session).await
        }
    }
}

/// `ember ingest`: runs the job, prints the report to stdout.
async fn ingest(
    job: &str,
    resume: bool,
    restart: bool,
    report: bool,
    bars: bool,
) -> anyhow::Result<()> {
    let spec = ember_ingest::JobSpec::from_file(std::path::Path::new(job))?;
    if report {
        let r = ember_ingest::Report::load(&spec.work_dir())?;
        print_report(&r);
        return Ok(());
    }
    let opts = ember_ingest::RunOptions {
        resume,
        restart,
        progress_bars: bars,
    };
    let r = ember_ingest::run(&spec, &opts).await?;
    print_report(&r);
    Ok(())
}

/// `ember connect`: serves Spark Connect until Ctrl-C / SIGTERM.
async fn connect(host: &str, port: u16, master: &str, conf: &[String]) -> anyhow::Result<()> {
    let mut defaults = ember_connect::SessionDefaults {
        master: Some(master.to_string()),
        ..Default::default()
    };
    for kv in conf {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--conf expects key=value, got '{kv}'"))?;
        warn_unknown_conf(k.trim());
        defaults
            .conf
            .insert(k.trim().to_string(), v.trim().to_string());
    }
    let ip: std::net::IpAddr = host
        .parse()
        .map_err(|_| anyhow::anyhow!("--host expects an IP address, got '{host}'"))?;
    let addr = std::net::SocketAddr::new(ip, port);
    // Fail fast (and say so) when the port is taken.
    drop(
        std::net::TcpListener::bind(addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?,
    );
    eprintln!("ember connect: Spark Connect on sc://{addr} (master {master})");
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
    };
    // As Spark's Connect server: with SPARK_CONNECT_AUTHENTICATE_TOKEN set, clients
    // must present it as a bearer token.
    let token = std::env::var("SPARK_CONNECT_AUTHENTICATE_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    ember_connect::serve(addr, defaults, token, shutdown).await?;
    Ok(())
}

fn print_report(r: &ember_ingest::Report) {
    use std::io::Write;
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout(), "{r}");
}

/// Deeply nested SQL and plans (a generated `SELECT 1+1+...` of 5,000 terms is an
/// expression tree 5,000 levels deep) are parsed, cloned, named and planned
/// recursively: the command runs on a thread with a 256 MiB stack, and the runtime's
/// workers get the same (reserved address space, touched only as used).
const STACK_BYTES: usize = 256 << 20;

fn main() -> ExitCode {
    match std::thread::Builder::new()
        .name("ember-main".into())
        .stack_size(STACK_BYTES)
        .spawn(command_main)
    {
        Ok(t) => t.join().unwrap_or(ExitCode::FAILURE),
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            ExitCode::FAILURE
        }
    }
}

fn command_main() -> ExitCode {
    let cli = Cli::parse();
    let bars = std::io::stderr().is_terminal();
    let default_log = match cli.command {
        // Stage progress as log lines; other crates' (lance's) info events stay quiet.
        Command::Ingest { .. } if !bars => "warn,ember_ingest=info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EMBER_LOG")
                .unwrap_or_else(|_| default_log.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Plans are translated and optimized recursively, one level per relation or
        // operator (see `STACK_BYTES`); the 2 MiB default overflows on deep programs.
        .thread_stack_size(STACK_BYTES)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Connect {
        port,
        host,
        master,
        conf,
    } = &cli.command
    {
        return match rt.block_on(connect(host, *port, master, conf)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Submit {
        script,
        session,
        submit: sargs,
        args,
    } = &cli.command
    {
        if script.ends_with(".py") {
            let run = async {
                let conf = submit::submit_conf(&session.master, &session.conf, sargs)?;
                submit::run_python(script, args, conf).await
            };
            return match rt.block_on(run) {
                Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
                Err(e) => {
                    eprintln!("ember submit: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
    }
    if let Command::Ingest {
        job,
        resume,
        restart,
        report,
    } = &cli.command
    {
        return match rt.block_on(ingest(job, *resume, *restart, *report, bars)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {}", e.exception, e);
            ExitCode::FAILURE
        }
    }
}
