//! A success answer serialized once, straight from its typed view.
//!
//! Answers used to go view → `serde_json::Value` → bytes, with `RequestId`
//! inserted into the value in between. `Value`'s objects are `BTreeMap`s,
//! so every object came out with its keys in byte order. [`JsonAnswer`]
//! writes the same bytes without building the `Value`: each object's
//! fields are serialized into a buffer as they come, then written in key
//! order (a repeated key keeps its last value, as a map insert does). The
//! top-level object stays open until it is written, so `RequestId` can
//! still be placed among its fields.
//!
//! Integers, strings and escapes are written exactly as serde_json writes
//! them from a `Value`. What this writer leaves alone (floats, float map
//! keys, serde_json's raw values, an enum variant as the whole answer)
//! takes the old way through `Value`, which gives the same bytes.

use std::{cell::RefCell, fmt::Write as _, ops::Range};

use serde::ser::{self, Impossible, Serialize};
use serde_json::{Error, Value};

/// A field's name: a struct's own, or a map key written into the object's
/// `keys` text (no allocation per key).
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Static(&'static str),
    Text(u32, u32),
}

/// One field of an object: its name, the first 8 bytes of the name as a
/// big-endian number (names sort by it first: an integer compare instead of
/// a `memcmp`, exact because a tie falls back to the names), and where its
/// value is in the object's buffer.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    prefix: u64,
    key: Key,
    value: Range<usize>,
}

fn prefix_of(name: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = name.len().min(8);
    bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

fn same_name(a: &Field, b: &Field, keys: &str) -> bool {
    a.prefix == b.prefix && key_str(&a.key, keys) == key_str(&b.key, keys)
}

fn key_str<'k>(key: &'k Key, keys: &'k str) -> &'k str {
    match key {
        Key::Static(k) => k,
        Key::Text(start, end) => keys.get(*start as usize..*end as usize).unwrap_or(""),
    }
}

/// The working buffers of one object. They are reused (a few per thread),
/// so that writing an answer allocates little besides the answer itself.
#[derive(Default)]
struct Scratch {
    buf: Vec<u8>,
    fields: Vec<Field>,
    keys: String,
}

thread_local! {
    static SCRATCH: RefCell<Vec<Scratch>> = const { RefCell::new(Vec::new()) };
}

fn take_scratch() -> Scratch {
    SCRATCH
        .try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| Scratch {
            buf: Vec::with_capacity(1024),
            fields: Vec::with_capacity(32),
            keys: String::new(),
        })
}

fn give_back(mut s: Scratch) {
    if s.buf.capacity() > 64 << 10 {
        return;
    }
    s.buf.clear();
    s.fields.clear();
    s.keys.clear();
    let _ = SCRATCH.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < 16 {
            pool.push(s);
        }
    });
}

/// An answer body, serialized.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonAnswer(Repr);

#[derive(Debug, Clone, PartialEq)]
enum Repr {
    /// A top-level object: its fields (sorted, each key once), values in
    /// `buf`.
    Fields {
        fields: Vec<Field>,
        buf: Vec<u8>,
        keys: String,
    },
    /// Any other value, whole.
    Whole(Vec<u8>),
    /// The old way, for what this writer leaves to `Value`: floats (which
    /// serde_json does not read back bit for bit, and the XML encoding and
    /// audit events read answers as values), raw values, float map keys.
    Value(Value),
}

impl JsonAnswer {
    /// Serializes `value` (the same bytes `serde_json::to_vec(&to_value(value)?)`
    /// gives), failing where `serde_json::to_value` fails.
    pub fn new<T: Serialize + ?Sized>(value: &T) -> Result<JsonAnswer, Error> {
        let mut buf = Vec::with_capacity(1024);
        let mut top = None;
        let written = value.serialize(Writer {
            out: &mut buf,
            top: Some(&mut top),
        });
        match written {
            Ok(()) => Ok(top.unwrap_or(JsonAnswer(Repr::Whole(buf)))),
            Err(_) => Ok(JsonAnswer(Repr::Value(serde_json::to_value(value)?))),
        }
    }

