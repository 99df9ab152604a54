//! `jhot classloader PID [-l]`: the class loaders as a tree (or a flat list), with class counts.

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::classes::{self, LoadersReport};

use super::Ctx;
use crate::args::ClassloaderArgs;
use crate::render::{Out, Progress, print_table};

pub async fn run(args: ClassloaderArgs, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("listing the class loaders of JVM {}", args.pid));
    let report = classes::classloader(&target, &ctx.attach_opts, ctx.timeout).await;
    progress.finish();
    render(&ctx.out, &report?, args.list);
    Ok(())
}

pub fn render(out: &Out, r: &LoadersReport, list: bool) {
    if out.json {
        out.json_report(r);
        return;
    }
    let urls = |u: Option<u64>| u.map_or_else(|| "-".to_string(), |n| n.to_string());
    if list {
        let mut rows = vec![vec![
            "ID".to_string(),
            "NAME".into(),
            "CLASS".into(),
            "PARENT".into(),
            "CLASSES".into(),
            "URLS".into(),
        ]];
        for l in &r.loaders {
            rows.push(vec![
                l.id.clone(),
                l.name.clone(),
                l.class.clone().unwrap_or_else(|| "-".into()),
                l.parent.clone().unwrap_or_else(|| "-".into()),
                l.classes.to_string(),
                urls(l.urls),
            ]);
        }
        print_table(&rows);
        return;
    }
    let mut rows = vec![vec!["LOADER".to_string(), "CLASSES".into(), "URLS".into(), "CLASS".into()]];
    // Whether each open ancestor (depth 1..) was its parent's last child: no more `│` below it.
    let mut open: Vec<bool> = Vec::new();
    for node in classes::tree(&r.loaders) {
        let l = node.loader;
        let label = if l.id == l.name { l.id.clone() } else { format!("{} ({})", l.name, l.id) };
        let mut branch = String::new();
        if node.depth > 0 {
            open.truncate(node.depth - 1);
            for &last in &open {
                branch.push_str(if last { "   " } else { "│  " });
            }
            branch.push_str(if node.last { "└─ " } else { "├─ " });
            open.push(node.last);
        }
        rows.push(vec![
            format!("{branch}{label}"),
            l.classes.to_string(),
            urls(l.urls),
            l.class.clone().unwrap_or_default(),
        ]);
    }
    print_table(&rows);
    let total: u64 = r.loaders.iter().map(|l| l.classes).sum();
    say!("{} loaders, {total} classes (hidden classes and lambdas not counted)", r.loaders.len());
}
