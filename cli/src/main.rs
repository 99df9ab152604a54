//! `jhot`: the command line. Parses arguments, calls the library, prints reports (human or
//! `--json`) and turns errors into messages and documented exit codes. Nothing else lives here.

mod output;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use jhot::attach::{AttachOptions, Target};
use jhot::classfile::diff::Vm;
use jhot::classfile::javap::{self, JavapOptions};
use jhot::takeover::{self, command::NewBuild, drain::DrainMode, fds::FdSource};
use jhot::{Error, ExitCode, agent, archive, compare, inspect, patch};

use output::{Out, Progress};

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  internal error (a bug, or a local disk/memory failure)
  2  usage error
  3  no such process, not a JVM, or not a HotSpot JVM
  4  permission denied (another user's JVM, or a file or socket another user could have prepared)
  5  could not attach or load the agent
  6  bad input (class files, paths, a class not loaded with --require-loaded, rollback of an unchanged class)
  7  the change is structural (jhot's verdict, the JVM's refusal with --force, or a deploy that needs a
     replacement with --mode redefine); nothing was changed
  8  the JVM exited or the connection to it broke during the operation
  9  a replacement did not happen: the new process exited, was not ready in time, or jhot was
     interrupted first; it was stopped and the old process kept serving";

#[derive(Parser)]
#[command(
    name = "jhot",
    version,
    about = "Update the code of a running JVM without downtime",
    long_about = "jhot attaches to a running HotSpot JVM (JDK 11+) through its attach socket, loads a small \
agent once, and redefines classes in it. No JDK is needed on the machine.",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Print machine-readable JSON on stdout (errors too)
    #[arg(long, global = true)]
    json: bool,
    /// Seconds to wait for each step (the attach handshake, the agent's answer)
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS")]
    timeout: u64,
    /// Diagnostics on stderr (-v, -vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List running JVMs: pid, user, JDK version, main class or jar, uptime, agent
    #[command(after_help = "Examples:\n  jhot ps\n  jhot ps --json")]
    Ps,
    /// Show a JVM's version, vendor, the flags that matter for hot updates, class loaders, agent status
    #[command(after_help = "Examples:\n  jhot info 4242\n  jhot info 4242 --json")]
    Info {
        /// Process id of the JVM (as seen from this machine)
        pid: u32,
    },
    /// Redefine classes in a running JVM, atomically (all or nothing)
    #[command(after_help = "Examples:
  jhot redefine 4242 target/classes/com/acme/Foo.class
  jhot redefine 4242 build/classes/java/main          # every class in the directory
  jhot redefine 4242 fix.jar --loader app              # only the class loaded by the app loader
  jhot redefine 4242 Foo.class --require-loaded --json

Class names come from the class bytes. Classes that are not loaded yet are registered and their new
bytes are used when they load (unless --require-loaded). Only method bodies can change; jhot reports
the JVM's reason and the offending class when a change is structural.")]
    Redefine(RedefineArgs),
    /// Restore the bytes that ran before jhot first changed each class
    #[command(
        after_help = "Examples:\n  jhot rollback 4242                 # the last `jhot deploy` (or, without one, everything jhot changed)\n  jhot rollback 4242 --all           # everything jhot changed\n  jhot rollback 4242 com.acme.Foo"
    )]
    Rollback {
        pid: u32,
        /// Binary class names (e.g. com.acme.Foo); none = the last deploy, or every class jhot changed
        classes: Vec<String>,
        /// Every class jhot changed, even when a deploy could be undone alone
        #[arg(long, conflicts_with = "classes")]
        all: bool,
    },
    /// What a change needs, before touching the JVM: hot redefinition, or a restart, and why
    #[command(after_help = "Examples:
  jhot diff old/Greeter.class new/Greeter.class
  jhot diff app-1.4.jar app-1.5.jar --jdk 17      # Spring Boot jars: BOOT-INF/classes and BOOT-INF/lib
  jhot diff 4242 target/classes                    # against the bytes JVM 4242 runs
  jhot diff build/v1 build/v2 --json

