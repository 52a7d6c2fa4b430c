//! The path-rule samples of the seeds: `/small-woodland-creature` (routed only
//! to ECS there) and `/ice-cream-flavor` (only to Lambda). Each answer names
//! the backend, so a leak through the wrong target is visible in the body too.

use axum::Json;
use axum::extract::State;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use crate::state::AppState;

const CREATURES: &[&str] = &[
    "hedgehog",
    "badger",
    "dormouse",
    "red squirrel",
    "wood mouse",
    "fox",
    "stoat",
];
const FLAVORS: &[&str] = &[
    "vanilla",
    "pistachio",
    "salted caramel",
    "stracciatella",
    "mint choc chip",
    "raspberry ripple",
];

pub async fn creature(State(state): State<AppState>) -> Json<Value> {
    let creature = CREATURES
        .choose(&mut rand::rng())
        .copied()
        .unwrap_or("hedgehog");
    Json(json!({ "creature": creature, "backend": state.identity.label }))
}

pub async fn flavor(State(state): State<AppState>) -> Json<Value> {
    let flavor = FLAVORS
        .choose(&mut rand::rng())
        .copied()
        .unwrap_or("vanilla");
    Json(json!({ "flavor": flavor, "backend": state.identity.label }))
}
