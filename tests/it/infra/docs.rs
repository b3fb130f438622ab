//! The deploy guide names the template's parameters, outputs and functions exactly.

use super::*;

/// The deploy quick start and the parameter table in docs/deploying.md name only the template's
/// parameters and outputs, and the table names every parameter.
#[test]
fn the_deploy_guide_names_the_templates_parameters_and_outputs_exactly() {
    let t = template();
    let keys = |section: &str| -> BTreeSet<String> {
        t[section].as_object().unwrap_or_else(|| panic!("{section}")).keys().cloned().collect()
    };
    let (parameters, outputs) = (keys("Parameters"), keys("Outputs"));
    let doc = std::fs::read_to_string(root().join("docs").join("deploying.md")).expect("docs/deploying.md");
    let start = doc.find("### Quick start").expect("a quick start");
    let end = start + doc[start..].find("The group mapping is in").expect("the end of the parameter table");
    let guide = &doc[start..end];
    let word = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>();

    // `Name=value` in the deploy command, and `| `Name`, `Name` |` in the table.
    let mut named_parameters = BTreeSet::new();
    for piece in guide.split(['\n', ' ']) {
        if let Some((name, _)) = piece.split_once('=')
            && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
            && name.chars().any(|c| c.is_ascii_lowercase())
        {
            named_parameters.insert(name.to_owned());
        }
    }
    let mut in_table = BTreeSet::new();
    for row in guide.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap_or_default();
        in_table.extend(first.split('`').skip(1).step_by(2).map(str::to_owned));
    }
    named_parameters.extend(in_table.iter().cloned());
    // `OutputKey=='Name'`, and `the Name output`.
    let mut named_outputs = BTreeSet::new();
    for (i, _) in guide.match_indices("OutputKey=='") {
        named_outputs.insert(word(&guide[i + "OutputKey=='".len()..]));
    }
    let words: Vec<&str> = guide.split_whitespace().collect();
    for pair in words.windows(2) {
        let name = pair[0].trim_matches('`');
        if pair[1].starts_with("output") && name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            named_outputs.insert(word(name));
        }
    }

    assert!(named_parameters.len() >= 15 && named_outputs.len() >= 2, "{named_parameters:?} {named_outputs:?}");
    let unknown: Vec<_> = named_parameters.difference(&parameters).collect();
    assert!(unknown.is_empty(), "the guide names parameters the template has not: {unknown:?}");
    let unknown: Vec<_> = named_outputs.difference(&outputs).collect();
    assert!(unknown.is_empty(), "the guide names outputs the template has not: {unknown:?}");
    let missing: Vec<_> = parameters.difference(&in_table).collect();
    assert!(missing.is_empty(), "the parameter table lacks {missing:?}");
}

/// docs/deploying.md's function table has a row for every function the workspace builds.
#[test]
fn the_function_table_lists_every_function() {
    let doc = std::fs::read_to_string(root().join("docs").join("deploying.md")).expect("docs/deploying.md");
    let functions: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .expect("functions/")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(functions.len(), 11, "{functions:?}");
    let missing: Vec<&String> = functions.iter().filter(|f| !doc.contains(&format!("\n| `{f}` |"))).collect();
    assert!(missing.is_empty(), "no row for {missing:?}");
}
