//! Times the phases of verifying a dump: reading, parsing, checking.
use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse-time DUMP.json");
        return;
    };
    let t = Instant::now();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return;
        }
    };
    let read = t.elapsed();
    let t = Instant::now();
    let snapshot = match kube6_verify::dump::parse(&bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            return;
        }
    };
    let parse = t.elapsed();
    drop(bytes);
    let t = Instant::now();
    let streamed =
        match kube6_verify::read_dump(std::path::Path::new(&path), &kube6_verify::DUMP_LIMIT) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return;
            }
        };
    let stream = t.elapsed();
    assert_eq!(streamed, snapshot);
    let t = Instant::now();
    let expect = kube6_verify::Expectations::infer(&snapshot, None);
    let report = kube6_verify::verify(&snapshot, &expect);
    let check = t.elapsed();
    println!(
        "read {read:?}  parse {parse:?}  streamed {stream:?}  check {check:?}  status {:?}",
        report.status
    );
}
