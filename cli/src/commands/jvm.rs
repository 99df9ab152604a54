//! `jhot jvm PID`: what the JVM's platform MXBeans report (runtime, memory, GC, threads, class
//! loading, JIT, OS), as the agent reads them.

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::runtime::{self, JvmReport, MemoryUsage};

use super::Ctx;
use crate::args::PidArg;
use crate::render::{Out, Progress, human_duration, print_table_indented, utc};

pub async fn run(args: PidArg, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("asking JVM {}", args.pid));
    let report = runtime::jvm(&target, &ctx.attach_opts, ctx.timeout).await;
    progress.finish();
    let report = report?;
    if let Some(c) = &report.connection {
        ctx.out.connection_notes(c);
    }
    render(&ctx.out, &report);
    Ok(())
}

pub fn render(out: &Out, r: &JvmReport) {
    if out.json {
        out.json_report(r);
        return;
    }
    let f = &r.facts;
    let rt = &f.runtime;
    say!("RUNTIME");
    say!("  vm          {} {} ({})", rt.name, rt.vm_version, rt.vendor);
    say!("  java        {}", rt.version);
    say!("  started     {} UTC, up {}", utc(rt.start_ms), human_duration((rt.uptime_ms.max(0) / 1000) as u64));
    say!("  arguments   {}", rt.input_arguments.join(" "));
    say!("  class path  {}", rt.class_path);
    say!();
    say!("MEMORY");
    let mut rows = vec![vec!["".to_string(), "USED".into(), "COMMITTED".into(), "MAX".into()]];
    rows.push(mem_row("heap", &f.memory.heap));
    rows.push(mem_row("non-heap", &f.memory.non_heap));
    for p in &f.memory.pools {
        rows.push(mem_row(&format!("{} ({})", p.name, p.kind.replace('_', "-")), &p.usage));
    }
    print_table_indented(&rows, "  ");
    say!();
    say!("GARBAGE COLLECTORS");
    let mut rows = vec![vec!["".to_string(), "COUNT".into(), "TIME".into()]];
    for g in &f.gc {
        rows.push(vec![g.name.clone(), g.count.to_string(), format!("{} ms", g.time_ms)]);
    }
    print_table_indented(&rows, "  ");
    say!();
    let t = &f.threads;
    say!("THREADS     {} live, {} daemon, {} peak, {} started", t.live, t.daemon, t.peak, t.started);
    let c = &f.classes;
    say!("CLASSES     {} loaded, {} loaded in total, {} unloaded", c.loaded, c.total, c.unloaded);
    let jit = &f.compilation;
    say!(
        "JIT         {}{}",
        jit.name.as_deref().unwrap_or("none"),
        jit.time_ms.map(|ms| format!(", {ms} ms compiling")).unwrap_or_default()
    );
    let os = &f.os;
    let load = os.load_average.map(|l| format!(", load average {l:.2}")).unwrap_or_default();
    say!("OS          {} {} {}, {} CPUs{load}", os.name, os.version, os.arch, os.cpus);
}

fn mem_row(name: &str, u: &MemoryUsage) -> Vec<String> {
    vec![name.to_string(), mib(Some(u.used)), mib(Some(u.committed)), mib(u.max)]
}

fn mib(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
        None => "-".into(),
    }
}
