//! `(name, value)` pairs as slices, arrays and maps yield them, for the
//! methods that take several named values in one call
//! ([`crate::summary::SummaryWriter::add_scalars`] and
//! [`crate::summary::SummaryWriter::add_hparams`]).
//!
//! Iterating `&[(K, V)]` yields `&(K, V)`, a `HashMap<K, V>` or
//! `BTreeMap<K, V>` by value yields `(K, V)`, and `&HashMap<K, V>` yields
//! `(&K, &V)`; these traits accept all three, so a caller passes whatever
//! collection it already has.

use super::hparams::HParamValue;
use super::inputs::Scalar;

/// A named scalar: `(name, value)` or `&(name, value)` with a name that is
/// `AsRef<str>` (`&str`, `String`, `&String`) and a [`Scalar`] value (any
/// number, or a reference to one).
///
/// ```
/// use std::collections::{BTreeMap, HashMap};
/// use tbseg::summary::SummaryWriter;
/// # let writer = SummaryWriter::builder(std::env::temp_dir().join(format!("tbseg-pairs-{}", std::process::id()))).build()?;
/// writer.add_scalars("loss", &[("train", 0.5), ("eval", 0.7)], 1)?;
/// let by_name: HashMap<String, f32> = HashMap::from([("train".into(), 0.4)]);
/// writer.add_scalars("loss", &by_name, 2)?;
/// writer.add_scalars("loss", BTreeMap::from([("eval", 0.6f64)]), 2)?;
/// # writer.close()?;
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
pub trait ScalarPair {
    /// The value's type.
    type Value: Scalar;

    /// The name.
    fn name(&self) -> &str;

    /// The value.
    fn value(&self) -> Self::Value;
}

impl<K: AsRef<str>, V: Scalar> ScalarPair for (K, V) {
    type Value = V;

    fn name(&self) -> &str {
        self.0.as_ref()
    }

    fn value(&self) -> V {
        self.1
    }
}

impl<K: AsRef<str>, V: Scalar> ScalarPair for &(K, V) {
    type Value = V;

    fn name(&self) -> &str {
        self.0.as_ref()
    }

    fn value(&self) -> V {
        self.1
    }
}

/// No metrics, for [`crate::summary::SummaryWriter::add_hparams`] calls
/// that record hyperparameters only (the metrics are logged later as
/// ordinary scalars): `writer.add_hparams(&config, NO_METRICS, 0)`.
pub const NO_METRICS: [(&str, f32); 0] = [];

/// A named hyperparameter: `(name, value)` with a value that converts
/// into an [`HParamValue`] (a number, a `bool`, a string, or a reference
/// to one, as the values of a `&HashMap` are), or `&(name,
/// HParamValue)`, the items of a slice like `&[("lr", 0.01.into()),
/// ("model", "cnn".into())]`.
///
/// The slice form is fixed to [`HParamValue`] so that `.into()` knows its
/// target; a slice of one plain type (`&[("lr", 0.01)]`) does not
/// compile, pass it by value (`[("lr", 0.01)]`) instead.
pub trait HParamPair {
    /// The name and the value.
    fn into_pair(self) -> (String, HParamValue);
}

impl<K: AsRef<str>, V: Into<HParamValue>> HParamPair for (K, V) {
    fn into_pair(self) -> (String, HParamValue) {
        (self.0.as_ref().to_owned(), self.1.into())
    }
}

impl<K: AsRef<str>> HParamPair for &(K, HParamValue) {
    fn into_pair(self) -> (String, HParamValue) {
        (self.0.as_ref().to_owned(), self.1.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    fn scalars<I>(pairs: I) -> Vec<(String, f64)>
    where
        I: IntoIterator,
        I::Item: ScalarPair,
    {
        pairs
            .into_iter()
            .map(|p| (p.name().to_owned(), p.value().to_f64()))
            .collect()
    }

    fn hparams<I>(pairs: I) -> Vec<(String, HParamValue)>
    where
        I: IntoIterator,
        I::Item: HParamPair,
    {
        pairs.into_iter().map(HParamPair::into_pair).collect()
    }

    #[test]
    fn scalar_pairs_from_slices_arrays_and_maps() {
        let want = vec![("a".to_owned(), 1.0), ("b".to_owned(), 2.0)];
        assert_eq!(scalars(&[("a", 1.0f32), ("b", 2.0)]), want);
        assert_eq!(scalars([("a", 1u8), ("b", 2)]), want);
        let hash: HashMap<String, f64> = HashMap::from([("a".into(), 1.0), ("b".into(), 2.0)]);
        let mut from_ref = scalars(&hash);
        from_ref.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(from_ref, want);
        let tree = BTreeMap::from([("a", 1i64), ("b", 2)]);
        assert_eq!(scalars(&tree), want);
        assert_eq!(scalars(tree), want);
    }

    #[test]
    fn hparam_pairs_from_slices_arrays_and_maps() {
        let got = hparams(&[("lr", 0.01.into()), ("model", "cnn".into())]);
        assert_eq!(
            got,
            [
                ("lr".to_owned(), HParamValue::Float(0.01)),
                ("model".to_owned(), HParamValue::Text("cnn".into()))
            ]
        );
        assert_eq!(
            hparams([("epochs", 20)]),
            [("epochs".to_owned(), HParamValue::Float(20.0))]
        );
        let map: HashMap<String, HParamValue> = HashMap::from([("aug".into(), true.into())]);
        assert_eq!(hparams(&map), [("aug".to_owned(), HParamValue::Bool(true))]);
        let floats = BTreeMap::from([("lr".to_owned(), 0.5f64)]);
        assert_eq!(
            hparams(&floats),
            [("lr".to_owned(), HParamValue::Float(0.5))]
        );
        let names = BTreeMap::from([("opt", "adam".to_owned())]);
        assert_eq!(
            hparams(&names),
            [("opt".to_owned(), HParamValue::Text("adam".into()))]
        );
        assert_eq!(hparams(names).len(), 1);
    }
}
