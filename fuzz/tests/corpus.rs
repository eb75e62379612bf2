//! The corpus as a regression test on stable: every file of
//! `corpus/<target>/` goes through the same function libFuzzer runs.

use urix_fuzz::{corpus_files, TARGETS};

#[test]
fn every_corpus_file_passes_its_target() {
    for (name, target) in TARGETS {
        let files = corpus_files(name);
        assert!(!files.is_empty(), "corpus/{name} has no seeds");
        for file in &files {
            let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            // Name the file if the target panics.
            let run = std::panic::catch_unwind(|| target(&data));
            assert!(run.is_ok(), "{} fails target {name}", file.display());
        }
        println!("{name}: {} inputs", files.len());
    }
}
