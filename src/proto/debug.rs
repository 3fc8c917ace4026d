//! `Debug` for the enum-typed fields of the generated messages: such a
//! field is an `i32` (so unknown values survive), and is shown by its
//! variant name when it has one (`dtype: DtFloat`), else as the number,
//! as prost's derived `Debug` showed it.

use std::fmt;
use std::marker::PhantomData;

/// One enum field (a proto3 `optional` one is shown as
/// `Option<EnumValue>`).
pub(crate) struct EnumValue<E>(i32, PhantomData<E>);

impl<E> EnumValue<E> {
    pub(crate) fn new(value: i32) -> Self {
        Self(value, PhantomData)
    }
}

impl<E: TryFrom<i32> + fmt::Debug> fmt::Debug for EnumValue<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match E::try_from(self.0) {
            Ok(known) => known.fmt(f),
            Err(_) => self.0.fmt(f),
        }
    }
}

/// A repeated enum field.
pub(crate) struct EnumValues<'a, E>(&'a [i32], PhantomData<E>);

impl<'a, E> EnumValues<'a, E> {
    pub(crate) fn new(values: &'a [i32]) -> Self {
        Self(values, PhantomData)
    }
}

impl<E: TryFrom<i32> + fmt::Debug> fmt::Debug for EnumValues<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|&v| EnumValue::<E>::new(v)))
            .finish()
    }
}