    /// The JSON text; `extra` fields are added to a top-level object
    /// (replacing fields of the same name) and ignored otherwise, as an
    /// insert into a `Value` that is not an object would be.
    pub fn to_json_with(&self, extra: &[(&str, &str)]) -> Vec<u8> {
        let (fields, buf, keys) = match &self.0 {
            Repr::Fields { fields, buf, keys } => (fields, buf, keys),
            Repr::Whole(buf) => return buf.clone(),
            Repr::Value(value) => {
                let mut value = value.clone();
                if let Value::Object(map) = &mut value {
                    for (k, v) in extra {
                        map.insert((*k).to_owned(), Value::String((*v).to_owned()));
                    }
                }
                // Writing a Value cannot fail (its keys are strings).
                return serde_json::to_vec(&value).unwrap_or_default();
            }
        };
        let mut out = Vec::with_capacity(buf.len() + fields.len() * 24 + 64);
        out.push(b'{');
        let mut extra: Vec<(&str, &str)> = extra.to_vec();
        extra.sort_by(|a, b| a.0.cmp(b.0));
        let (mut i, mut first) = (0, true);
        let mut name = |out: &mut Vec<u8>, key: &str| {
            if !first {
                out.push(b',');
            }
            first = false;
            write_str(out, key);
            out.push(b':');
        };
        for Field { key, value, .. } in fields {
            let key = key_str(key, keys);
            while let Some((k, v)) = extra.get(i).filter(|(k, _)| *k <= key) {
                name(&mut out, k);
                write_str(&mut out, v);
                i += 1;
            }
            if i > 0 && extra.get(i - 1).is_some_and(|(k, _)| *k == key) {
                continue;
            }
            name(&mut out, key);
            out.extend_from_slice(&buf[value.clone()]);
        }
        for (k, v) in &extra[i..] {
            name(&mut out, k);
            write_str(&mut out, v);
        }
        out.push(b'}');
        out
    }

    /// The answer as a `Value` (for the XML encoding and audit events),
    /// equal to what `to_value` gives.
    pub fn to_value(&self) -> Value {
        match &self.0 {
            Repr::Value(value) => value.clone(),
            // Always valid JSON without floats (this module wrote it), and
            // serde_json reads integers and strings back exactly.
            _ => serde_json::from_slice(&self.to_json_with(&[])).unwrap_or(Value::Null),
        }
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Most names and values need no escape: then serde_json would write
    // the quotes around the very bytes.
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn unsupported() -> Error {
    ser::Error::custom("not written directly")
}

/// Writes one JSON value into `out`. `top` is set for the answer's own
/// value: an object there is kept open in it instead of written.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    top: Option<&'a mut Option<JsonAnswer>>,
}

impl<'a> Writer<'a> {
    fn text(self, s: &str) -> Result<(), Error> {
        write_str(self.out, s);
        Ok(())
    }

