//! A serde `Deserializer` over the positioned YAML tree. Every error carries the position of
//! the node it is about; [`Spanned<T>`] captures where a value was written, so later checks
//! (unknown node, undeclared variable, bad regex...) can report file:line:col too.
//!
//! Plain scalars are typed the YAML 1.2 core way (null, bool, int, float, string) when the
//! target asks for "any"; a target asking for a string accepts any scalar's text.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{is_null_text, Kind, Node, Pos};

/// A deserialisation error with the position of the offending node.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub pos: Option<Pos>,
    pub message: String,
}

impl DeError {
    fn at(mut self, pos: Pos) -> Self {
        self.pos.get_or_insert(pos);
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            pos: None,
            message: msg.to_string(),
        }
    }
}

/// Deserialises `T` from a positioned node.
///
/// # Errors
/// The first type or shape mismatch, with its position.
pub fn from_node<'a, T: Deserialize<'a>>(node: &'a Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node)).map_err(|e: DeError| e.at(node.pos))
}

const SPANNED: &str = "$__switchboard_spanned";
const SPANNED_FIELDS: &[&str] = &["$__line", "$__col", "$__value"];

/// A value with the position it was written at. Serialises (and appears in the JSON Schema)
/// as the bare value.
#[derive(Debug, Clone, Default)]
pub struct Spanned<T> {
    pub pos: Pos,
    pub value: T,
}

impl<T> Spanned<T> {
    pub fn new(value: T) -> Self {
        Spanned {
            pos: Pos::default(),
            value,
        }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(g)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let _: Option<String> = m.next_key()?;
                let line: u32 = m.next_value()?;
                let _: Option<String> = m.next_key()?;
                let col: u32 = m.next_value()?;
                let _: Option<String> = m.next_key()?;
                let value: T = m.next_value()?;
                Ok(Spanned {
                    pos: Pos { line, col },
                    value,
                })
            }
        }
        d.deserialize_struct(SPANNED, SPANNED_FIELDS, V(std::marker::PhantomData))
    }
}

#[derive(Clone, Copy)]
struct NodeDe<'a>(&'a Node);

impl<'a> NodeDe<'a> {
    fn text(&self) -> Result<&'a str, DeError> {
        match &self.0.kind {
            Kind::Scalar { text, .. } => Ok(text),
            _ => Err(self.invalid("a scalar")),
        }
    }

    fn invalid(&self, expected: &str) -> DeError {
        DeError {
            pos: Some(self.0.pos),
            message: format!("expected {expected}, found {}", self.0.describe()),
        }
    }

    fn parse_num<T: std::str::FromStr>(&self, what: &str) -> Result<T, DeError> {
        let t = self.text()?;
        t.trim().replace('_', "").parse::<T>().map_err(|_| DeError {
            pos: Some(self.0.pos),
            message: format!("expected {what}, found `{t}`"),
        })
    }
}

