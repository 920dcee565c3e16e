//! `btfcheck`: the command-line front end.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
