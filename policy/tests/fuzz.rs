//! Bounded property tests (a fixed seed and a fixed number of cases, so a
//! run is short and the same every time): no input makes the policy parser
//! panic, it parses or says why; a valid policy survives a roundtrip.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Value, json};
use weighbridge_policy::Policy;

const EXAMPLE: &str = include_str!("../../config/policy.json");

fn config() -> Config {
    Config {
        cases: 512,
        rng_seed: RngSeed::Fixed(0x7765_6967_6862),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Any JSON value, with the policy's own field names and path-like strings
/// over-represented, so that most documents get past the syntax check.
fn json_ish() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("schema".to_owned()),
        Just("targets".to_owned()),
        Just("path_rules".to_owned()),
        Just("path".to_owned()),
        Just("target".to_owned()),
        Just("stickiness".to_owned()),
        Just("enabled".to_owned()),
        Just("duration_seconds".to_owned()),
        Just("base_path".to_owned()),
        Just("rollout".to_owned()),
        Just("steps".to_owned()),
        Just("weights".to_owned()),
        Just("hold".to_owned()),
        Just("ecs".to_owned()),
        Just("lambda".to_owned()),
        "\\PC{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..1200).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!("weighbridge.policy/v1")),
        "[/.a-z?#* ]{0,8}".prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A valid policy document: unique labels, weights with at least one
/// positive, rules that cannot shadow each other, optional base path,
/// stickiness and rollout.
fn valid_policy() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map("[a-z][a-z0-9_.-]{0,7}", 0u32..=999, 1..=5),
        prop::collection::vec(("[a-z0-9_.~-]{1,6}", "(/[a-z0-9_~-]{1,5}){0,2}/?"), 0..4),
        prop::option::of("[a-z0-9]{1,4}(/[a-z0-9]{1,4}){0,2}"),
        prop::option::of((any::<bool>(), 1u64..=604_800)),
        prop::collection::vec((1u64..100_000, 0u32..=999), 0..3),
    )
        .prop_map(|(mut targets, rules, base, sticky, steps)| {
            if targets.values().all(|w| *w == 0)
                && let Some(w) = targets.values_mut().next()
            {
                *w = 1;
            }
            let labels: Vec<&String> = targets.keys().collect();
            let mut doc = json!({
                "schema": "weighbridge.policy/v1",
                "targets": targets,
            });
            // A distinct first segment per rule: none covers another.
            let path_rules: Vec<Value> = rules
                .iter()
                .enumerate()
                .map(|(i, (first, rest))| {
                    json!({"path": format!("/r{i}{first}{rest}"), "target": labels[i % labels.len()]})
                })
                .collect();
            doc["path_rules"] = Value::Array(path_rules);
            if let Some(b) = base {
                doc["base_path"] = json!(b);
            }
            if let Some((enabled, secs)) = sticky {
                doc["stickiness"] = json!({"enabled": enabled, "duration_seconds": secs});
            }
            if !steps.is_empty() {
                let steps: Vec<Value> = steps
                    .iter()
                    .map(|(hold, w)| json!({"weights": {labels[0].as_str(): w.max(&1)}, "hold": hold}))
                    .collect();
                doc["rollout"] = json!({"steps": steps});
            }
            doc
        })
}

/// The document a parsed policy stands for, in the file format.
fn to_document(p: &Policy) -> Value {
    let targets: serde_json::Map<String, Value> = p
        .targets()
        .iter()
        .map(|t| (t.label.clone(), json!(t.weight)))
        .collect();
    let mut doc = json!({
        "schema": "weighbridge.policy/v1",
        "targets": targets,
        "path_rules": p.path_rules().iter().map(|r| json!({"path": r.path, "target": r.target})).collect::<Vec<_>>(),
        "stickiness": {"enabled": p.stickiness().enabled, "duration_seconds": p.stickiness().duration_seconds},
    });
    if let Some(b) = p.base_path() {
        doc["base_path"] = json!(b);
    }
    if !p.rollout().is_empty() {
        let steps: Vec<Value> = p
            .rollout()
            .iter()
            .map(|s| {
                let w: serde_json::Map<String, Value> = s
                    .weights
                    .iter()
                    .map(|t| (t.label.clone(), json!(t.weight)))
                    .collect();
                json!({"weights": w, "hold": s.hold.as_secs()})
            })
            .collect();
        doc["rollout"] = json!({"steps": steps});
    }
    doc
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = text.parse::<Policy>();
    }

    #[test]
    fn json_ish_documents_parse_or_explain(doc in json_ish()) {
        if let Err(e) = doc.to_string().parse::<Policy>() {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn mutated_example_parses_or_explains(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..6)
    ) {
        let mut chars: Vec<char> = EXAMPLE.chars().collect();
        for (at, op, c) in edits {
            let i = at.index(chars.len() + 1);
            match op {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
        }
        let text: String = chars.into_iter().collect();
        if let Err(e) = text.parse::<Policy>() {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn a_valid_policy_roundtrips(doc in valid_policy()) {
        let text = serde_json::to_string_pretty(&doc).expect("serialize");
        let policy: Policy = match text.parse() {
            Ok(p) => p,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{text}"))),
        };
        let again = to_document(&policy);
        let reparsed: Policy = again.to_string().parse().expect("the roundtrip parses");
        prop_assert_eq!(&reparsed, &policy);
        prop_assert_eq!(to_document(&reparsed), again);
    }
}
