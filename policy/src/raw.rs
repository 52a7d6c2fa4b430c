//! The policy document exactly as serde reads it, before validation.
//!
//! Objects whose key order matters or whose duplicate keys must be caught
//! (`targets`, rollout step `weights`) are read as [`OrderedMap`]; values
//! whose range must be reported precisely are kept as raw JSON values.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub(crate) schema: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // free text for people; read so that it is accepted
    pub(crate) description: Option<String>,
    pub(crate) targets: Option<OrderedMap>,
    #[serde(default)]
    pub(crate) path_rules: Vec<RawPathRule>,
    pub(crate) stickiness: Option<RawStickiness>,
    pub(crate) base_path: Option<String>,
    pub(crate) rollout: Option<RawRollout>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPathRule {
    pub(crate) path: String,
    pub(crate) target: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStickiness {
    pub(crate) enabled: bool,
    pub(crate) duration_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRollout {
    pub(crate) steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub(crate) weights: OrderedMap,
    pub(crate) hold: serde_json::Value,
}

/// A JSON object read in document order, duplicates kept so that validation
/// can name them.
#[derive(Debug, Default)]
pub(crate) struct OrderedMap(pub(crate) Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OrderedMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = OrderedMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of target label to weight")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedMap, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push((key, value));
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}
