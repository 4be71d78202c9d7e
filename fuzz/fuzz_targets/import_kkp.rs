//! Fuzz target: the kkp importer (and the rules and plan behind it) must never panic, whatever
//! the bytes; bad input is an error value, not a crash.
#![no_main]

use kube6_model::import::ImportOptions;
#[allow(unused_imports)]
use kube6_model::model::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let options = ImportOptions { format: Some(Format::Kkp), ..ImportOptions::default() };
        let _ = kube6_model::analyze("fuzz.yaml", text, &options);
    }
});
