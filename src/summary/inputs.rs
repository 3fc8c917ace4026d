//! What the `add_*` methods of [`crate::summary::SummaryWriter`] accept:
//! a [`Step`] (the step, and optionally the event's wall time) and
//! [`Scalar`] numbers of any primitive type.

use super::SummaryError;

/// When an event happened: its step and, optionally, its wall time.
///
/// Every `add_*` method takes `impl Into<Step>`, so a plain step of any
/// integer type works (`writer.add_scalar("loss", 0.5, step)` with `step`
/// from `enumerate()`, a `u64` counter or an `i32`), and a wall time can
/// be given to any of them without a second method
/// (`Step::new(10).wall_time(t)`), for example to replay metrics recorded
/// earlier. Without one, the event gets the current time when the `add_*`
/// call is made.
///
/// Steps are stored as `i64`, as in TensorFlow's `Event.step` and
/// everywhere in this crate (the reader, [`crate::checkpoint::Saver`]).
/// Every integer type converts to a `Step`; a value outside `i64`'s range
/// (a `u64` above `i64::MAX`, say) is kept as it is and rejected by the
/// `add_*` call with [`SummaryError::InvalidArgument`] naming the tag and
/// the step, never wrapped to a negative step. So is a wall time that is
/// NaN or negative infinity, which TensorBoard would skip.
///
/// ```
/// use tbseg::summary::{Step, SummaryWriter};
/// # let dir = std::env::temp_dir().join(format!("tbseg-step-{}", std::process::id()));
/// let writer = SummaryWriter::new(&dir)?;
/// for (step, loss) in [0.5, 0.25].into_iter().enumerate() {
///     writer.add_scalar("loss", loss, step)?; // `step` is a usize
/// }
/// writer.add_scalar("loss", 0.125, Step::new(4).wall_time(1.7e9))?;
/// assert!(writer.add_scalar("loss", 0.1, u64::MAX).is_err());
/// # writer.close()?;
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    step: StepValue,
    wall_time: Option<f64>,
}

/// The step as given: in `i64`'s range, or the integer that is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepValue {
    Fits(i64),
    Above(u128),
    Below(i128),
}

impl Step {
    /// `step`, at the time of the `add_*` call.
    pub fn new(step: i64) -> Self {
        Step {
            step: StepValue::Fits(step),
            wall_time: None,
        }
    }

    /// The same step, at `secs` seconds since the Unix epoch.
    pub fn wall_time(self, secs: f64) -> Self {
        Step {
            wall_time: Some(secs),
            ..self
        }
    }

    /// The step as an `i64`; `None` for an integer outside `i64`'s range
    /// (which the `add_*` methods reject).
    pub fn step(&self) -> Option<i64> {
        match self.step {
            StepValue::Fits(step) => Some(step),
            StepValue::Above(_) | StepValue::Below(_) => None,
        }
    }

    /// The wall time given with [`Step::wall_time`], if any.
    pub fn explicit_wall_time(&self) -> Option<f64> {
        self.wall_time
    }

    /// The step and the wall time (`now()` when none was given) to write
    /// under `tag`, or the `InvalidArgument` naming what is wrong.
    pub(crate) fn resolve(
        self,
        tag: &str,
        now: impl FnOnce() -> f64,
    ) -> Result<(i64, f64), SummaryError> {
        let invalid = |what, reason| SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what,
            reason,
        };
        let step = match self.step {
            StepValue::Fits(step) => step,
            StepValue::Above(step) => {
                return Err(invalid(
                    "step",
                    format!("{step}, expected at most i64::MAX = {}", i64::MAX),
                ))
            }
            StepValue::Below(step) => {
                return Err(invalid(
                    "step",
                    format!("{step}, expected at least i64::MIN = {}", i64::MIN),
                ))
            }
        };
        let wall_time = match self.wall_time {
            None => now(),
            Some(secs) if secs.is_nan() || secs == f64::NEG_INFINITY => {
                return Err(invalid(
                    "wall time",
                    format!("{secs} at step {step}, expected seconds since the Unix epoch"),
                ))
            }
            Some(secs) => secs,
        };
        Ok((step, wall_time))
    }
}

/// Integers that always fit in an `i64`.
macro_rules! step_from_lossless {
    ($($t:ty),*) => {$(
        impl From<$t> for Step {
            fn from(step: $t) -> Self {
                Step::new(i64::from(step))
            }
        }
    )*};
}
step_from_lossless!(i64, i32, i16, i8, u32, u16, u8);

