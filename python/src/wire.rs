//! The scalar fast path of `tbseg.read`: reads the protobuf wire format of
//! an event record in place, without building the `Event` message, so that
//! a scalar costs no allocation and a value of a tag that is filtered out
//! is skipped after comparing its tag bytes.
//!
//! Only the common shapes are read here: an `Event` with a `Summary` whose
//! values carry a `simple_value` or a one-number `TensorProto`. Anything
//! else (a `SessionLog`, a graph, an image, a malformed field) makes the
//! caller decode the record or the value with prost as before, so this
//! module never decides what a record means, only reads it faster.

/// One field's payload.
#[derive(Clone, Copy)]
pub enum Field<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Fixed32([u8; 4]),
    Bytes(&'a [u8]),
}

/// A cursor over one message's fields. `None` from [`Wire::field`] is the
/// end; `Some(Err(()))` a malformed message.
pub struct Wire<'a> {
    buf: &'a [u8],
}

impl<'a> Wire<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Wire { buf }
    }

    fn varint(&mut self) -> Result<u64, ()> {
        // Keys and small numbers: one byte.
        if let Some((&byte, rest)) = self.buf.split_first() {
            if byte & 0x80 == 0 {
                self.buf = rest;
                return Ok(u64::from(byte));
            }
        }
        let mut value = 0u64;
        for (i, &byte) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        Err(())
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], ()> {
        let (head, rest) = self.buf.split_first_chunk::<N>().ok_or(())?;
        self.buf = rest;
        Ok(*head)
    }

    /// The next field number and payload.
    pub fn field(&mut self) -> Option<Result<(u64, Field<'a>), ()>> {
        if self.buf.is_empty() {
            return None;
        }
        Some(self.next_field())
    }

    fn next_field(&mut self) -> Result<(u64, Field<'a>), ()> {
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => Field::Fixed64(self.take::<8>()?),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| ())?;
                if len > self.buf.len() {
                    return Err(());
                }
                let (bytes, rest) = self.buf.split_at(len);
                self.buf = rest;
                Field::Bytes(bytes)
            }
            5 => Field::Fixed32(self.take::<4>()?),
            _ => return Err(()),
        };
        Ok((key >> 3, field))
    }
}

/// An event record's step, wall time and summary values, or `None` when
/// the record is not a plain summary event (the caller decodes it).
pub struct SummaryEvent<'a> {
    pub step: i64,
    pub wall_time: f64,
    /// The encoded `Summary` message.
    pub summary: &'a [u8],
}

/// Reads `Event { wall_time = 1, step = 2, summary = 5 }`.
pub fn summary_event(record: &[u8]) -> Option<SummaryEvent<'_>> {
    let mut event = SummaryEvent {
        step: 0,
        wall_time: 0.0,
        summary: &[],
    };
    let mut has_summary = false;
    let mut wire = Wire::new(record);
    while let Some(field) = wire.field() {
        match field.ok()? {
            (1, Field::Fixed64(bytes)) => event.wall_time = f64::from_le_bytes(bytes),
            // int64 is two's complement in a varint.
            (2, Field::Varint(step)) => event.step = step as i64,
            (5, Field::Bytes(summary)) => {
                // A repeated message field may come in pieces that
                // protobuf merges: leave that to prost.
                if has_summary {
                    return None;
                }
                has_summary = true;
                event.summary = summary;
            }
            _ => return None,
        }
    }
    has_summary.then_some(event)
}

/// One `Summary.Value`, read as far as the fast path needs.
pub struct ScalarValue<'a> {
    pub tag: &'a [u8],
    pub has_metadata: bool,
    /// The number, when the value is a `simple_value` or a one-number
    /// float or double tensor; `None` for any other value.
    pub number: Option<f64>,
}

/// Reads `Summary.Value { tag = 1, simple_value = 2, tensor = 8,
/// metadata = 9 }`; any other value field (an image, a histogram) leaves
/// `number` empty.
pub fn scalar_value(value: &[u8]) -> Result<ScalarValue<'_>, ()> {
    let mut out = ScalarValue {
        tag: &[],
        has_metadata: false,
        number: None,
    };
    let mut other = false;
    let mut wire = Wire::new(value);
    while let Some(field) = wire.field() {
        match field? {
            (1, Field::Bytes(tag)) => out.tag = tag,
            (2, Field::Fixed32(bytes)) => out.number = Some(f64::from(f32::from_le_bytes(bytes))),
            (8, Field::Bytes(tensor)) => out.number = tensor_number(tensor)?,
            (9, Field::Bytes(_)) => out.has_metadata = true,
            _ => other = true,
        }
    }
    if other {
        out.number = None;
    }
    Ok(out)
}

/// The tag of a `Summary.Value` when it is the value's first field (as
/// every writer puts it), so that a value to skip is not read further.
pub fn leading_tag(value: &[u8]) -> Option<&[u8]> {
    match Wire::new(value).field()? {
        Ok((1, Field::Bytes(tag))) => Some(tag),
        _ => None,
    }
}

const DT_FLOAT: u64 = 1;
const DT_DOUBLE: u64 = 2;

/// The number of a `TensorProto { dtype = 1, tensor_content = 4,
/// float_val = 5, double_val = 6 }` as the library reads a scalar: the
/// content if it holds exactly one number, else the first repeated value.
fn tensor_number(tensor: &[u8]) -> Result<Option<f64>, ()> {
    let mut dtype = 0;
    let mut content: &[u8] = &[];
    let mut first_float = None;
    let mut first_double = None;
    let mut wire = Wire::new(tensor);
    while let Some(field) = wire.field() {
        match field? {
            (1, Field::Varint(d)) => dtype = d,
            (4, Field::Bytes(bytes)) => content = bytes,
            (5, Field::Fixed32(bytes)) => {
                first_float.get_or_insert(f32::from_le_bytes(bytes));
            }
            (5, Field::Bytes(packed)) => {
                if let Some(bytes) = packed.first_chunk::<4>() {
                    first_float.get_or_insert(f32::from_le_bytes(*bytes));
                }
            }
            (6, Field::Fixed64(bytes)) => {
                first_double.get_or_insert(f64::from_le_bytes(bytes));
            }
            (6, Field::Bytes(packed)) => {
                if let Some(bytes) = packed.first_chunk::<8>() {
                    first_double.get_or_insert(f64::from_le_bytes(*bytes));
                }
            }
            _ => {}
        }
    }
    Ok(match dtype {
        DT_FLOAT => match content.try_into() {
            Ok(bytes) => Some(f64::from(f32::from_le_bytes(bytes))),
            Err(_) => first_float.map(f64::from),
        },
        DT_DOUBLE => match content.try_into() {
            Ok(bytes) => Some(f64::from_le_bytes(bytes)),
            Err(_) => first_double,
        },
        _ => None,
    })
}
