//! The command line: every command, option and help text (clap). The shell parses its lines
//! with the same [`Command`], so a command and its options mean the same thing in both places.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jhot_engine::ExitCode;
use jhot_engine::deploy::Mode;
use jhot_engine::replace::{self, command::NewBuild, drain::DrainMode, fds::FdSource};

/// The exit-code table at the end of `jhot --help`, generated from [`ExitCode`] (README.md's table
/// is generated from the same place, and a test keeps it equal).
static EXIT_CODES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Instead of a PID, every command that takes one accepts --select TEXT (the one JVM whose main class, jar \
         or command line contains TEXT), --pid-file FILE (not stale: its process started before it was \
         written) or --port N (the JVM listening on it; not for `replace`, whose --port names listeners). \
         None or several matching JVMs is an error, never a guess.\n\n{}",
        ExitCode::help_table(100)
    )
});

#[derive(Parser)]
#[command(
    name = "jhot",
    version,
    about = "Update the code of a running JVM without downtime",
    long_about = "jhot attaches to a running HotSpot JVM (JDK 11+) through its attach socket, loads a small \
agent once, and redefines classes in it. No JDK is needed on the machine."
)]
pub struct Cli {
    /// Print machine-readable JSON on stdout (errors too)
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for each step (the attach handshake, the agent's answer)
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// Diagnostics on stderr (-v, -vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// `defer`: a command's arguments are built only when it runs (or is introspected after
/// `Command::build`). Built all at once, the ~30 commands' arguments cost every run ~270 KB of heap,
/// ~60 page faults and ~0.3 ms of CPU before it did anything (perf, `jhot --version`).
#[derive(Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// List running JVMs: pid, user, JDK version, main class or jar, uptime, agent
    #[command(after_help = "Examples:\n  jhot ps\n  jhot ps --json")]
    Ps,
    /// Show a JVM's version, vendor, the flags that matter for hot updates, class loaders, agent status
    #[command(after_help = "Examples:\n  jhot info 4242\n  jhot info 4242 --json")]
    Info(PidArg),
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
    Rollback(RollbackArgs),
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
    /// Java source of a class as the JVM runs it (patches included), with its nested classes
    #[command(after_help = "Examples:
  jhot jad 4242 com.acme.Greeter
  jhot jad 4242 com.acme.Greeter greet               # one method (JDK 17+ targets)
  jhot jad 4242 com.acme.Greeter --source-only > Greeter.java
  jhot jad 4242 com.acme.Greeter --loader 0x1b6d3586

The bytes are the JVM's current ones (jhot's patches and other agents' changes included); nested,
anonymous and local classes come through the class's own loader even if they never loaded.
Decompiled by Vineflower in a helper JVM that runs the target's own java as the target's user.")]
    Jad(JadArgs),
    /// Compile .java files against what a class loader of the JVM sees
    #[command(after_help = "Examples:
  jhot mc 4242 Greeter.java -d out                  # then: jhot redefine 4242 out
  jhot mc 4242 Greeter.java --loader 0x1b6d3586 --release 17

The class path is exactly the loader of the running class of the same name (or --loader), the
JDK is the target's own; --release defaults to the running class's class-file version. javac when
the target's java has it and the running class was built by javac, ECJ otherwise. On a compiler
error nothing is written (exit 6).")]
    Mc(McArgs),
    /// What jhot changed in a JVM, when, with content hashes
    #[command(after_help = "Examples:\n  jhot history 4242\n  jhot history 4242 --json")]
    History(PidArg),
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

Every TCP listener of the old process is handed over, except jhot's own agent channel; those of a
debugger (JDWP) or JMX are handed over but not waited for. The new process runs as the old one's
user, in its directory, with its environment and execution context; its output goes where the old
one's went. jhot waits until it accepts on the listeners it takes up (one it has not taken up 2 s
after the others is reported and closes with the old process; with --port, every named one is
waited for), and --ready-url answers 2xx. Then the old process stops accepting (its agent stops the
servers it knows by name and fences the listeners of any other), jhot closes its idle keep-alive
connections and waits for its requests in progress, and it gets SIGTERM; SIGKILL at
--drain-timeout. If the new process exits, is not ready in time, or jhot gets SIGINT/SIGTERM/SIGHUP
first, the new process is drained (it stops accepting and finishes what it took from the shared
queue) and the old one keeps serving (exit code 9).

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
    /// A JVM's threads: the busiest by CPU (over an interval, like Arthas `thread -n 3 -i 1000`),
    /// or the stacks of the given threads
    #[command(after_help = "Examples:
  jhot thread 4242                       # every thread, busiest (total CPU time) first
  jhot thread 4242 -n 3 -i 1000          # the 3 busiest over one second
  jhot thread 4242 --state BLOCKED       # who is blocked, and on whose lock
  jhot thread 4242 1 27                  # the stacks of threads 1 and 27

Ctrl-C during an interval stops the sampling in the JVM too.")]
    Thread(ThreadArgs),
    /// The value of a static field, read without running any of the application's code
    #[command(after_help = "Examples:
  jhot getstatic 4242 com.acme.Config INSTANCE
  jhot getstatic 4242 com.acme.Config INSTANCE -x 3       # walk its fields 3 levels deep
  jhot getstatic 4242 com.acme.Cache SIZE --loader app

Objects show as Class@hash with their fields (no toString runs); strings, boxed numbers and enums
show as values; arrays show their first 100 elements. A class whose static initializer has not
run is not read (reading would run it).")]
    Getstatic(GetstaticArgs),
    /// A JVM's runtime, memory, garbage collectors, threads, class loading, JIT and OS facts
    #[command(after_help = "Examples:\n  jhot jvm 4242\n  jhot jvm 4242 --json")]
    Jvm(PidArg),
    /// A JVM's system properties (read through the attach listener; no agent is loaded)
    #[command(after_help = "Examples:\n  jhot sysprop 4242\n  jhot sysprop 4242 java.io.tmpdir")]
    Sysprop(SyspropArgs),
    /// An interactive shell on one JVM, in the spirit of Arthas: every jhot command, plus sc, sm,
    /// jad, mc, edit, dump, getstatic, thread… with completion of class names
    #[command(after_help = "Examples:
  jhot shell 4242
  jhot shell --select shop.jar                      # the one JVM whose command line says shop.jar
  jhot shell 4242 -c 'sc com.acme.*; jad com.acme.Greeter'
  jhot shell 4242 -f fix.jhot                       # one command per line, # for comments
  echo 'history --json' | jhot shell 4242           # commands from stdin

Inside, commands take the same options as on the command line, without the pid. `| cmd` and
`> file` hand a command's output to local commands (`sc com.acme.* | grep Controller`,
`jad com.acme.Greeter > Greeter.java`). Tab completes commands, options, paths and class names;
Ctrl-C cancels the running command; Ctrl-D or `exit` leaves. History is kept in
$XDG_STATE_HOME/jhot/history (~/.local/state/jhot/history). A script (-c, -f, stdin) stops at the
first command that fails and exits with its code.")]
    Shell(ShellArgs),
    /// Decompile a class as the JVM runs it, edit it in $VISUAL/$EDITOR, and apply the edit after
    /// jhot's verdict, a diff and your yes
    #[command(after_help = "Examples:
  jhot edit 4242 com.acme.Greeter
  EDITOR='code -w' jhot edit 4242 com.acme.Greeter --loader app
  jhot edit 4242 com.acme.Greeter --yes            # apply without asking (scripts)

