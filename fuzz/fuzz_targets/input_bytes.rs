//! Fuzz target: any bytes, as a file kube6 reads them: decoded as text (UTF-8 with or without a
//! byte-order mark, UTF-16 with one; binary and other encodings refused), then detected,
//! imported, checked and planned. Nothing may panic; bad input is an error value.
#![no_main]

use kube6_model::import::ImportOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = kube6_fs::read::decode(data) {
        let _ = kube6_model::analyze("fuzz.yaml", &text, &ImportOptions::default());
    }
});
