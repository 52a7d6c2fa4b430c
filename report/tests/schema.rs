//! The JSON Schema and the Rust types describe the same format: the
//! fixtures (and a freshly simulated report) satisfy both, and documents
//! that one rejects for shape the other rejects too.

mod common;

use serde_json::{Value, json};
use weighbridge_report::{ParseError, Report, ValidationError};

const SCHEMA: &str = include_str!("../schema/report.v1.schema.json");
const V1: &str = include_str!("fixtures/report-v1.json");
const V1_EXTRA: &str = include_str!("fixtures/report-v1-extra-fields.json");
const V2: &str = include_str!("fixtures/report-v2.json");

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    assert_eq!(
        schema["$schema"],
        json!("https://json-schema.org/draft/2020-12/schema")
    );
    jsonschema::draft202012::new(&schema).expect("schema compiles")
}

fn schema_errors(instance: &Value) -> Vec<String> {
    validator()
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

#[test]
fn v1_fixtures_satisfy_the_schema_and_the_types() {
    for (name, text) in [("report-v1", V1), ("report-v1-extra-fields", V1_EXTRA)] {
        let errors = schema_errors(&json(text));
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let report = Report::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.targets.len(), 2, "{name}");
        assert!(
            report.clients.is_some() && report.loadgen.is_some(),
            "{name}"
        );
    }
}

#[test]
fn fixture_is_what_this_crate_writes() {
    // The fixture is the crate's own output byte for byte, so it documents
    // the current writer, not an older one.
    let report = Report::from_json(V1).expect("valid");
    assert_eq!(report.to_json() + "\n", V1);
}

#[test]
fn simulated_reports_satisfy_the_schema() {
    let report = common::simulate(common::T0, 5, 30, 3, "c").report;
    let errors = schema_errors(&serde_json::to_value(&report).expect("serializes"));
    assert!(errors.is_empty(), "{errors:#?}");
    let mut without_optionals = report;
    without_optionals.clients = None;
    without_optionals.loadgen = None;
    let errors = schema_errors(&serde_json::to_value(&without_optionals).expect("serializes"));
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn v2_fixture_is_refused_by_both() {
    assert!(!schema_errors(&json(V2)).is_empty());
    assert!(matches!(
        Report::from_json(V2),
        Err(ParseError::Invalid(
            ValidationError::UnsupportedSchema { .. }
        ))
    ));
}

/// Breaks one thing in a report's JSON.
type Breakage = fn(&mut Value);

#[test]
fn shape_errors_are_refused_by_both() {
    let breakages: [(&str, Breakage); 6] = [
        ("missing totals", |v| {
            v.as_object_mut().expect("object").remove("totals");
        }),
        ("negative count", |v| v["totals"]["ok"] = json!(-1)),
        ("fractional count", |v| {
            v["timeline"][0]["sent"] = json!(1.5)
        }),
        ("count as string", |v| {
            v["targets"]["ecs"]["requests"] = json!("7")
        }),
        ("interrupted as string", |v| v["interrupted"] = json!("no")),
        ("host without target", |v| {
            v["hosts"]["ecs-task-1"]
                .as_object_mut()
                .expect("object")
                .remove("target");
        }),
    ];
    for (what, break_it) in breakages {
        let mut value = json(V1);
        break_it(&mut value);
        assert!(!schema_errors(&value).is_empty(), "schema accepts {what}");
        assert!(
            Report::from_json(&value.to_string()).is_err(),
            "types accept {what}"
        );
    }
}

#[test]
fn every_required_property_of_the_schema_is_required_by_the_types() {
    // Remove each top-level property the schema requires: the types must
    // refuse the document too (they may be stricter, never looser).
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let required = schema["required"].as_array().expect("required list");
    assert!(required.len() >= 8);
    for name in required {
        let name = name.as_str().expect("string");
        let mut value = json(V1);
        value.as_object_mut().expect("object").remove(name);
        assert!(
            Report::from_json(&value.to_string()).is_err(),
            "types accept a report without {name}"
        );
    }
}