The source comes from the bytes the JVM runs (jhot's patches and other agents' changes included),
with its nested and anonymous classes, decompiled by Vineflower in a helper JVM started from the
target's own java, as its user. It is compiled against exactly what the class's loader sees, with
--release of the running class: by javac when javac built the class (the target's own when it is a
full JDK, else a JDK of this machine: JHOT_JDK, JAVA_HOME or the javac on PATH), else by ecj. The new classes are compared with the running ones first: a change of method
bodies is shown as a diff and, once confirmed, applied as one atomic redefinition (in `history`;
`rollback` undoes it). Anything else (a field, a method, a new anonymous class, a compiler's
renaming) is refused with every reason, and nothing is changed (exit 7). A source that does not
compile can go back to the editor; an editor that fails changes nothing.")]
    Edit(EditArgs),
    /// Watch build outputs and apply each completed build as one atomic redefinition
    #[command(after_help = "Examples:
  jhot watch 4242 target/classes
  jhot watch 4242 build/classes/java/main --quiet 500
  jhot watch 4242 target/classes --json            # NDJSON: one event object per line

The first look records the build as it is and applies nothing. After each burst of file events
and a quiet period (--quiet, default 300 ms) the build is compared by content hash with what was
last applied; every changed class must parse completely and its nested classes must be there, or
nothing is applied until the next quiet period. Deleted classes and structural changes are
reported and left alone (run `jhot deploy` for those). Stops when the JVM exits (exit 8).")]
    Watch(WatchArgs),
    /// Loaded classes matching a pattern, and their loaders (-d: details)
    #[command(after_help = "Examples:
  jhot sc 4242 'com.acme.*'               # `*` crosses packages, `?` is one character
  jhot sc 4242 '*Controller' --loader app
  jhot sc 4242 hello.Greeter -d           # code source, modifiers, hierarchy, jhot's patch