/// Integers that may lie outside `i64`'s range: kept as they are (as an
/// `i128`, which holds every value of `u64`, `usize`, `isize` and `i128`,
/// or a `u128`), for the `add_*` call to reject.
macro_rules! step_from_wide {
    ($($t:ty),*) => {$(
        impl From<$t> for Step {
            fn from(step: $t) -> Self {
                Step::from(step as i128)
            }
        }
    )*};
}
step_from_wide!(u64, usize, isize);

impl From<i128> for Step {
    fn from(step: i128) -> Self {
        let step = match i64::try_from(step) {
            Ok(step) => StepValue::Fits(step),
            Err(_) if step > 0 => StepValue::Above(step.unsigned_abs()),
            Err(_) => StepValue::Below(step),
        };
        Step {
            step,
            wall_time: None,
        }
    }
}

impl From<u128> for Step {
    fn from(step: u128) -> Self {
        match i128::try_from(step) {
            Ok(step) => Step::from(step),
            Err(_) => Step {
                step: StepValue::Above(step),
                wall_time: None,
            },
        }
    }
}

/// A number that can be logged as a scalar or a histogram sample: every
/// primitive integer and float type, [`Double`], and references to them
/// (so the values of a `&HashMap<String, f32>` work as they come).
///
/// Scalars are stored as 32-bit floats (`DT_FLOAT`), as
/// `tf.summary.scalar` and PyTorch's writer store them, except
/// [`Double`]s, which are stored as 64-bit floats (`DT_DOUBLE`). Why not
/// every `f64`: TensorBoard 2.21's default loader (the Rust data server,
/// `--load_fast=true`) drops `DT_DOUBLE` scalars, so a plain `f64` would
/// vanish from the dashboard; only its Python loader
/// (`--load_fast=false`, `EventAccumulator`, tbparse) and
/// [`crate::reader`] read them (checked against the real server by
/// `scripts/conformance/check_torch_style.py`). Histogram samples are
/// bucketed as `f64`.
///
/// Implement it for your own number types (a half-precision float) with
/// [`Scalar::to_f64`].
pub trait Scalar: Copy {
    /// Whether scalar summaries store this type as a 64-bit float
    /// (`DT_DOUBLE`); false (`DT_FLOAT`) by default, true for [`Double`].
    const STORED_AS_DOUBLE: bool = false;

    /// Whether `f32` holds every value of this type exactly (`f32`, the
    /// 8- and 16-bit integers). Computations that follow numpy's dtype
    /// rules, such as PR-curve bucketing, run in `f32` for such types and
    /// in `f64` for the others. True by default.
    const EXACT_IN_F32: bool = true;

    /// The value as an `f64` (integers above 2^53 are rounded).
    fn to_f64(self) -> f64;

    /// The value as an `f32`, the type `DT_FLOAT` scalar summaries store.
    fn to_f32(self) -> f32 {
        self.to_f64() as f32
    }
}

impl<T: Scalar> Scalar for &T {
    const STORED_AS_DOUBLE: bool = T::STORED_AS_DOUBLE;
    const EXACT_IN_F32: bool = T::EXACT_IN_F32;

    fn to_f64(self) -> f64 {
        (*self).to_f64()
    }

    fn to_f32(self) -> f32 {
        (*self).to_f32()
    }
}

impl Scalar for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn to_f32(self) -> f32 {
        self
    }
}

