//! The `verify` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(verify::cli::main_with_args(std::env::args_os()))
}