Exits 6 when no loaded class matches.")]
    Sc(ScArgs),
    /// Declared methods of loaded classes, read from the bytes the JVM runs (-d: descriptor,
    /// flags, lines)
    #[command(after_help = "Examples:
  jhot sm 4242 hello.Greeter
  jhot sm 4242 'com.acme.*Controller' 'get*' -d")]
    Sm(SmArgs),
    /// The JVM's class loaders as a tree, with the classes each defined (-l: a flat list)
    #[command(after_help = "Examples:\n  jhot classloader 4242\n  jhot classloader 4242 -l --json")]
    Classloader(ClassloaderArgs),
    /// Write the bytes the JVM runs for matching classes as .class files
    #[command(after_help = "Examples:
  jhot dump 4242 'com.acme.*' -d /tmp/dump   # /tmp/dump/com/acme/Greeter.class, ...
  jhot dump 4242 hello.Greeter --loader app

A class name defined by several loaders is written once per loader, under DIR/<loader>-<id>/.
Symbolic links inside DIR are never followed: a dump that would pass one is refused (exit 4) before
anything is written.")]
    Dump(DumpArgs),
}

#[derive(Args)]
pub struct EditArgs {
    pub pid: u32,
    /// The class, by binary name (com.acme.Greeter)
    pub class: String,
    /// The copy defined by this class loader (its id, name or class name), when several define it
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
    /// Apply without asking
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Args)]
pub struct ShellArgs {
    /// Process id of the JVM
    #[arg(required_unless_present = "select", conflicts_with = "select")]
    pub pid: Option<u32>,
    /// The one JVM whose main class, jar or command line contains this text (several: exit 2)
    #[arg(long, value_name = "TEXT")]
    pub select: Option<String>,
    /// Run these commands (separated by `;` or newlines) and exit
    #[arg(short = 'c', value_name = "COMMANDS", conflicts_with = "file")]
    pub commands: Option<String>,
    /// Run the commands in this file and exit (`-` reads stdin)
    #[arg(short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Keep no command history file
    #[arg(long)]
    pub no_history: bool,
}

#[derive(Args)]
pub struct ThreadArgs {
    pub pid: u32,
    /// Thread ids: show these threads with their stacks
    pub ids: Vec<u64>,
    /// Only the N busiest threads
    #[arg(short = 'n', long = "top", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub top: Option<u32>,
    /// Measure CPU over this many milliseconds (the JVM samples; Ctrl-C stops it)
    #[arg(short = 'i', long = "interval", value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub interval: Option<u64>,
    /// Only threads in this state (any case)
    #[arg(long, value_name = "STATE", ignore_case = true,
          value_parser = ["NEW", "RUNNABLE", "BLOCKED", "WAITING", "TIMED_WAITING", "TERMINATED"])]
    pub state: Option<String>,
    /// Stack frames per thread (with thread ids)
    #[arg(long, value_name = "FRAMES", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub depth: u32,
}

#[derive(Args)]
pub struct GetstaticArgs {
    pub pid: u32,
    /// Binary class name (com.acme.Config, a.B$Inner)
    pub class: String,
    /// Name of a static field of the class (or of a superclass or interface)
    pub field: String,
    /// The copy defined by this class loader (id, name or class name), when several loaders have it
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
    /// How deep to walk objects' fields (0: the object's identity only)
    #[arg(short = 'x', long = "depth", value_name = "DEPTH", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=8))]
    pub depth: u32,
}

