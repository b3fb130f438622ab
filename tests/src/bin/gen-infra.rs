//! `cargo xtask gen-infra`: writes the state machines generated from `shared::steps` into
//! `infra/statemachines/`. A test fails when the committed files differ from what this writes.

use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = tests::root().join("infra").join("statemachines");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("gen-infra: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for flow in shared::asl::Flow::ALL {
        let path = dir.join(format!("{}.asl.json", flow.name()));
        if let Err(e) = std::fs::write(&path, tests::infra::rendered(flow)) {
            eprintln!("gen-infra: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.strip_prefix(tests::root()).unwrap_or(&path).display());
    }
    ExitCode::SUCCESS
}
