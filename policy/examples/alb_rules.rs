//! Prints the ALB listener rules of a policy file as JSON, exactly as
//! [`weighbridge_policy::alb::alb_listener_rules`] computes them. The
//! Terraform tests (scripts/test-infra) compare a plan's listener rules with
//! this output:
//!
//! ```text
//! cargo run -q -p weighbridge-policy --example alb_rules -- config/policy.json
//! ```

use std::process::ExitCode;

use weighbridge_policy::Policy;
use weighbridge_policy::alb::alb_listener_rules;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: alb_rules POLICY_FILE");
        return ExitCode::from(64);
    };
    let policy = match Policy::load(path) {
        Ok(policy) => policy,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match serde_json::to_string_pretty(&alb_listener_rules(&policy)) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