#[derive(Args)]
pub struct SyspropArgs {
    pub pid: u32,
    /// Only this property (exit 6 if the JVM has none of that name)
    pub name: Option<String>,
}

#[derive(Args)]
pub struct ScArgs {
    /// Process id of the JVM
    pub pid: u32,
    /// A class name, or a glob (`com.acme.*`, `*Controller`, `com.acme.?oo`)
    pub pattern: String,
    /// Details: code source, modifiers, super class, interfaces, source file, jhot's patch
    #[arg(short = 'd', long = "details")]
    pub details: bool,
    /// Only classes defined by this loader (id, name or class name)
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
}

#[derive(Args)]
pub struct SmArgs {
    /// Process id of the JVM
    pub pid: u32,
    /// A class name or glob
    pub class: String,
    /// A method name or glob (`<init>` for constructors); default: every method
    pub method: Option<String>,
    /// Details: descriptor, access flags, source lines of each method
    #[arg(short = 'd', long = "details")]
    pub details: bool,
    /// Only classes defined by this loader (id, name or class name)
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
}

#[derive(Args)]
pub struct ClassloaderArgs {
    /// Process id of the JVM
    pub pid: u32,
    /// A flat list instead of a tree
    #[arg(short = 'l', long = "list")]
    pub list: bool,
}

#[derive(Args)]
pub struct DumpArgs {
    /// Process id of the JVM
    pub pid: u32,
    /// A class name, or a glob (`com.acme.*`)
    pub pattern: String,
    /// Directory to write into (created if missing)
    #[arg(short = 'd', long = "dir", value_name = "DIR", default_value = "jhot-dump")]
    pub dir: PathBuf,
    /// Only classes defined by this loader (id, name or class name)
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
}

/// Commands that take only the JVM.
#[derive(Args)]
pub struct PidArg {
    /// Process id of the JVM (as seen from this machine)
    pub pid: u32,
}

#[derive(Args)]
pub struct RollbackArgs {
    pub pid: u32,
    /// Binary class names (e.g. com.acme.Foo); none = the last deploy, or every class jhot changed
    pub classes: Vec<String>,
    /// Every class jhot changed, even when a deploy could be undone alone
    #[arg(long, conflicts_with = "classes")]
    pub all: bool,
}

#[derive(Args)]
pub struct ReplaceArgs {
    /// The server's pid (a process started by `jhot run`, or any JVM)
    pub pid: u32,
    /// The new jar: replaces `-jar X`, or the class-path entry of the same artifact (for a JVM in a
    /// container: its path in the container)
    #[arg(long, value_name = "JAR", conflicts_with_all = ["classpath", "command"])]
    pub jar: Option<PathBuf>,
    /// The new class path (replaces -cp/-classpath/--class-path)
    #[arg(long, value_name = "CP", conflicts_with = "command")]
    pub classpath: Option<OsString>,
    #[command(flatten)]
    pub swap: SwapArgs,
    /// How the old process is stopped
    #[arg(long, value_enum, default_value_t = DrainArg::Auto)]
    pub drain: DrainArg,
    /// How the listening sockets are copied out of the old process
    #[arg(long, value_enum, default_value_t = FdSourceArg::Auto)]
    pub fd_source: FdSourceArg,
    /// Hand over only these ports, and wait for each (repeatable; default: every listener but jhot's own)
    #[arg(long = "port", value_name = "PORT")]
    pub ports: Vec<u16>,
    /// Write the new process's stdout and stderr to this file instead of the old process's
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// The new command (after --), instead of the old one with --jar/--classpath applied
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Args)]
pub struct DeployArgs {
    pub pid: u32,
    /// The build: a jar (Spring Boot fat jars included) or class directories
    #[arg(required = true)]
    pub build: Vec<PathBuf>,
    /// Print the plan; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Force a path instead of the one the change needs
    #[arg(long, value_enum, default_value_t = ModeArg::Auto)]
    pub mode: ModeArg,
    /// (for a replacement)
    #[command(flatten)]
    pub swap: SwapArgs,
}

/// How long a replacement waits for the new process and for the old one.
#[derive(Args)]
pub struct SwapArgs {
    /// Also wait until this URL, answered by the new process, returns 2xx
    #[arg(long, value_name = "URL")]
    pub ready_url: Option<String>,
    /// Seconds the new process has to accept on every listener (and answer --ready-url)
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub ready_timeout: u64,
    /// Seconds the old process has to stop gracefully before SIGKILL
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub drain_timeout: u64,
}

