//! `jhot`: the command line. Parses arguments, runs the command through the one dispatch the shell
//! also uses, and turns errors into messages and documented exit codes. Nothing else lives here.

#[macro_use]
mod render;
mod args;
mod commands;
mod shell;
mod which_jvm;

use std::process::ExitCode as ProcessExit;

use jhot_engine::ExitCode;

fn main() -> ProcessExit {
    let argv = match which_jvm::resolve(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(e) => {
            let json = std::env::args_os().any(|a| a == "--json");
            render::Out::new(json).error(&e.to_string(), e.exit_code(), e.details());
            return ProcessExit::from(e.exit_code().code());
        }
    };
    let cli = match args::parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { ExitCode::Usage.code() } else { 0 };
            let _ = e.print();
            return ProcessExit::from(code);
        }
    };
    init_tracing(cli.verbose);
    let ctx = commands::Ctx::new(cli.json, cli.timeout);
    if let args::Command::Shell(a) = cli.command {
        // The shell reads lines on this thread and runs commands on a runtime of its own.
        return ProcessExit::from(shell::main(a, &ctx));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            ctx.out.error(&format!("cannot start the async runtime: {e}"), ExitCode::Internal, None);
            return ProcessExit::from(ExitCode::Internal.code());
        }
    };
    let exit = match runtime.block_on(commands::dispatch(cli.command, &ctx)) {
        Ok(outcome) => ProcessExit::from(outcome.code),
        Err(e) => ProcessExit::from(commands::report_error(&ctx, &e)),
    };
    // Whatever blocking work is still running was left on purpose: the JVM's reply to an agent
    // load whose answer is already in (it comes when agentmain returns, after the agent opened
    // its channel). Dropping the runtime would wait for it.
    runtime.shutdown_background();
    exit
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
