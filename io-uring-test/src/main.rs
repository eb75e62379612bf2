fn main() {
    std::process::exit(io_uring_test::main_with_args(std::env::args().skip(1)));
}