impl SwapArgs {
    pub fn options(
        self,
        build: NewBuild,
        drain: DrainMode,
        fd_source: FdSource,
        ports: Vec<u16>,
        log: Option<PathBuf>,
        timeout: Duration,
    ) -> replace::ReplaceOptions {
        replace::ReplaceOptions {
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
pub struct RunArgs {
    /// Do not load jhot's agent at start (it makes later redefinitions attach-free and drains
    /// servers without a graceful stop)
    #[arg(long)]
    pub no_agent: bool,
    /// Keep the application's current pid in this file (rewritten after each replacement, mode
    /// 0644, removed when jhot run ends)
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// The command to run
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(Args)]
pub struct WatchArgs {
    /// The JVM to apply the builds to
    pub pid: u32,
    /// Class directories or jars: the build outputs to watch
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Milliseconds without a file event before a build is considered
    #[arg(long, default_value_t = 300, value_name = "MS")]
    pub quiet: u64,
    /// Milliseconds between comparisons when inotify cannot be used (watch limit, overflow)
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub poll: u64,
    /// Never use inotify: compare every --poll ms (network file systems send no events)
    #[arg(long)]
    pub polling: bool,
    /// Only the classes defined by this class loader (its id, its name, or its class name)
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
    /// A structural build replaces the process (as `jhot deploy --mode replace`), and watch follows
    /// the new pid; without it, a structural build is reported and left alone
    #[arg(long)]
    pub replace: bool,
    /// (for a replacement, with --replace)
    #[command(flatten)]
    pub swap: SwapArgs,
}

#[derive(Args)]
pub struct RedefineArgs {
    pub pid: u32,
    /// .class files, directories of them, or jars
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Only the classes defined by this class loader (its id like 0x1b6d3586, its name, or its class name)
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
    /// Fail (and change nothing) if a class is not loaded, instead of applying it when it loads
    #[arg(long)]
    pub require_loaded: bool,
    /// Skip jhot's structural check and let the JVM decide
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The classes replaced: .class files, a directory or a jar — or the pid of a running JVM
    pub old: String,
    /// The new classes: .class files, directories or jars
    #[arg(required = true)]
    pub new: Vec<PathBuf>,
    /// JDK whose rules apply (11, 17, 21, 25 ...); with a pid, the JVM's own
    #[arg(long, value_name = "FEATURE")]
    pub jdk: Option<u32>,
    /// The JVM runs with -XX:+AllowRedefinitionToAddDeleteMethods (JDK 13+)
    #[arg(long)]
    pub allow_add_delete_methods: bool,
    /// With a pid: only the copies defined by this class loader
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
    /// Also list the unchanged classes in the table (the summary counts them either way; --json
    /// always lists every class)
    #[arg(long)]
    pub all: bool,
}

#[derive(Args)]
pub struct JavapArgs {
    /// A .class file, a directory, a jar, `jar!path/Entry.class`, or the pid of a running JVM
    pub source: String,
    /// Binary class name (com.acme.Greeter); not needed for a single .class file
    pub class: Option<String>,
    /// With a pid: only the copy defined by this class loader
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
    /// Also print the constant pool
    #[arg(long = "constants")]
    pub constants: bool,
}

#[derive(Args)]
pub struct JadArgs {
    pub pid: u32,
    /// Binary class name (com.acme.Greeter)
    pub class: String,
    /// Only this method (JDK 17+ targets; older ones show the whole class)
    pub method: Option<String>,
    /// The copy defined by this class loader (id, name or class name), when several define it
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
    /// Only the source: no header
    #[arg(long)]
    pub source_only: bool,
}

#[derive(Args)]
pub struct McArgs {
    pub pid: u32,
    /// Java source files
    #[arg(required = true, value_name = "FILE.java")]
    pub files: Vec<PathBuf>,
    /// Where the .class files go, in package directories
    #[arg(short = 'd', long = "dir", value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Compile against this class loader (id, name or class name) instead of the running class's
    #[arg(long, value_name = "LOADER")]
    pub loader: Option<String>,
    /// Java release to compile for (default: the running class's class-file version)
    #[arg(long, value_name = "N")]
    pub release: Option<u32>,
}

#[derive(Args)]
pub struct AgentArgs {
    /// Write the agent jar and print the -javaagent: option that loads it at startup
    #[arg(long, required = true)]
    pub javaagent_flag: bool,
    /// Directory for the jar (default: $XDG_DATA_HOME/jhot or ~/.local/share/jhot)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `--mode` of `jhot deploy` (the engine's [`Mode`] knows nothing of clap).
#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// nothing, a redefinition, or a replacement: whatever the change needs
    Auto,
    /// only ever redefine; refuse (exit 7) what needs a replacement
    Redefine,
    /// replace the process whatever changed
    Replace,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Auto => Mode::Auto,
            ModeArg::Redefine => Mode::Redefine,
            ModeArg::Replace => Mode::Replace,
        }
    }
}

/// `--drain` of `jhot replace`.
#[derive(Clone, Copy, ValueEnum)]
pub enum DrainArg {
    /// the agent first: it stops the servers it knows by name and fences any other's listeners;
    /// then SIGTERM (after the requests in progress if the application has no shutdown hook)
    Auto,
    /// SIGTERM only: the server stops gracefully on its own
    Signal,
    /// the same as auto (kept for scripts that name it)
    Agent,
}

impl From<DrainArg> for DrainMode {
    fn from(d: DrainArg) -> DrainMode {
        match d {
            DrainArg::Auto => DrainMode::Auto,
            DrainArg::Signal => DrainMode::Signal,
            DrainArg::Agent => DrainMode::Agent,
        }
    }
}

/// `--fd-source` of `jhot replace`.
#[derive(Clone, Copy, ValueEnum)]
pub enum FdSourceArg {
    /// pidfd_getfd, and the agent where the kernel refuses
    Auto,
    /// pidfd_getfd only
    Pidfd,
    /// the agent only (SCM_RIGHTS from inside the JVM)
    Agent,
}

impl From<FdSourceArg> for FdSource {
    fn from(f: FdSourceArg) -> FdSource {
        match f {
            FdSourceArg::Auto => FdSource::Auto,
            FdSourceArg::Pidfd => FdSource::Pidfd,
            FdSourceArg::Agent => FdSource::Agent,
        }
    }
}

/// Parses `jhot`'s command line (after `which_jvm` has put in the pid a `--select`,
/// `--pid-file` or `--port` names).
pub fn parse_from(argv: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    // The exit-code table after the top-level help is formatted only when help may be printed:
    // formatting it took a few percent of a warm command's CPU. A false alarm costs only that.
    let help = argv.len() <= 1 || argv.iter().skip(1).any(|a| a == "-h" || a == "--help" || a == "help");
    let mut cmd = Cli::command();
    if help {
        cmd = cmd.after_help(EXIT_CODES.as_str());
    }
    let mut matches = cmd.try_get_matches_from(argv)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut Cli::command()))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_ends_with_every_exit_code() {
        let shown = |args: &[&str]| match parse_from(args.iter().map(OsString::from).collect()) {
            Err(e) => e.render().to_string(),
            Ok(_) => panic!("{args:?} parsed as a command"),
        };
        for args in [&["jhot", "--help"][..], &["jhot", "-h"], &["jhot", "help"]] {
            assert!(shown(args).contains("Exit codes:"), "{args:?}");
        }
        let help = shown(&["jhot", "--help"]);
        for c in ExitCode::ALL {
            assert!(
                help.contains(&format!("  {}  {}", c.code(), c.meaning().split(' ').next().unwrap_or(""))),
                "{help}"
            );
        }
    }

    /// README.md's exit-code table is generated from [`ExitCode`]: this keeps the copy equal.
    #[test]
    fn readme_lists_the_exit_codes_as_the_binary_does() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md");
        let table = ExitCode::markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's exit-code table differs from ExitCode; replace it with:\n\n{table}"
        );
    }

    /// So is the one in docs/json.md, the `--json` contract (`error.kind` ↔ exit code).
    #[test]
    fn the_json_contract_lists_the_exit_codes_as_the_binary_does() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/json.md")).expect("docs/json.md");
        let table = ExitCode::markdown_table();
        assert!(
            doc.contains(&table),
            "docs/json.md's exit-code table differs from ExitCode; replace it with:\n\n{table}"
        );
    }
}
