//! Round trips and wire-level fixtures of the msgpack value codec.

use super::*;

fn obj(pairs: Vec<(&str, Type)>) -> Type {
    Type::Object(pairs.into_iter().map(|(n, t)| (n.to_string(), t)).collect())
}

fn resource_type() -> Type {
    obj(vec![
        ("name", Type::String),
        ("count", Type::Number),
        ("enabled", Type::Bool),
        ("names", Type::Set(Box::new(Type::String))),
        ("ports", Type::List(Box::new(Type::Number))),
        ("tags", Type::Map(Box::new(Type::String))),
        ("drain", Type::List(Box::new(obj(vec![("timeout", Type::String), ("command", Type::String)])))),
        ("extra", Type::Dynamic),
    ])
}

fn round_trip(value: &Value, ty: &Type) -> Value {
    decode(&encode(value, ty).unwrap(), ty).unwrap()
}

#[test]
fn primitives_round_trip() {
    let cases = [
        (Value::Null, Type::String),
        (Value::Unknown, Type::String),
        (Value::string(""), Type::String),
        (Value::string("héllo"), Type::String),
        (Value::Bool(true), Type::Bool),
        (Value::Number(0.0), Type::Number),
        (Value::Number(-17.0), Type::Number),
        (Value::Number(1.5), Type::Number),
        (Value::Number(1e300), Type::Number),
        (Value::Number(4_294_967_296.0), Type::Number),
    ];
    for (value, ty) in cases {
        assert_eq!(round_trip(&value, &ty), value, "{ty:?}");
    }
}

#[test]
fn nested_objects_sets_lists_and_maps_round_trip() {
    let value = Value::object([
        ("name", Value::string("nomad")),
        ("count", Value::Number(3.0)),
        ("enabled", Value::Unknown),
        ("names", Value::Set(vec![Value::string("a"), Value::Unknown])),
        ("ports", Value::List(vec![Value::Number(80.0), Value::Null, Value::Number(8.5)])),
        ("tags", Value::Map(BTreeMap::from([("team".to_string(), Value::string("ci")), ("x".into(), Value::Null)]))),
        ("drain", Value::List(vec![Value::object([("timeout", Value::string("1h")), ("command", Value::Unknown)])])),
        ("extra", Value::Null),
    ]);
    assert_eq!(round_trip(&value, &resource_type()), value);
}

#[test]
fn null_and_unknown_at_every_level() {
    let ty = resource_type();
    assert_eq!(round_trip(&Value::Null, &ty), Value::Null);
    assert_eq!(round_trip(&Value::Unknown, &ty), Value::Unknown);
    let all_unknown = Value::object([
        ("name", Value::Unknown),
        ("count", Value::Unknown),
        ("enabled", Value::Unknown),
        ("names", Value::Unknown),
        ("ports", Value::Unknown),
        ("tags", Value::Unknown),
        ("drain", Value::Unknown),
        ("extra", Value::Unknown),
    ]);
    assert_eq!(round_trip(&all_unknown, &ty), all_unknown);
    let inner_null = Value::object([("drain", Value::List(vec![Value::object([("timeout", Value::Null)])]))]);
    let decoded = round_trip(&inner_null, &ty);
    assert_eq!(decoded.get("drain").elements()[0].get("timeout"), &Value::Null);
    assert_eq!(decoded.get("drain").elements()[0].get("command"), &Value::Null);
    assert_eq!(decoded.get("names"), &Value::Null, "absent attributes are encoded as null");
}

#[test]
fn dynamic_values_carry_their_type() {
    let ty = Type::Dynamic;
    let value = Value::object([("a", Value::List(vec![Value::string("x")])), ("n", Value::Number(2.0))]);
    let bytes = encode(&value, &ty).unwrap();
    // [bin(type JSON), {a: [x], n: 2}]
    let mut expected = vec![0x92, 0xc4];
    let type_json = br#"["object",{"a":["list","string"],"n":"number"}]"#;
    expected.push(type_json.len() as u8);
    expected.extend_from_slice(type_json);
    expected.extend_from_slice(&[0x82, 0xa1, b'a', 0x91, 0xa1, b'x', 0xa1, b'n', 0x02]);
    assert_eq!(bytes, expected);
    assert_eq!(decode(&bytes, &ty).unwrap(), value);
    assert_eq!(round_trip(&Value::Null, &ty), Value::Null);
    assert_eq!(round_trip(&Value::Unknown, &ty), Value::Unknown);
}

