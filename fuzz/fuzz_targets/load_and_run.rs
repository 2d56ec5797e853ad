//! Bytes → UTF-8 → `Model::from_text` → a short bounded run that must conserve requests.
//! All the checking lives in `archsim_fuzz::check`, shared with the `replay` binary.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    archsim_fuzz::check(data);
});
