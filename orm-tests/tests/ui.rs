//! Compile-time behaviour: every distinct error the derive (or the type
//! system through it) reports, and the options that must compile.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