Verdicts: unchanged, body_only (hot-redefinable), structural (needs a restart; every reason is
listed with the JVM's own words), new, removed. The rules depend on the JDK (--jdk, default 21;
with a pid, the JVM's own).")]
    Diff(DiffArgs),
    /// Disassemble a class, like `javap -c -p`: from a .class, a directory, a jar or a running JVM
    #[command(after_help = "Examples:
  jhot javap target/classes/com/acme/Greeter.class
  jhot javap app.jar com.acme.Greeter
  jhot javap 'app.jar!com/acme/Greeter.class'
  jhot javap 4242 com.acme.Greeter                 # the bytes the JVM runs (other agents' changes included)")]
    Javap(JavapArgs),
    /// What jhot changed in a JVM, when, with content hashes
    #[command(after_help = "Examples:\n  jhot history 4242\n  jhot history 4242 --json")]
    History { pid: u32 },
    /// The agent jar, for loading it at JVM startup instead of attaching later
    #[command(after_help = "Examples:
  java $(jhot agent --javaagent-flag) -jar app.jar
  jhot agent --javaagent-flag --dir /opt/app/jhot

A JVM started with this option has jhot's agent from the start: jhot never attaches to it, and
JDK 21+ prints no dynamic-agent warning.")]
    Agent(AgentArgs),
    /// Replace a running server with a new build: the new process inherits the listening sockets,
    /// and the old one is drained once the new one accepts. No connection is refused.
    #[command(after_help = "Examples:
  jhot replace 4242 --jar target/app-1.5.jar          # same command line, new jar
  jhot replace 4242                                   # same command line (the jar was rebuilt in place)
  jhot replace 4242 --ready-url http://127.0.0.1:8080/actuator/health
  jhot replace 4242 -- java -Xmx2g -jar app-1.5.jar   # an explicit new command

The new process runs as the old one's user, in its directory, with its environment; its output goes
where the old one's went. jhot waits until it accepts on every listener (and --ready-url answers
2xx), then drains the old process: SIGTERM, or first a graceful stop by jhot's agent for servers
that have none (the JDK's HttpServer); SIGKILL at --drain-timeout. If the new process exits, is
not ready in time, or jhot gets SIGINT/SIGTERM/SIGHUP first, the new process is drained (it stops
accepting and finishes what it took from the shared queue) and the old one keeps serving (exit
code 9).

Under `jhot run`, the supervisor does the replacement and also hands idle keep-alive connections
to the new process, so even clients that never retry see no failure.")]
    Replace(ReplaceArgs),
    /// Deploy a new build to a running JVM: nothing, one atomic redefinition, or a replacement —
    /// whatever the change needs, decided before anything is touched
    #[command(after_help = "Examples:
  jhot deploy 4242 target/app.jar --dry-run       # the plan only
  jhot deploy 4242 target/app.jar                 # apply it
  jhot deploy 4242 target/classes --mode redefine # refuse (exit 7) what would need a replacement

jhot compares the build (a jar, a Spring Boot fat jar, class directories) with what the JVM runs:
the bytes in effect of every loaded class, and what the application's class loader serves for the
rest. Classes changed in method bodies only, classes not loaded yet and new classes go in one atomic
redefinition (new classes are defined first); a structural change, a removed class, a changed
resource (application.properties, templates…) or a changed dependency jar needs a process
replacement, done as `jhot replace` does it. `jhot rollback PID` undoes the last redefinition
deploy; deploying the previous build undoes a replacement.")]
    Deploy(DeployArgs),
    /// Start a server under jhot: listeners held, signals forwarded, zombies reaped (PID 1-ready),
    /// and replacements with connection hand-over
    #[command(after_help = "Examples:
  jhot run -- java -jar app.jar
  jhot run --pid-file /run/app.pid -- java -Dserver.port=8080 -jar app.jar
  jhot replace $(cat /run/app.pid) --jar app-1.5.jar   # later, from another shell

jhot run stays the application's parent and exits with its exit code. It reports on stderr (JSON
lines with --json); the application's own output goes to jhot's stdout and stderr. With
NOTIFY_SOCKET set (systemd Type=notify) it sends READY=1 and MAINPID= for each generation.")]
    Run(RunArgs),
}

