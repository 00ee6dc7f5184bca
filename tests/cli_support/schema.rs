//! The published JSON Schemas (`docs/*.schema.json`) checked against what the CLI prints.

use serde_json::Value;

fn validator(file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(super::repo_path(file)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The schema's complaints about `document` (empty: it is valid).
pub fn errors(file: &str, document: &Value) -> Vec<String> {
    validator(file)
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Panics, with every complaint, unless `document` is a valid plan.
pub fn assert_valid_plan(document: &Value) {
    let errors = errors("docs/plan.schema.json", document);
    assert!(
        errors.is_empty(),
        "plan JSON does not match docs/plan.schema.json:\n{}",
        errors.join("\n")
    );
}

pub fn assert_valid_diff(document: &Value) {
    let errors = errors("docs/diff.schema.json", document);
    assert!(
        errors.is_empty(),
        "diff JSON does not match docs/diff.schema.json:\n{}",
        errors.join("\n")
    );
}