    fn raw(self, s: &str) -> Result<(), Error> {
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn number<N: Serialize>(self, n: N) -> Result<(), Error> {
        // serde_json's own digits (itoa).
        serde_json::to_writer(&mut *self.out, &n)
    }

    /// An enum variant that `to_value` makes an object (`{variant: …}`):
    /// as the answer itself it would take `RequestId`, so that rare case
    /// goes the old way.
    fn variant_object(&self) -> Result<(), Error> {
        match self.top {
            Some(_) => Err(unsupported()),
            None => Ok(()),
        }
    }

    fn object(self) -> Object<'a> {
        Object {
            out: self.out,
            top: self.top,
            s: take_scratch(),
            next_key: None,
            wrap: None,
        }
    }
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.raw(if v { "true" } else { "false" })
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        // `to_value` takes what fits an i64 or a u64 and refuses the rest.
        if i64::try_from(v).is_ok() || u64::try_from(v).is_ok() {
            self.number(v)
        } else {
            Err(unsupported())
        }
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.number(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        if u64::try_from(v).is_ok() {
            self.number(v)
        } else {
            Err(unsupported())
        }
    }
    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.text(v.encode_utf8(&mut [0u8; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // An array of numbers.
        self.out.push(b'[');
        for (i, b) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            let _ = write!(ByteSink(self.out), "{b}");
        }
        self.out.push(b']');
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.raw("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.raw("null")
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.raw("null")
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant_object()?;
        let mut object = Writer {
            out: self.out,
            top: None,
        }
        .object();
        ser::SerializeStruct::serialize_field(&mut object, variant, value)?;
        ser::SerializeStruct::end(object)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, Error> {
        self.out.push(b'[');
        Ok(Seq {
            out: self.out,
            first: true,
            wrap: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'a>, Error> {
        // `{variant: [...]}`: one key, so nothing to sort.
        self.variant_object()?;
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.extend_from_slice(b":[");
        Ok(Seq {
            out: self.out,
            first: true,
            wrap: Some(()),
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(self.object())
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Object<'a>, Error> {
        if name.starts_with("$serde_json::") {
            // serde_json's raw values: `to_value` parses them.
            return Err(unsupported());
        }
        Ok(self.object())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Object<'a>, Error> {
        self.variant_object()?;
        let mut object = Writer {
            out: self.out,
            top: None,
        }
        .object();
        object.wrap = Some(variant);
        Ok(object)
    }
}

/// `fmt::Write` into a byte buffer.
struct ByteSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

struct Seq<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    /// Inside `{variant: …}`, closed after the array.
    wrap: Option<()>,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Writer {
            out: self.out,
            top: None,
        })
    }

    fn close(self) -> Result<(), Error> {
        self.out.push(b']');
        if self.wrap.is_some() {
            self.out.push(b'}');
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// An object (struct or map): fields gathered, written sorted at the end.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    top: Option<&'a mut Option<JsonAnswer>>,
    s: Scratch,
    next_key: Option<Key>,
    /// Inside `{variant: …}` (a struct variant).
    wrap: Option<&'static str>,
}

impl Object<'_> {
    fn field<T: Serialize + ?Sized>(&mut self, key: Key, value: &T) -> Result<(), Error> {
        let start = self.s.buf.len();
        value.serialize(Writer {
            out: &mut self.s.buf,
            top: None,
        })?;
        let prefix = prefix_of(key_str(&key, &self.s.keys));
        self.s.fields.push(Field {
            prefix,
            key,
            value: start..self.s.buf.len(),
        });
        Ok(())
    }

    fn close(self) -> Result<(), Error> {
        let Object {
            out,
            top,
            mut s,
            wrap,
            ..
        } = self;
        // Sorted as a BTreeMap<String, _> is; a stable sort keeps repeated
        // keys in order, and the last one wins as in a map insert.
        let keys = &s.keys;
        s.fields.sort_by(|a, b| {
            a.prefix
                .cmp(&b.prefix)
                .then_with(|| key_str(&a.key, keys).cmp(key_str(&b.key, keys)))
        });
        let n = s.fields.len();
        let mut kept = 0;
        for i in 0..n {
            if i + 1 < n && same_name(&s.fields[i], &s.fields[i + 1], keys) {
                continue;
            }
            s.fields.swap(kept, i);
            kept += 1;
        }
        s.fields.truncate(kept);
        if let Some(top) = top {
            *top = Some(JsonAnswer(Repr::Fields {
                fields: s.fields,
                buf: s.buf,
                keys: s.keys,
            }));
            return Ok(());
        }
        if let Some(variant) = wrap {
            out.push(b'{');
            write_str(out, variant);
            out.push(b':');
        }
        out.push(b'{');
        for (i, field) in s.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, key_str(&field.key, &s.keys));
            out.push(b':');
            out.extend_from_slice(&s.buf[field.value.clone()]);
        }
        out.push(b'}');
        if wrap.is_some() {
            out.push(b'}');
        }
        give_back(s);
        Ok(())
    }
}

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let start = self.s.keys.len();
        key.serialize(KeyWriter(&mut self.s.keys))?;
        let end = self.s.keys.len();
        let range = u32::try_from(start)
            .ok()
            .zip(u32::try_from(end).ok())
            .ok_or_else(unsupported)?;
        self.next_key = Some(Key::Text(range.0, range.1));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("a map value without its key"))?;
        self.field(key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeStruct for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(Key::Static(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(Key::Static(key), value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// A map key as `to_value` names it; keys it names in ways this writer
/// does not repeat (floats) send the answer the old way.
/// It is written into the object's key text.
struct KeyWriter<'a>(&'a mut String);

impl KeyWriter<'_> {
    fn text(self, n: impl std::fmt::Display) -> Result<(), Error> {
        let _ = write!(self.0, "{n}");
        Ok(())
    }
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.text(v)
    }
    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.0.push(v);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.0.push_str(v);
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.0.push_str(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(unsupported())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(unsupported())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(unsupported())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(unsupported())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(unsupported())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(unsupported())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(unsupported())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(unsupported())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;

    /// The old way: `to_value`, insert, `to_vec`.
    fn old_way<T: Serialize + ?Sized>(v: &T, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut value = serde_json::to_value(v).unwrap();
        if let Value::Object(map) = &mut value {
            for (k, x) in extra {
                map.insert((*k).to_owned(), Value::String((*x).to_owned()));
            }
        }
        serde_json::to_vec(&value).unwrap()
    }

    fn same<T: Serialize + ?Sized>(v: &T) {
        let answer = JsonAnswer::new(v).unwrap();
        let extras: [&[(&str, &str)]; 4] = [
            &[],
            &[("RequestId", "5F0E3C4A-0000-4000-8000-00000000000A")],
            &[("Zz", "last"), ("AAA", "first\n\"q\""), ("RequestId", "r")],
            &[("Alpha", "replaced")],
        ];
        for extra in extras {
            assert_eq!(
                String::from_utf8(answer.to_json_with(extra)).unwrap(),
                String::from_utf8(old_way(v, extra)).unwrap()
            );
        }
        assert_eq!(answer.to_value(), serde_json::to_value(v).unwrap());
    }

    #[derive(Serialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    struct Inner {
        zulu: &'static str,
        b: Option<i64>,
        a: Vec<u32>,
    }

    #[derive(Serialize, Clone)]
    enum Kind {
        Unit,
        New(i32),
        Tup(u8, String),
        Struct { z: bool, a: f32 },
    }

    #[derive(Serialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    struct View {
        zeta: String,
        alpha: i64,
        request_id: String,
        nested: Inner,
        list: Vec<Inner>,
        empty: Vec<Inner>,
        some: Option<u8>,
        none: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<String>,
        big: u64,
        negative: i128,
        map: HashMap<String, i32>,
        int_keys: BTreeMap<u32, bool>,
        kinds: Vec<Kind>,
        ch: char,
        escapes: String,
        unit: (),
        tuple: (i8, &'static str),
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Flattened {
        outer: u8,
        #[serde(flatten)]
        inner: Inner,
        #[serde(flatten)]
        extra: BTreeMap<String, String>,
    }

    fn view() -> View {
        let inner = Inner {
            zulu: "z",
            b: None,
            a: vec![3, 1, 2],
        };
        View {
            zeta: "last".into(),
            alpha: -7,
            request_id: "from the view".into(),
            nested: inner.clone(),
            list: vec![inner.clone(), inner],
            empty: vec![],
            some: Some(9),
            none: None,
            skipped: None,
            big: u64::MAX,
            negative: -5,
            map: (0..20).map(|i| (format!("k{i}"), i)).collect(),
            int_keys: [(10, true), (9, false), (100, true)].into_iter().collect(),
            kinds: vec![Kind::Unit, Kind::New(-1), Kind::Tup(1, "t".into())],
            ch: 'é',
            escapes: "quote \" backslash \\ newline \n ctl \u{1} tab \t <>&' \u{2028} 😀".into(),
            unit: (),
            tuple: (-1, "two"),
        }
    }

    fn written_directly<T: Serialize + ?Sized>(v: &T) -> bool {
        !matches!(JsonAnswer::new(v).unwrap().0, Repr::Value(_))
    }

    #[test]
    fn typed_views_come_out_as_through_value() {
        assert!(written_directly(&view()));
        same(&view());
        same(&vec![view()]);
        same(&Flattened {
            outer: 1,
            inner: Inner {
                zulu: "z",
                b: Some(1),
                a: vec![],
            },
            extra: [("Outer".to_owned(), "dup".to_owned())]
                .into_iter()
                .collect(),
        });
        same(&serde_json::json!({}));
        same(&serde_json::json!({"B": {"D": [], "C": {}}, "A": null}));
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Floats {
        float: f64,
        whole: f64,
        small: f32,
        nan: f64,
        kind: Kind,
    }

    #[test]
    fn floats_go_the_old_way() {
        let v = Floats {
            float: 0.1,
            whole: 2.0,
            small: 0.1,
            nan: f64::NAN,
            kind: Kind::Struct { z: true, a: 1.5 },
        };
        assert!(!written_directly(&v));
        same(&v);
        same(&3.0390915983610575e41);
    }

    #[test]
    fn answers_that_are_not_objects_take_no_request_id() {
        same(&[1, 2, 3]);
        same("text");
        same(&Option::<Inner>::None);
        same(&Kind::New(5));
        same(&Kind::Struct { z: false, a: 0.0 });
        same(&Kind::Tup(0, String::new()));
        same(&Kind::Unit);
    }

    #[test]
    fn what_value_refuses_is_refused() {
        assert!(JsonAnswer::new(&u128::MAX).is_err());
        assert!(JsonAnswer::new(&i128::MIN).is_err());
        let float_keys: Vec<(f64, u8)> = vec![(1.5, 1)];
        let map: HashMap<String, Vec<(f64, u8)>> = [("a".to_owned(), float_keys)].into();
        // Not refused: a list of pairs, not a map; and a map with a float
        // key goes the old way with the old answer.
        same(&map);
        let mut floats = BTreeMap::new();
        floats.insert(OrderedKey(2.5), 1);
        assert_eq!(
            JsonAnswer::new(&floats).map(|a| a.to_json_with(&[])).ok(),
            serde_json::to_value(&floats)
                .ok()
                .map(|v| serde_json::to_vec(&v).unwrap())
        );
    }

    #[derive(PartialEq)]
    struct OrderedKey(f64);
    impl Eq for OrderedKey {}
    impl Ord for OrderedKey {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&other.0)
        }
    }
    impl PartialOrd for OrderedKey {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Serialize for OrderedKey {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_f64(self.0)
        }
    }

    fn any_value(floats: bool) -> impl Strategy<Value = Value> {
        let float = if floats { 1 } else { 0 };
        let leaf = prop_oneof![
            1 => Just(Value::Null),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => any::<i64>().prop_map(Value::from),
            1 => any::<u64>().prop_map(Value::from),
            float => any::<f64>().prop_map(Value::from),
            2 => ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_value_comes_out_as_serde_json_writes_it(v in any_value(true)) {
            same(&v);
        }

        #[test]
        fn long_names_with_shared_beginnings_sort_as_a_map_does(
            names in prop::collection::vec("[ab\\x00\"\\\\é]{0,12}", 0..24),
            text in "(?s).{0,12}",
        ) {
            // In a random order, repeated names included.
            let map: Vec<(String, String)> =
                names.iter().map(|n| (n.clone(), format!("{text}{n}"))).collect();
            struct Pairs(Vec<(String, String)>);
            impl Serialize for Pairs {
                fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    use ser::SerializeMap;
                    let mut m = s.serialize_map(Some(self.0.len()))?;
                    for (k, v) in &self.0 {
                        m.serialize_entry(k, v)?;
                    }
                    m.end()
                }
            }
            let pairs = Pairs(map);
            prop_assert!(written_directly(&pairs));
            same(&pairs);
            same(&vec![pairs]);
        }

        #[test]
        fn values_without_floats_are_written_directly(v in any_value(false)) {
            prop_assert!(written_directly(&v));
            same(&v);
        }
    }
}
