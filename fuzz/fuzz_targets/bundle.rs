//! The bundle reader on arbitrary bytes: what `Bundle::read` does after reading the file
//! (parse the JSON, then `Bundle::validate`, which every bundle a run trusts goes through).
//! A validated bundle must be one a run can take: its size and configuration are usable.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sim::bundle::Bundle;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = serde_json::from_slice::<Bundle>(data) {
        if bundle.validate().is_ok() {
            let _ = bundle.size();
            assert!(bundle.config.validate().is_ok());
        }
    }
});
