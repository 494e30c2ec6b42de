//! `graceful-fuzz <target> --seed S --from A --count N [--corpus DIR] [--dump I FILE]`: runs inputs A..A+N of a
//! deterministic mutation stream over the target's seeds. Driven by `cargo xtask fuzz`, which builds it, feeds it
//! seed files, and bisects a crash that kills the process (stack overflow, allocation cap) down to one input.
//!
//! A panic is caught and reported with its input index; an input that runs longer than the hang limit aborts the
//! process from a watchdog thread after printing its index; every 10,000 inputs a progress line is printed.

mod alloc;
mod mutate;
mod rng;
mod targets;

use rng::Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use targets::Target;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

const HANG_LIMIT: Duration = Duration::from_secs(5);
const PROGRESS_EVERY: u64 = 10_000;
/// The index of the input now running, and when it started (ms since the run began; u64::MAX when idle).
static CURRENT: AtomicU64 = AtomicU64::new(0);
static STARTED_MS: AtomicU64 = AtomicU64::new(u64::MAX);

struct Args {
    target: Target,
    seed: u64,
    from: u64,
    count: u64,
    corpus: Vec<Vec<u8>>,
    dump: Option<(u64, std::path::PathBuf)>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let name = args.next().ok_or("usage: graceful-fuzz <target> --seed S --from A --count N [--corpus DIR]")?;
    let target = Target::from_name(&name).ok_or_else(|| format!("unknown target {name:?}"))?;
    let (mut seed, mut from, mut count, mut corpus, mut dump) = (0u64, 0u64, 1000u64, Vec::new(), None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number =
            |text: String| text.parse::<u64>().map_err(|_| format!("{flag}: expected a whole number, got {text:?}"));
        match flag.as_str() {
            "--seed" => seed = number(value()?)?,
            "--from" => from = number(value()?)?,
            "--count" => count = number(value()?)?,
            "--corpus" => corpus.extend(read_corpus(&value()?)?),
            "--dump" => dump = Some((number(value()?)?, std::path::PathBuf::from(value()?))),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    corpus.extend(target.builtin_seeds());
    Ok(Args { target, seed, from, count, corpus, dump })
}

fn read_corpus(dir: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("--corpus {dir}: {e}"))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))).collect()
}

/// Input `index` of the stream: a seed, mutated structurally (JSON targets, half the time) and/or byte-wise.
fn input(args: &Args, index: u64) -> Vec<u8> {
    let mut rng = Rng::for_input(args.seed, index);
    let mut bytes = rng.pick(&args.corpus).clone();
    if args.target.is_json()
        && rng.chance(2)
        && let Ok(mut document) = serde_json::from_slice::<serde_json::Value>(&bytes)
    {
        for _ in 0..1 + rng.below(4) {
            mutate::json(&mut rng, &mut document);
        }
        bytes = document.to_string().into_bytes();
        if rng.chance(4) {
            mutate::bytes(&mut rng, &mut bytes, &args.corpus, args.target.dictionary());
        }
        bytes.truncate(mutate::MAX_LEN);
        return bytes;
    }
    mutate::bytes(&mut rng, &mut bytes, &args.corpus, args.target.dictionary());
    bytes
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("graceful-fuzz: {error}");
            std::process::exit(2);
        }
    };
    if let Some((index, path)) = &args.dump {
        std::fs::write(path, input(&args, *index)).expect("writing the dumped input");
        return;
    }
    std::panic::set_hook(Box::new(|_| {})); // reported below with the input index instead
    let run_start = Instant::now();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let started = STARTED_MS.load(Ordering::Relaxed);
            let now = run_start.elapsed().as_millis() as u64;
            if started != u64::MAX && now.saturating_sub(started) > HANG_LIMIT.as_millis() as u64 {
                eprintln!("HANG at input {} (over {} s)", CURRENT.load(Ordering::Relaxed), HANG_LIMIT.as_secs());
                std::process::abort();
            }
        }
    });
    let mut slowest = Duration::ZERO;
    for index in args.from..args.from + args.count {
        let bytes = input(&args, index);
        CURRENT.store(index, Ordering::Relaxed);
        STARTED_MS.store(run_start.elapsed().as_millis() as u64, Ordering::Relaxed);
        let one = Instant::now();
        let outcome = std::panic::catch_unwind(|| args.target.run(&bytes));
        slowest = slowest.max(one.elapsed());
        STARTED_MS.store(u64::MAX, Ordering::Relaxed);
        if let Err(payload) = outcome {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            eprintln!("PANIC at input {index}: {message}");
            std::process::exit(101);
        }
        if (index + 1 - args.from) % PROGRESS_EVERY == 0 {
            eprintln!("progress {}", index + 1);
        }
    }
    println!(
        "ran {} inputs in {:.1} s; slowest {:.1} ms; peak live heap {:.1} MB",
        args.count,
        run_start.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1e3,
        alloc::peak_bytes() as f64 / 1e6
    );
}
