//! Byte-level mutations (the classic havoc set: bit flips, interesting bytes, inserts, deletes, duplicated ranges,
//! splices, dictionary tokens) and structure-aware ones for JSON, so mutated inputs reach past the syntax check.

use crate::rng::Rng;
use serde_json::Value;

/// Inputs never grow past this: bounded memory per input, and large enough for nesting-depth attacks.
pub const MAX_LEN: usize = 64 * 1024;

const INTERESTING: [u8; 14] = [0, 1, 0x7f, 0x80, 0xff, b'"', b'\\', b'{', b'}', b'[', b']', b':', b',', b'-'];

pub fn bytes(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>], dictionary: &[&[u8]]) {
    for _ in 0..1 + rng.below(8) {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = *rng.pick(&INTERESTING);
            }
            2 => {
                let at = rng.below(len + 1);
                let count = 1 + rng.below(16);
                let fresh: Vec<u8> = (0..count).map(|_| rng.next() as u8).collect();
                input.splice(at..at, fresh);
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                input.drain(start..end);
            }
            4 if len > 0 => {
                // Duplicating a range repeatedly builds deep nesting ([[[[..., {"a":{"a":...).
                let start = rng.below(len);
                let end = (start + 1 + rng.below(len - start)).min(len);
                let chunk = input[start..end].to_vec();
                for _ in 0..1 + rng.below(8) {
                    input.splice(start..start, chunk.iter().copied());
                }
            }
            5 if !corpus.is_empty() => {
                let other = rng.pick(corpus);
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let to = (from + 1 + rng.below(other.len() - from)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[from..to].iter().copied());
                }
            }
            6 if !dictionary.is_empty() => {
                let at = rng.below(len + 1);
                input.splice(at..at, rng.pick(dictionary).iter().copied());
            }
            7 if len > 0 => input.truncate(rng.below(len)),
            _ => {
                let at = rng.below(len + 1);
                input.insert(at, rng.next() as u8);
            }
        }
        input.truncate(MAX_LEN);
    }
}

const STRINGS: [&str; 14] = [
    "",
    "autoscaling:EC2_INSTANCE_TERMINATING",
    "autoscaling:TEST_NOTIFICATION",
    "aws:sns",
    "Scheduled Event",
    "EC2 Command Status-change Notification",
    "2026-11-25T21:00:01.125Z",
    "9999-99-99T99:99:99Z",
    "{\"LifecycleTransition\":\"autoscaling:EC2_INSTANCE_TERMINATING\"}",
    "{}",
    "[]",
    "\u{0}\u{ffff}",
    "i-0123456789abcdef0",
    "Terminating:Wait",
];

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 4 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(2)),
        2 => Value::from(*rng.pick(&[0i64, -1, i64::MAX, i64::MIN, 4000, 7200])),
        3 => serde_json::Number::from_f64(*rng.pick(&[1e308, -0.0, 0.5, 1e-300]))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        4 => Value::String(rng.pick(&STRINGS).to_string()),
        5 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => Value::Object((0..rng.below(4)).map(|i| (format!("k{i}"), random_value(rng, depth + 1))).collect()),
    }
}

/// Replaces, removes or re-types one node of a JSON document; a string that holds JSON (as SNS's `Message` does) is
/// parsed, mutated and re-encoded with some chance, so nested envelopes are reached too. Recursion depth is the
/// seed document's depth (seeds are shallow, and mutated documents are never fed back as seeds).
pub fn json(rng: &mut Rng, node: &mut Value) {
    if rng.below(3) != 0 {
        match node {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(rng.below(map.len())).cloned().expect("non-empty");
                return json(rng, map.get_mut(&key).expect("key exists"));
            }
            Value::Array(items) if !items.is_empty() => {
                let i = rng.below(items.len());
                return json(rng, &mut items[i]);
            }
            Value::String(text) if text.starts_with('{') => {
                if let Ok(mut inner) = serde_json::from_str::<Value>(text) {
                    json(rng, &mut inner);
                    *text = inner.to_string();
                    return;
                }
            }
            _ => {}
        }
    }
    match (rng.below(4), &mut *node) {
        (0, Value::Object(map)) if !map.is_empty() => {
            let key = map.keys().nth(rng.below(map.len())).cloned().expect("non-empty");
            map.remove(&key);
        }
        (1, Value::Object(map)) => {
            map.insert(rng.pick(&STRINGS).to_string(), random_value(rng, 0));
        }
        (2, Value::Array(items)) => items.push(random_value(rng, 0)),
        _ => *node = random_value(rng, 0),
    }
}
