//! `cargo test --workspace` drives the kernel too: every harness test on
//! the default flavour (the release harness run covers all flavours).

use io_uring_test::harness::{self, Options};

#[test]
fn harness_default_flavour_has_no_failures() {
    let probe = io_uring_test::print_header().expect("io_uring must be usable on the test machine");
    let opts = Options { flavour: Some("default".into()), ..Options::default() };
    let sum = harness::run(&io_uring_test::tests::all(), &opts, &probe, io_uring_test::register_ops());
    println!("{} passed, {} failed, {} skipped", sum.passed, sum.failed, sum.skipped);
    assert_eq!(sum.failed, 0, "harness failures (run with --nocapture to see them)");
    assert!(sum.passed > 0, "no harness test ran");
}

#[test]
fn options_parse_and_reject() {
    let parse = |a: &[&str]| Options::parse(a.iter().map(|s| s.to_string()));
    let o = parse(&["nop", "--exact", "--flavour", "sqpoll", "--list"]).unwrap();
    assert_eq!((o.filter.as_deref(), o.exact, o.flavour.as_deref(), o.list), (Some("nop"), true, Some("sqpoll"), true));
    assert!(parse(&["--flavour", "nope"]).is_err());
    assert!(parse(&["--bogus"]).is_err());
    assert!(parse(&["a", "b"]).is_err());
}

#[test]
fn register_coverage_names_what_is_missing_and_what_was_only_refused() {
    use io_uring_test::harness::Summary;
    let mut sum = Summary::default();
    sum.register_used.insert(0, "REGISTER_BUFFERS");
    assert_eq!(sum.register_coverage(2), "register ops exercised: 1/2 (not exercised: 1)");
    sum.register_refused.insert(1, "REGISTER_ZCRX_IFQ");
    assert_eq!(
        sum.register_coverage(2),
        "register ops exercised: 2/2; only the kernel's refusal checked, no hardware for: 1 REGISTER_ZCRX_IFQ"
    );
    // Used for real by another test: no longer "refusal only".
    sum.register_used.insert(1, "REGISTER_ZCRX_IFQ");
    assert_eq!(sum.register_coverage(2), "register ops exercised: 2/2");
}
