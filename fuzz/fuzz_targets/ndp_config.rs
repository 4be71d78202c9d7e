//! Fuzz target: the NDP proxy's YAML configuration, parsed and validated. Nothing may panic;
//! bad input is an error value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = kube6_ndp::Config::from_yaml(text) {
            let _ = config.validate();
        }
    }
});
