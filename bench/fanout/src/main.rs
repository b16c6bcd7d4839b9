//! `inplay-fanout`: see `inplay_fanout` (the library) and `--help`.

use std::process::ExitCode;

use inplay_fanout::{run, Config, USAGE};

fn main() -> ExitCode {
    let config = match Config::parse(std::env::args().skip(1)) {
        Ok(Some(c)) => c,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("inplay-fanout: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match run(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("inplay-fanout: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !config.json_only {
        print!("{}", report.table());
    }
    println!("{}", report.json());
    if report.ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("inplay-fanout: nothing was delivered");
        ExitCode::FAILURE
    }
}