macro_rules! number_methods {
    ($($method:ident $ty:ty => $visit:ident, $what:expr;)*) => {$(
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            let n: $ty = self.parse_num($what)?;
            v.$visit(n).map_err(|e: DeError| e.at(self.0.pos))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let pos = self.0.pos;
        let r = match &self.0.kind {
            Kind::Seq(items) => v.visit_seq(Seq {
                items: items.iter(),
            }),
            Kind::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
            Kind::Scalar { text, plain: false } => v.visit_str(text),
            Kind::Scalar { text, plain: true } => {
                if is_null_text(text) {
                    v.visit_unit()
                } else if let Some(b) = parse_bool(text) {
                    v.visit_bool(b)
                } else if let Ok(i) = text.parse::<i64>() {
                    v.visit_i64(i)
                } else if let Some(f) = parse_float(text) {
                    v.visit_f64(f)
                } else {
                    v.visit_str(text)
                }
            }
        };
        r.map_err(|e: DeError| e.at(pos))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let t = self.text()?;
        match parse_bool(t) {
            Some(b) => v.visit_bool(b).map_err(|e: DeError| e.at(self.0.pos)),
            None => Err(DeError {
                pos: Some(self.0.pos),
                message: format!("expected true or false, found `{t}`"),
            }),
        }
    }

    number_methods! {
        deserialize_i8 i8 => visit_i8, "an integer";
        deserialize_i16 i16 => visit_i16, "an integer";
        deserialize_i32 i32 => visit_i32, "an integer";
        deserialize_i64 i64 => visit_i64, "an integer";
        deserialize_u8 u8 => visit_u8, "a non-negative integer";
        deserialize_u16 u16 => visit_u16, "a non-negative integer";
        deserialize_u32 u32 => visit_u32, "a non-negative integer";
        deserialize_u64 u64 => visit_u64, "a non-negative integer";
        deserialize_f32 f32 => visit_f32, "a number";
        deserialize_f64 f64 => visit_f64, "a number";
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let t = self.text()?;
        v.visit_str(t).map_err(|e: DeError| e.at(self.0.pos))
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            v.visit_none()
        } else {
            v.visit_some(self).map_err(|e: DeError| e.at(self.0.pos))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            v.visit_unit()
        } else {
            Err(self.invalid("null"))
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            Kind::Seq(items) => v
                .visit_seq(Seq {
                    items: items.iter(),
                })
                .map_err(|e: DeError| e.at(self.0.pos)),
            _ => Err(self.invalid("a list")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            Kind::Map(entries) => v
                .visit_map(Map {
                    entries: entries.iter(),
                    value: None,
                })
                .map_err(|e: DeError| e.at(self.0.pos)),
            // An empty plain value (`key:`) is accepted as an empty mapping.
            _ if self.0.is_null() => v.visit_map(Map {
                entries: [].iter(),
                value: None,
            }),
            _ => Err(self.invalid("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            return v.visit_map(SpannedAccess {
                node: self.0,
                step: 0,
            });
        }
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.kind {
            Kind::Scalar { text, .. } => v
                .visit_enum(text.as_str().into_deserializer())
                .map_err(|e: DeError| e.at(self.0.pos)),
            Kind::Map(entries) if entries.len() == 1 => {
                let (k, val) = &entries[0];
                v.visit_enum(Enum { key: k, value: val })
                    .map_err(|e: DeError| e.at(k.pos))
            }
            _ => Err(self.invalid(&format!("one of {}", variants.join(", ")))),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _n: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(v)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _n: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        v.visit_newtype_struct(self)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_unit()
    }
}

fn parse_bool(t: &str) -> Option<bool> {
    match t {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_float(t: &str) -> Option<f64> {
    let looks_numeric = t
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || "+-.".contains(c));
    if !looks_numeric {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

struct Seq<'a> {
    items: std::slice::Iter<'a, Node>,
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some(n) => seed
                .deserialize(NodeDe(n))
                .map(Some)
                .map_err(|e: DeError| e.at(n.pos)),
        }
    }
}

struct Map<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(NodeDe(k))
                    .map(Some)
                    .map_err(|e: DeError| e.at(k.pos))
            }
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let n = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("value without key"))?;
        seed.deserialize(NodeDe(n))
            .map_err(|e: DeError| e.at(n.pos))
    }
}

/// A single-entry mapping read as an enum variant: `{variant: value}`.
struct Enum<'a> {
    key: &'a Node,
    value: &'a Node,
}

impl<'de> de::EnumAccess<'de> for Enum<'de> {
    type Error = DeError;
    type Variant = NodeDe<'de>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeDe<'de>), DeError> {
        let v = seed
            .deserialize(NodeDe(self.key))
            .map_err(|e: DeError| e.at(self.key.pos))?;
        Ok((v, NodeDe(self.value)))
    }
}

impl<'de> de::VariantAccess<'de> for NodeDe<'de> {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        if self.0.is_null() {
            Ok(())
        } else {
            Err(self.invalid("nothing after this key"))
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
            .map_err(|e: DeError| e.at(self.0.pos))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _f: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_map(self, v)
    }
}

/// Feeds the three magic fields of [`Spanned`].
struct SpannedAccess<'a> {
    node: &'a Node,
    step: u8,
}

impl<'de> MapAccess<'de> for SpannedAccess<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(name) = SPANNED_FIELDS.get(self.step as usize) else {
            return Ok(None);
        };
        seed.deserialize((*name).into_deserializer()).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        self.step += 1;
        match self.step {
            1 => seed.deserialize(self.node.pos.line.into_deserializer()),
            2 => seed.deserialize(self.node.pos.col.into_deserializer()),
            _ => seed.deserialize(NodeDe(self.node)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct T {
        name: Spanned<String>,
        #[serde(default)]
        n: Option<u32>,
        #[serde(default)]
        list: Vec<Spanned<String>>,
    }

    #[test]
    fn spans_and_unknown_fields_carry_positions() {
        let (root, _) = parse("name: hi\nlist: [a, b]\n").unwrap();
        let t: T = from_node(&root).unwrap();
        assert_eq!(t.name.pos, Pos { line: 1, col: 7 });
        assert_eq!(t.list[1].value, "b");
        assert_eq!(t.n, None);

        let (root, _) = parse("name: hi\nbogus: 3\n").unwrap();
        let err = from_node::<T>(&root).unwrap_err();
        assert_eq!(err.pos, Some(Pos { line: 2, col: 1 }));
        assert!(
            err.message.contains("unknown field `bogus`"),
            "{}",
            err.message
        );

        let (root, _) = parse("name: hi\nn: -3\n").unwrap();
        let err = from_node::<T>(&root).unwrap_err();
        assert_eq!(err.pos, Some(Pos { line: 2, col: 4 }));
    }

    #[test]
    fn any_types_plain_scalars() {
        let (root, _) = parse("a: 1\nb: 'x'\nc: true\nd: 2.5\ne: ~\n").unwrap();
        let v: serde_json::Value = from_node(&root).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": "x", "c": true, "d": 2.5, "e": null})
        );
    }
}
