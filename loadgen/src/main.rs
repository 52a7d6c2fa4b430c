use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = loadgen::cli::Cli::parse();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(loadgen::main_with(cli)),
        Err(e) => {
            eprintln!("loadgen: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
