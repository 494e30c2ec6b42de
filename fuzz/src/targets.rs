//! The fuzz targets: the parsers that read bytes nobody on our side wrote. Each takes one input and must return
//! (an error is fine) without panicking, hanging or holding unbounded memory.

use rmpv::Value as Msgpack;
use std::collections::BTreeMap;
use tfplugin::Type;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Lambda payloads: SNS envelopes (lifecycle and SSM status messages inside), EventBridge events, ticks.
    Event,
    /// Terraform's DynamicValue: msgpack (plan, apply, read) and JSON (stored state) against a schema type.
    DynamicValue,
    /// `drain.timeout` and friends, then the budget derived from them (checked arithmetic).
    Duration,
}

pub const ALL: [Target; 3] = [Target::Event, Target::DynamicValue, Target::Duration];

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Event => "event",
            Target::DynamicValue => "dynamic-value",
            Target::Duration => "duration",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether structure-aware JSON mutation applies to its seeds.
    pub fn is_json(self) -> bool {
        self == Target::Event
    }

    pub fn run(self, input: &[u8]) {
        match self {
            Target::Event => {
                if let Ok(payload) = serde_json::from_slice::<serde_json::Value>(input) {
                    std::hint::black_box(graceful_handler::event::parse(&payload));
                }
            }
            Target::DynamicValue => {
                let ty = schema_like_type();
                let _ = std::hint::black_box(tfplugin::value_from_msgpack(input, &ty));
                let _ = std::hint::black_box(tfplugin::value_from_json(input, &ty));
            }
            Target::Duration => {
                let text = String::from_utf8_lossy(input);
                if let Ok(seconds) = drain_contract::budget::parse_duration(&text) {
                    let _ = std::hint::black_box(drain_contract::budget::derive(seconds, None));
                    let _ = std::hint::black_box(drain_contract::budget::derive(seconds, Some(seconds)));
                }
            }
        }
    }

    /// Built-in seeds (the event target's come from fixture files as well).
    pub fn builtin_seeds(self) -> Vec<Vec<u8>> {
        match self {
            Target::Event => vec![
                br#"{"Records":[]}"#.to_vec(),
                br#"{"source":"aws.events","detail-type":"Scheduled Event"}"#.to_vec(),
            ],
            Target::DynamicValue => msgpack_seeds(),
            Target::Duration => [
                "1h",
                "45s",
                "90m",
                "1h30m",
                "2h0m30s",
                "7200",
                "0s",
                "18446744073709551615",
                "1d",
                "-1h",
                " 1h ",
                "1.5h",
            ]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
        }
    }

    /// Tokens the byte mutator inserts.
    pub fn dictionary(self) -> &'static [&'static [u8]] {
        match self {
            Target::Event => {
                &[b"\"Records\"", b"\"Sns\"", b"\"Message\"", b"\"detail\"", b"\\\"", b"null", b"1e999", b"\"\\u0000\""]
            }
            Target::DynamicValue => &[
                b"\xd4\x00\x00",
                b"\xc7\x01\x0c\x00",
                b"\xdd\xff\xff\xff\xff",
                b"\xdf\xff\xff\xff\xff",
                b"\x92",
                b"\"dynamic\"",
            ],
            Target::Duration => &[b"h", b"m", b"s", b"ms", b"99999999999", b"0"],
        }
    }
}

/// A type shaped like a resource schema: strings, numbers, bools, collections, a nested block list and a dynamic.
pub fn schema_like_type() -> Type {
    let nested: BTreeMap<String, Type> =
        [("preset".to_string(), Type::String), ("timeout".to_string(), Type::String)].into_iter().collect();
    let attributes: BTreeMap<String, Type> = [
        ("name", Type::String),
        ("count", Type::Number),
        ("enabled", Type::Bool),
        ("groups", Type::List(Box::new(Type::String))),
        ("ids", Type::Set(Box::new(Type::String))),
        ("tags", Type::Map(Box::new(Type::String))),
        ("drain", Type::List(Box::new(Type::Object(nested)))),
        ("anything", Type::Dynamic),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Type::Object(attributes)
}

fn msgpack_seeds() -> Vec<Vec<u8>> {
    let unknown = Msgpack::Ext(0, vec![0]);
    let drain = Msgpack::Array(vec![Msgpack::Map(vec![
        (Msgpack::from("preset"), Msgpack::from("nomad")),
        (Msgpack::from("timeout"), Msgpack::from("1h")),
    ])]);
    let full = Msgpack::Map(vec![
        (Msgpack::from("name"), Msgpack::from("nomad-clients")),
        (Msgpack::from("count"), Msgpack::from(3)),
        (Msgpack::from("enabled"), Msgpack::from(true)),
        (Msgpack::from("groups"), Msgpack::Array(vec![Msgpack::from("a"), Msgpack::from("b")])),
        (Msgpack::from("ids"), unknown.clone()),
        (Msgpack::from("tags"), Msgpack::Map(vec![(Msgpack::from("team"), Msgpack::from("ci"))])),
        (Msgpack::from("drain"), drain),
        (Msgpack::from("anything"), Msgpack::Array(vec![Msgpack::Binary(b"\"string\"".to_vec()), Msgpack::from("x")])),
    ]);
    let encode = |value: &Msgpack| {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, value).expect("writing to a Vec");
        bytes
    };
    let json = br#"{"name":"n","count":1.5,"enabled":false,"groups":["a"],"ids":null,"tags":{},"drain":[{"preset":"command","timeout":"45s"}],"anything":{"value":"x","type":"string"}}"#;
    vec![encode(&full), encode(&Msgpack::Nil), encode(&unknown), json.to_vec()]
}
