// The no_std binary starts through the C runtime's start-up code (crt1.o
// calling `__libc_start_main`), so it links libc for that; CI checks with
// `nm -u` that nothing else from libc is used. (Unwinding builds link libc
// through std anyway.)
fn main() {
    println!("cargo:rustc-link-arg-bins=-lc");
}
