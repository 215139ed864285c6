//! Compile-time behaviour: every distinct error the derive (or the type
//! system through it) reports, and the options that must compile.
//!
//! trybuild compiles each case as a crate of its own, which takes a minute
//! or two on two cores, so `cargo test --workspace` leaves it out; run it
//! with `cargo test -p orm-tests --test ui -- --ignored` (CI does).

#[test]
#[ignore = "compiles every case (1-2 minutes): cargo test -p orm-tests --test ui -- --ignored"]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