#[test]
fn wire_fixtures_as_terraform_writes_them() {
    // Unknown: fixext1 of type 0 (cty's compact form).
    assert_eq!(encode(&Value::Unknown, &Type::String).unwrap(), vec![0xd4, 0x00, 0x00]);
    assert_eq!(decode(&[0xd4, 0x00, 0x00], &Type::String).unwrap(), Value::Unknown);
    // Unknown with a "definitely not null" refinement: ext8, length 3, type 12, {1: false}.
    assert_eq!(decode(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2], &Type::String).unwrap(), Value::Unknown);
    // Null.
    assert_eq!(decode(&[0xc0], &Type::Number).unwrap(), Value::Null);
    // Numbers as int, float32, float64 and decimal string.
    assert_eq!(decode(&[0x2a], &Type::Number).unwrap(), Value::Number(42.0));
    assert_eq!(decode(&[0xca, 0x3f, 0xc0, 0x00, 0x00], &Type::Number).unwrap(), Value::Number(1.5));
    assert_eq!(decode(&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], &Type::Number).unwrap(), Value::Number(1.5));
    assert_eq!(decode(&[0xa3, b'0', b'.', b'5'], &Type::Number).unwrap(), Value::Number(0.5));
    // Whole numbers are written as integers, like cty does.
    assert_eq!(encode(&Value::Number(7.0), &Type::Number).unwrap(), vec![0x07]);
    // Objects: attributes in name order, absent ones as nil.
    let ty = obj(vec![("b", Type::String), ("a", Type::Bool)]);
    assert_eq!(
        encode(&Value::object([("b", Value::string("x"))]), &ty).unwrap(),
        vec![0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xa1, b'x']
    );
}

#[test]
fn decode_errors_name_the_attribute_and_the_expectation() {
    let ty = resource_type();
    let mut wrong_drain = Vec::new();
    let msgpack = Msgpack::Map(vec![(
        Msgpack::from("drain"),
        Msgpack::Array(vec![Msgpack::Map(vec![(Msgpack::from("timeout"), Msgpack::from(5))])]),
    )]);
    rmpv::encode::write_value(&mut wrong_drain, &msgpack).unwrap();
    let error = decode(&wrong_drain, &ty).unwrap_err();
    assert_eq!(error.to_string(), "drain[0].timeout: expected a string, got an integer");
    assert_eq!(error.path, AttributePath::root("drain").index(0).attr("timeout"));

    let mut unknown_attribute = Vec::new();
    rmpv::encode::write_value(&mut unknown_attribute, &Msgpack::Map(vec![(Msgpack::from("nope"), Msgpack::Nil)]))
        .unwrap();
    assert_eq!(
        decode(&unknown_attribute, &ty).unwrap_err().to_string(),
        "nope: unsupported attribute (not in the schema)"
    );
    assert!(decode(&[0x92, 0xc0], &ty).unwrap_err().to_string().starts_with("invalid msgpack"));
    assert_eq!(decode(&[0xc0, 0xc0], &ty).unwrap_err().to_string(), "1 trailing bytes after the msgpack value");
    assert_eq!(decode(&[0xd4, 0x05, 0x00], &ty).unwrap_err().to_string(), "unsupported msgpack extension type 5");
}

#[test]
fn encode_refuses_values_that_do_not_fit_the_schema() {
    let ty = resource_type();
    let cases = [
        (Value::object([("name", Value::Number(1.0))]), "name: expected a string, got a number"),
        (Value::object([("bogus", Value::Null)]), "bogus: attribute is not in the schema"),
        (
            Value::object([("tags", Value::Map(BTreeMap::from([("k".into(), Value::Bool(true))])))]),
            r#"tags["k"]: expected a string, got a bool"#,
        ),
        (Value::string("x"), "expected an object, got a string"),
    ];
    for (value, expected) in cases {
        assert_eq!(encode(&value, &ty).unwrap_err().to_string(), expected);
    }
}
