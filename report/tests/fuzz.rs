//! Bounded fuzzing of report reading: a valid report, mutated at random
//! (numbers replaced by extremes, keys deleted, values swapped for other
//! types, strings garbled, bytes flipped in the text), must either be refused
//! with an error or read back as a report that validates and round-trips. A
//! panic or an accepted report that fails validation is the bug. Fixed seed
//! and case count: the same inputs on every run, a few seconds in CI.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use weighbridge_report::Report;

/// One edit to a JSON tree, applied at the `at`-th node in document order.
#[derive(Debug, Clone)]
enum Edit {
    Number(u64, Value),
    Delete(u64),
    Replace(u64, Value),
    Duplicate(u64),
}

fn extreme_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::from(0)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(1u64 << 53)),
        Just(Value::from(-1)),
        Just(Value::from(1e308)),
        Just(Value::from(-0.5)),
        any::<u64>().prop_map(Value::from),
        (0u64..1000).prop_map(Value::from),
    ]
}

fn other_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(Value::Bool(true)),
        Just(Value::String(String::new())),
        ".{0,40}".prop_map(Value::String),
        Just(Value::Array(vec![])),
        Just(serde_json::json!({})),
        extreme_number(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<u64>(), extreme_number()).prop_map(|(at, v)| Edit::Number(at, v)),
        2 => any::<u64>().prop_map(Edit::Delete),
        2 => (any::<u64>(), other_value()).prop_map(|(at, v)| Edit::Replace(at, v)),
        1 => any::<u64>().prop_map(Edit::Duplicate),
    ]
}

fn count(v: &Value) -> u64 {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// Visits nodes in document order; `f` gets the parent container and the
/// child's key or index once the `n`-th node is reached.
fn apply(v: &mut Value, n: &mut u64, edit: &Edit) -> bool {
    let children: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o.values().cloned().collect(),
        _ => return false,
    };
    for i in 0..children.len() {
        if *n == 0 {
            edit_child(v, i, edit);
            return true;
        }
        *n -= 1;
        let child = match v {
            Value::Array(a) => &mut a[i],
            Value::Object(o) => o.values_mut().nth(i).expect("index in range"),
            _ => unreachable!("containers only"),
        };
        if apply(child, n, edit) {
            return true;
        }
    }
    false
}

fn edit_child(parent: &mut Value, i: usize, edit: &Edit) {
    match (parent, edit) {
        (Value::Array(a), Edit::Delete(_)) => {
            a.remove(i);
        }
        (Value::Object(o), Edit::Delete(_)) => {
            let key = o.keys().nth(i).expect("index in range").clone();
            o.remove(&key);
        }
        (Value::Array(a), Edit::Duplicate(_)) => {
            let item = a[i].clone();
            a.insert(i, item);
        }
        (Value::Object(o), Edit::Duplicate(_)) => {
            let (key, item) = o.iter().nth(i).expect("index in range");
            let (key, item) = (format!("{key}-copy"), item.clone());
            o.insert(key, item);
        }
        (parent, Edit::Number(_, new) | Edit::Replace(_, new)) => {
            let slot = match parent {
                Value::Array(a) => &mut a[i],
                Value::Object(o) => o.values_mut().nth(i).expect("index in range"),
                _ => unreachable!("containers only"),
            };
            if matches!(edit, Edit::Replace(..)) || slot.is_number() {
                *slot = new.clone();
            }
        }
        _ => {}
    }
}

fn at(edit: &Edit) -> u64 {
    match edit {
        Edit::Number(at, _) | Edit::Delete(at) | Edit::Replace(at, _) | Edit::Duplicate(at) => *at,
    }
}

/// What reading must do with any text: refuse it, or return a report that
/// validates and writes back to the same report.
fn read_is_sound(text: &str) -> Result<(), TestCaseError> {
    if let Ok(report) = Report::from_json(text) {
        prop_assert!(report.validate().is_ok(), "accepted an invalid report");
        let again = Report::from_json(&report.to_json());
        prop_assert!(again.is_ok(), "a report read back does not read again");
        prop_assert_eq!(again.ok().map(|r| r.to_json()), Some(report.to_json()));
    }
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

#[test]
fn mutated_reports_are_refused_or_sound() {
    let tree: Value = serde_json::from_str(&common::sample().to_json()).expect("valid JSON");
    let nodes = count(&tree);
    let refused = std::cell::Cell::new(0u32);
    let result = runner(512).run(&prop::collection::vec(edit(), 1..4), |edits| {
        let mut v = tree.clone();
        for e in &edits {
            let mut n = at(e) % nodes;
            apply(&mut v, &mut n, e);
        }
        let text = v.to_string();
        if Report::from_json(&text).is_err() {
            refused.set(refused.get() + 1);
        }
        read_is_sound(&text)
    });
    result.expect("no mutated report panics or is accepted unsound");
    // The mutations must reach the validator: most break the report.
    let refused = refused.get();
    assert!(
        refused > 256,
        "only {refused} of 512 mutated reports refused"
    );
}

#[test]
fn garbled_report_text_is_refused_or_sound() {
    let text = common::sample().to_json();
    let len = text.len();
    let strategy = prop::collection::vec((0..len, any::<u8>()), 1..8);
    runner(512)
        .run(&strategy, |flips| {
            let mut bytes = text.clone().into_bytes();
            for (i, b) in flips {
                bytes[i] = b;
            }
            match String::from_utf8(bytes) {
                Ok(s) => read_is_sound(&s),
                Err(_) => Ok(()),
            }
        })
        .expect("no garbled report panics or is accepted unsound");
}
