// The no_std binary starts through the C runtime's start-up code (crt1.o
// calling `__libc_start_main`), so it links libc for that; CI checks with
// `nm -u` that nothing else from libc is used. (Unwinding builds link libc
// through std anyway.)
//
// With `-C target-feature=+crt-static` (static binaries for a QEMU
// initramfs, `.ci/kernels-arch`) libc must be the static archive: rustc
// leaves the linker in `-Bdynamic` mode after its own libraries, so say
// `-Bstatic` again; static glibc needs libgcc's helpers after it.
fn main() {
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE").is_ok_and(|f| f.split(',').any(|f| f == "crt-static"));
    if crt_static {
        for arg in ["-Wl,-Bstatic", "-Wl,--start-group", "-lc", "-lgcc", "-lgcc_eh", "-Wl,--end-group"] {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    } else {
        println!("cargo:rustc-link-arg-bins=-lc");
    }
}