macro_rules! scalar_as {
    ($exact:literal: $($t:ty),*) => {$(
        impl Scalar for $t {
            const EXACT_IN_F32: bool = $exact;

            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
scalar_as!(true: i8, i16, u8, u16);
scalar_as!(false: f64, i32, i64, i128, isize, u32, u64, u128, usize);

/// A scalar stored at double precision (`DT_DOUBLE`), as PyTorch's
/// `add_scalar(..., double_precision=True)` stores it: `1e300` stays
/// `1e300` and `0.1` stays the `f64` `0.1`, where a plain `f64` is
/// narrowed to `f32` (`1e300` becomes infinity).
///
/// Mind where it is read: TensorBoard's Python loader
/// (`--load_fast=false`), `EventAccumulator`, tbparse and
/// [`crate::reader`] read it; TensorBoard 2.21's default Rust loader
/// (`--load_fast=true`) drops `DT_DOUBLE` scalars, so the tag shows no
/// points there (see [`Scalar`]).
///
/// ```
/// use tbseg::summary::{Double, SummaryWriter};
/// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
/// writer.add_scalar("energy", Double(1e300), 0)?;
/// writer.add_scalar("lr", Double::from(1e-3), 0)?;
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Double(pub f64);

impl Scalar for Double {
    const STORED_AS_DOUBLE: bool = true;
    const EXACT_IN_F32: bool = false;

    fn to_f64(self) -> f64 {
        self.0
    }
}

impl From<f64> for Double {
    fn from(v: f64) -> Self {
        Double(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_convert_from_integers_and_take_a_wall_time() {
        assert_eq!(Step::from(7u8), Step::new(7));
        assert_eq!(Step::from(u32::MAX).step(), Some(i64::from(u32::MAX)));
        assert_eq!(Step::from(-3i64).explicit_wall_time(), None);
        assert_eq!(Step::new(2).wall_time(5.5).explicit_wall_time(), Some(5.5));
        assert_eq!(Step::from(9usize), Step::new(9));
        assert_eq!(Step::from(9u64), Step::new(9));
        assert_eq!(Step::from(-9isize), Step::new(-9));
        assert_eq!(Step::from(9u128), Step::new(9));
        assert_eq!(Step::from(-9i128), Step::new(-9));
        assert_eq!(Step::from(i64::MAX as u64).step(), Some(i64::MAX));
    }

    #[test]
    fn steps_outside_i64_are_kept_and_rejected_when_written() {
        let now = || 1.0;
        for (step, text) in [
            (Step::from(i64::MAX as u64 + 1), "9223372036854775808"),
            (Step::from(usize::MAX), "18446744073709551615"),
            (
                Step::from(u128::MAX),
                "340282366920938463463374607431768211455",
            ),
            (
                Step::from(i128::MIN),
                "-170141183460469231731687303715884105728",
            ),
            (Step::from(i128::from(i64::MIN) - 1), "-9223372036854775809"),
        ] {
            assert_eq!(step.step(), None);
            let err = step.resolve("loss", now).unwrap_err();
            assert!(
                matches!(&err, SummaryError::InvalidArgument { tag, what: "step", reason }
                    if tag == "loss" && reason.starts_with(text)),
                "{err}"
            );
        }
        assert_eq!(
            Step::from(i64::MIN).resolve("t", now).unwrap(),
            (i64::MIN, 1.0)
        );
    }

    #[test]
    fn nan_and_negative_infinite_wall_times_are_rejected() {
        for secs in [f64::NAN, f64::NEG_INFINITY] {
            let err = Step::new(3)
                .wall_time(secs)
                .resolve("wt", || 0.0)
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid wall time for summary \"wt\": {secs} at step 3, \
                     expected seconds since the Unix epoch"
                )
            );
        }
        assert_eq!(
            Step::new(3).wall_time(-1.5).resolve("wt", || 0.0).unwrap(),
            (3, -1.5)
        );
        assert_eq!(Step::new(3).resolve("wt", || 7.0).unwrap(), (3, 7.0));
    }

    #[test]
    fn scalars_of_every_type() {
        assert_eq!(0.1f32.to_f32(), 0.1f32);
        assert_eq!(0.1f64.to_f32(), 0.1f32);
        assert_eq!(3u8.to_f64(), 3.0);
        assert_eq!((-9i64).to_f32(), -9.0);
        assert_eq!(usize::MAX.to_f64(), 18446744073709551615.0);
        assert!(f64::NAN.to_f32().is_nan());
    }

    fn stored_as_double<T: Scalar>(_: T) -> bool {
        T::STORED_AS_DOUBLE
    }

    fn exact_in_f32<T: Scalar>(_: T) -> bool {
        T::EXACT_IN_F32
    }

    #[test]
    fn only_doubles_are_stored_as_doubles() {
        assert!(!stored_as_double(0.5f32));
        assert!(!stored_as_double(0.5f64));
        assert!(!stored_as_double(3usize));
        assert!(stored_as_double(Double(0.5)));
        let by_ref = &Double(0.5);
        assert!(stored_as_double(by_ref));
        assert_eq!(Double(1e300).to_f64(), 1e300);
        assert_eq!(Double::from(0.1).to_f32(), 0.1f32);
        assert_eq!((&&2.5f64).to_f64(), 2.5);
    }

    #[test]
    fn types_f32_holds_exactly() {
        assert!(exact_in_f32(0.5f32));
        assert!(exact_in_f32(7u8));
        let by_ref = &-7i16;
        assert!(exact_in_f32(by_ref));
        assert!(!exact_in_f32(0.5f64));
        assert!(!exact_in_f32(1i32 << 30));
        assert!(!exact_in_f32(Double(0.5)));
    }
}