#[derive(Args)]
struct ReplaceArgs {
    /// The server's pid (a process started by `jhot run`, or any JVM)
    pid: u32,
    /// The new jar: replaces `-jar X`, or the class-path entry of the same artifact
    #[arg(long, value_name = "JAR", conflicts_with_all = ["classpath", "command"])]
    jar: Option<PathBuf>,
    /// The new class path (replaces -cp/-classpath/--class-path)
    #[arg(long, value_name = "CP", conflicts_with = "command")]
    classpath: Option<OsString>,
    #[command(flatten)]
    swap: SwapArgs,
    /// How the old process is stopped
    #[arg(long, value_enum, default_value_t = DrainMode::Auto)]
    drain: DrainMode,
    /// How the listening sockets are copied out of the old process
    #[arg(long, value_enum, default_value_t = FdSource::Auto)]
    fd_source: FdSource,
    /// Hand over only these ports (repeatable; default: every listener outside the ephemeral range)
    #[arg(long = "port", value_name = "PORT")]
    ports: Vec<u16>,
    /// Write the new process's stdout and stderr to this file instead of the old process's
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// The new command (after --), instead of the old one with --jar/--classpath applied
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

#[derive(Args)]
struct DeployArgs {
    pid: u32,
    /// The build: a jar (Spring Boot fat jars included) or class directories
    #[arg(required = true)]
    build: Vec<PathBuf>,
    /// Print the plan; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Force a path instead of the one the change needs
    #[arg(long, value_enum, default_value_t = jhot::deploy::Mode::Auto)]
    mode: jhot::deploy::Mode,
    /// (for a replacement)
    #[command(flatten)]
    swap: SwapArgs,
}

/// How long a replacement waits for the new process and for the old one.
#[derive(Args)]
struct SwapArgs {
    /// Also wait until this URL, answered by the new process, returns 2xx
    #[arg(long, value_name = "URL")]
    ready_url: Option<String>,
    /// Seconds the new process has to accept on every listener (and answer --ready-url)
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    ready_timeout: u64,
    /// Seconds the old process has to stop gracefully before SIGKILL
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    drain_timeout: u64,
}

impl SwapArgs {
    fn options(
        self,
        build: NewBuild,
        drain: DrainMode,
        fd_source: FdSource,
        ports: Vec<u16>,
        log: Option<PathBuf>,
        timeout: Duration,
    ) -> takeover::ReplaceOptions {
        takeover::ReplaceOptions {
            build,
            ready_url: self.ready_url,
            ready_timeout: Duration::from_secs(self.ready_timeout.max(1)),
            drain_timeout: Duration::from_secs(self.drain_timeout.max(1)),
            drain,
            fd_source,
            ports,
            log,
            attach_timeout: timeout,
        }
    }
}

#[derive(Args)]
struct RunArgs {
    /// Do not load jhot's agent at start (it makes later redefinitions attach-free and drains
    /// servers without a graceful stop)
    #[arg(long)]
    no_agent: bool,
    /// Keep the application's current pid in this file (rewritten after each replacement, mode
    /// 0644, removed when jhot run ends)
    #[arg(long, value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// The command to run
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

#[derive(Args)]
struct RedefineArgs {
    pid: u32,
    /// .class files, directories of them, or jars
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Only the classes defined by this class loader (its id like 0x1b6d3586, its name, or its class name)
    #[arg(long, value_name = "LOADER")]
    loader: Option<String>,
    /// Fail (and change nothing) if a class is not loaded, instead of applying it when it loads
    #[arg(long)]
    require_loaded: bool,
    /// Skip jhot's structural check and let the JVM decide
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct DiffArgs {
    /// The classes replaced: .class files, a directory or a jar — or the pid of a running JVM
    old: String,
    /// The new classes: .class files, directories or jars
    #[arg(required = true)]
    new: Vec<PathBuf>,
    /// JDK whose rules apply (11, 17, 21, 25 ...); with a pid, the JVM's own
    #[arg(long, value_name = "FEATURE")]
    jdk: Option<u32>,
    /// The JVM runs with -XX:+AllowRedefinitionToAddDeleteMethods (JDK 13+)
    #[arg(long)]
    allow_add_delete_methods: bool,
    /// With a pid: only the copies defined by this class loader
    #[arg(long, value_name = "LOADER")]
    loader: Option<String>,
}

#[derive(Args)]
struct JavapArgs {
    /// A .class file, a directory, a jar, `jar!path/Entry.class`, or the pid of a running JVM
    source: String,
    /// Binary class name (com.acme.Greeter); not needed for a single .class file
    class: Option<String>,
    /// With a pid: only the copy defined by this class loader
    #[arg(long, value_name = "LOADER")]
    loader: Option<String>,
    /// Also print the constant pool
    #[arg(long = "constants")]
    constants: bool,
}

#[derive(Args)]
struct AgentArgs {
    /// Write the agent jar and print the -javaagent: option that loads it at startup
    #[arg(long, required = true)]
    javaagent_flag: bool,
    /// Directory for the jar (default: $XDG_DATA_HOME/jhot or ~/.local/share/jhot)
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

fn main() -> ProcessExit {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { ExitCode::Usage.code() } else { 0 };
            let _ = e.print();
            return ProcessExit::from(code);
        }
    };
    init_tracing(cli.verbose);
    let out = Out::new(cli.json);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            out.error(&format!("cannot start the async runtime: {e}"), ExitCode::Internal, None);
            return ProcessExit::from(ExitCode::Internal.code());
        }
    };
    if let Command::Run(args) = cli.command {
        let opts = takeover::supervisor::RunOptions {
            command: args.command,
            agent: !args.no_agent,
            pid_file: args.pid_file,
            events: if cli.json { output::run_event_json } else { output::run_event_text },
        };
        return match runtime.block_on(takeover::supervisor::run(opts)) {
            Ok(code) => ProcessExit::from(code.clamp(0, 255) as u8),
            Err(e) => {
                let e = Error::from(e);
                let code = e.exit_code();
                out.error(&e.to_string(), code, e.details());
                ProcessExit::from(code.code())
            }
        };
    }
    match runtime.block_on(run(cli, &out)) {
        Ok(()) => ProcessExit::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            out.error(&e.to_string(), code, e.details());
            ProcessExit::from(code.code())
        }
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "jhot=debug",
        _ => "jhot=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("JHOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

async fn run(cli: Cli, out: &Out) -> Result<(), Error> {
    let timeout = Duration::from_secs(cli.timeout.max(1));
    let attach_opts = AttachOptions { timeout, ..AttachOptions::default() };
    match cli.command {
        Command::Ps => {
            out.recovered(&takeover::state::recover_all()?);
            let list = inspect::ps(Duration::from_secs(2).min(timeout)).await;
            out.ps(&list);
            Ok(())
        }
        Command::Info { pid } => {
            let progress = Progress::start(out, &format!("asking JVM {pid}"));
            let report = inspect::info(pid, &attach_opts, timeout).await;
            progress.finish();
            let report = report?;
            out.info(&report);
            Ok(())
        }
        Command::Redefine(args) => {
            let classes = archive::collect(&args.paths)?;
            let target = Target::open(args.pid)?;
            let progress = Progress::start(out, &format!("redefining {} class(es) in JVM {}", classes.len(), args.pid));
            let opts = patch::RedefineOptions {
                loader: args.loader,
                allow_pending: !args.require_loaded,
                force: args.force,
                timeout,
            };
            let result = patch::redefine(&target, classes, &opts, &attach_opts).await;
            progress.finish();
            match result {
                Ok(report) => {
                    out.redefined(&report);
                    Ok(())
                }
                Err(e) => {
                    if let Error::Rejected { connection, .. } | Error::Structural { connection, .. } = &e {
                        out.connection_notes(connection);
                    }
                    Err(e)
                }
            }
        }
        Command::Diff(args) => {
            let report = match pid_arg(&args.old) {
                Some(pid) => {
                    let new = archive::collect(&args.new)?;
                    let target = Target::open(pid)?;
                    let progress = Progress::start(out, &format!("reading {} class(es) from JVM {pid}", new.len()));
                    let names = new.iter().map(|c| c.info.name.clone()).collect();
                    let running = compare::running(&target, names, args.loader, &attach_opts, timeout).await;
                    progress.finish();
                    let running = running?;
                    out.connection_notes(&running.connection);
                    let entries = compare::against_running(&running, &new)?;
                    compare::report_against_running(&target, &running, &args.new, entries)
                }
                None => {
                    let vm = Vm {
                        feature: args.jdk.unwrap_or(compare::DEFAULT_JDK),
                        allow_add_delete_methods: args.allow_add_delete_methods,
                    };
                    compare::offline(&[PathBuf::from(&args.old)], &args.new, vm)?
                }
            };
            out.diff(&report);
            Ok(())
        }
        Command::Javap(args) => {
            let opts = JavapOptions { constant_pool: args.constants };
            let texts = javap_sources(&args, &attach_opts, timeout).await?;
            let mut listings = Vec::new();
            for (label, bytes) in texts {
                let text = javap::disassemble(&bytes, &opts).map_err(|e| Error::Input(format!("{label}: {e}")))?;
                listings.push((label, text));
            }
            out.javap(&listings);
            Ok(())
        }
        Command::Rollback { pid, classes, all } => {
            let target = Target::open(pid)?;
            let progress = Progress::start(out, &format!("rolling back in JVM {pid}"));
            let report = patch::rollback(&target, classes, all, timeout).await;
            progress.finish();
            let report = report?;
            out.rolled_back(&report);
            Ok(())
        }
        Command::History { pid } => {
            let target = Target::open(pid)?;
            let progress = Progress::start(out, &format!("reading history of JVM {pid}"));
            let report = patch::history(&target, timeout).await;
            progress.finish();
            let report = report?;
            out.history(&report);
            Ok(())
        }
        Command::Replace(args) => {
            let build = if !args.command.is_empty() {
                NewBuild::Command(args.command)
            } else if let Some(jar) = args.jar {
                let abs = std::path::absolute(&jar).map_err(|e| Error::Input(format!("{}: {e}", jar.display())))?;
                if !abs.is_file() {
                    return Err(Error::Input(format!("{} is not a file", jar.display())));
                }
                NewBuild::Jar(abs)
            } else if let Some(cp) = args.classpath {
                NewBuild::Classpath(cp)
            } else {
                NewBuild::Same
            };
            let opts = args.swap.options(build, args.drain, args.fd_source, args.ports, args.log, timeout);
            let progress = Progress::start(out, &format!("replacing pid {}", args.pid));
            let report = takeover::replace(args.pid, &opts).await;
            progress.finish();
            out.replaced(&report?);
            Ok(())
        }
        Command::Deploy(args) => {
            let opts = jhot::deploy::DeployOptions {
                mode: args.mode,
                dry_run: args.dry_run,
                timeout,
                attach_opts,
                // The build is filled in by deploy, once it knows where the build goes.
                replace: args.swap.options(NewBuild::Same, DrainMode::Auto, FdSource::Auto, Vec::new(), None, timeout),
            };
            let progress = Progress::start(out, &format!("deploying to JVM {}", args.pid));
            let report = jhot::deploy::deploy(args.pid, &args.build, &opts).await;
            progress.finish();
            out.deployed(&report?);
            Ok(())
        }
        Command::Run(_) => unreachable!("handled before the runtime starts the other commands"),
        Command::Agent(args) => {
            let dir = match args.dir {
                Some(d) => d,
                None => default_agent_dir()?,
            };
            let path = write_agent_jar(&dir)?;
            out.javaagent_flag(&path);
            Ok(())
        }
    }
}

/// A bare number that is not a path names a process.
fn pid_arg(s: &str) -> Option<u32> {
    if std::path::Path::new(s).exists() {
        return None;
    }
    s.parse().ok()
}

/// The class bytes `jhot javap` shows, each with a label saying where they came from.
async fn javap_sources(
    args: &JavapArgs,
    attach_opts: &AttachOptions,
    timeout: Duration,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let wanted = |name: &str| args.class.as_deref().is_none_or(|c| c == name);
    if let Some(pid) = pid_arg(&args.source) {
        let class = args
            .class
            .clone()
            .ok_or_else(|| Error::Input("name the class to show, e.g. `jhot javap 4242 com.acme.Greeter`".into()))?;
        let target = Target::open(pid)?;
        let running = compare::running(&target, vec![class.clone()], args.loader.clone(), attach_opts, timeout).await?;
        let found: Vec<(String, Vec<u8>)> = running
            .classes
            .into_iter()
            .map(|(name, loader, bytes)| {
                let l = loader.map(|l| format!("{} {}", l.name, l.id)).unwrap_or_else(|| "bootstrap".into());
                (format!("{name} in JVM {pid}, loader {l}"), bytes)
            })
            .collect();
        if found.is_empty() {
            return Err(Error::Input(format!("{class} is not loaded in JVM {pid}")));
        }
        return Ok(found);
    }
    // `app.jar!com/acme/Greeter.class`: one entry of a jar.
    if let Some((jar, entry)) = args.source.split_once('!') {
        let set = archive::collect_set(&[PathBuf::from(jar)])?;
        let entry = entry.trim_start_matches('/');
        let found: Vec<_> = set
            .classes
            .values()
            .filter(|c| {
                c.origin.ends_with(&format!("!/{entry}"))
                    || c.info.name == entry.trim_end_matches(".class").replace('/', ".")
            })
            .map(|c| (c.origin.clone(), c.bytes.clone()))
            .collect();
        return match found.len() {
            0 => Err(Error::Input(format!("{jar} has no class entry {entry}"))),
            _ => Ok(found),
        };
    }
    let set = archive::collect_set(&[PathBuf::from(&args.source)])?;
    let found: Vec<_> =
        set.classes.values().filter(|c| wanted(&c.info.name)).map(|c| (c.origin.clone(), c.bytes.clone())).collect();
    match (found.len(), &args.class) {
        (0, Some(c)) => Err(Error::Input(format!("{} has no class {c}", args.source))),
        (n, None) if n > 1 => Err(Error::Input(format!("{} holds {n} classes; name the one to show", args.source))),
        _ => Ok(found),
    }
}

fn default_agent_dir() -> Result<PathBuf, Error> {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("jhot"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/share/jhot")),
        None => Err(Error::Input("neither XDG_DATA_HOME nor HOME is set; pass --dir".into())),
    }
}

/// Writes the agent jar for startup use. Readable by everyone (0644) because the JVM that loads it
/// may run as another user. The directory must be writable only by its owner (root or us), and an
/// existing jar must be ours: otherwise someone else could have placed it, or swap it later.
fn write_agent_jar(dir: &std::path::Path) -> Result<PathBuf, Error> {
    use rustix::fs::{AtFlags, Mode, OFlags};
    use std::io::Write;
    let io = |p: &std::path::Path, e: std::io::Error| Error::Input(format!("cannot write {}: {e}", p.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let dir = std::fs::canonicalize(dir).map_err(|e| io(dir, e))?;
    let me = rustix::process::geteuid().as_raw();
    let dfd = rustix::fs::open(&dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| io(&dir, e.into()))?;
    let st = rustix::fs::fstat(&dfd).map_err(|e| io(&dir, e.into()))?;
    if (st.st_uid != 0 && st.st_uid != me) || st.st_mode & 0o022 != 0 {
        return Err(agent::AgentError::PrivateDirUnsafe {
            path: dir,
            reason: format!(
                "it is owned by uid {} with mode {:o}; the agent jar needs a directory only its owner (root or uid {me}) can write to",
                st.st_uid,
                st.st_mode & 0o7777
            ),
        }
        .into());
    }
    let name = agent::private_dir::jar_name(agent::AGENT_JAR);
    let path = dir.join(&name);
    if let Ok(fd) = rustix::fs::openat(
        &dfd,
        name.as_str(),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) && rustix::fs::fstat(&fd).is_ok_and(|st| st.st_uid == me && st.st_mode & 0o022 == 0)
        && jhot::safe_fs::read_fd(fd, agent::AGENT_JAR.len() as u64).ok().as_deref() == Some(agent::AGENT_JAR)
    {
        return Ok(path);
    }
    let tmp = format!(".jhot-agent.{}.tmp", std::process::id());
    let _ = rustix::fs::unlinkat(&dfd, tmp.as_str(), AtFlags::empty());
    let fd = rustix::fs::openat(
        &dfd,
        tmp.as_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .map_err(|e| io(&dir.join(&tmp), e.into()))?;
    // The umask must not take the JVM user's read access away.
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o644)).map_err(|e| io(&dir.join(&tmp), e.into()))?;
    let mut f = std::fs::File::from(fd);
    f.write_all(agent::AGENT_JAR).map_err(|e| io(&dir.join(&tmp), e))?;
    drop(f);
    rustix::fs::renameat(&dfd, tmp.as_str(), &dfd, name.as_str()).map_err(|e| io(&path, e.into()))?;
    if path.to_string_lossy().contains('=') {
        return Err(Error::Input(format!(
            "{}: a -javaagent path cannot contain '='; pass another --dir",
            path.display()
        )));
    }
    Ok(path)
}
