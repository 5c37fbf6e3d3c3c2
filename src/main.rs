//! The `fedrp` binary: parse the command line, initialise telemetry, dispatch.

use std::process::ExitCode;

use clap::Parser;
use fedrp::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::DecodeClaim(args) => fedrp::claims::cli::decode_claim(&args),
        Command::CheckToken(args) => fedrp::commands::check_token::run(&args),
        Command::Serve(args) => fedrp::commands::serve::run(&args),
        Command::CheckConfig(args) => fedrp::commands::serve::check_config(&args),
        Command::DevIdp(args) => fedrp::commands::serve::dev_idp(&args),
        Command::Bench(args) => fedrp::commands::bench::run(&args),
    };
    ExitCode::from(code)
}
