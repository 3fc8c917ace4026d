//! How many points of each time series are kept: TensorBoard's reservoir
//! sampling, with its per-plugin sizes and `--samples_per_plugin`.

use std::collections::BTreeMap;
use std::fmt;

use crate::pyrandom::PyRandom;

/// Points kept per time series, by plugin name.
///
/// The defaults are those of TensorBoard 2.21's own loader
/// (`DEFAULT_TENSOR_SIZE_GUIDANCE` and `DEFAULT_SIZE_GUIDANCE` in
/// `tensorboard/backend/event_processing/data_ingester.py`): scalars 1000,
/// images 10, audio 10, histograms 500, PR curves 100, anything else 10.
/// A size of 0 keeps every point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplesPerPlugin {
    sizes: BTreeMap<String, usize>,
}

/// Points kept for a plugin that has no size of its own.
const DEFAULT_SIZE: usize = 10;

impl Default for SamplesPerPlugin {
    fn default() -> Self {
        let sizes = [
            ("scalars", 1000),
            ("images", 10),
            ("audio", 10),
            ("histograms", 500),
            ("pr_curves", 100),
        ];
        SamplesPerPlugin {
            sizes: sizes.iter().map(|&(k, v)| (k.to_owned(), v)).collect(),
        }
    }
}

impl SamplesPerPlugin {
    /// The defaults overridden by `spec`, TensorBoard's
    /// `--samples_per_plugin` syntax: `scalars=500,images=0` (0 keeps all;
    /// `all` is accepted as a synonym, as RustBoard does).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut sampling = SamplesPerPlugin::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (plugin, size) = part
                .split_once('=')
                .ok_or_else(|| format!("--samples_per_plugin: `{part}` is not PLUGIN=COUNT"))?;
            let size = match size.trim() {
                "all" => 0,
                n => n.parse().map_err(|_| {
                    format!("--samples_per_plugin: `{part}`: expected a count or `all`")
                })?,
            };
            sampling.sizes.insert(plugin.trim().to_owned(), size);
        }
        Ok(sampling)
    }

    /// Points kept per time series of `plugin` (0: all).
    pub fn size(&self, plugin: &str) -> usize {
        self.sizes.get(plugin).copied().unwrap_or(DEFAULT_SIZE)
    }
}

impl fmt::Display for SamplesPerPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.sizes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// A reservoir sample of one time series, the way TensorBoard's
/// `reservoir.ReservoirBucket` keeps one: every point while there is room,
/// then the new point replaces a random kept one with probability
/// `size / seen`, and otherwise replaces the last one, so the latest point
/// is always kept. Points stay in arrival order.
#[derive(Debug, Clone)]
pub struct Reservoir<T> {
    size: usize,
    seen: u64,
    items: Vec<T>,
    rng: PyRandom,
}

impl<T> Reservoir<T> {
    /// An empty reservoir keeping `size` points (0: all). The random
    /// stream is TensorBoard's (`random.Random(0)`), so the same logs keep
    /// the same points as in TensorBoard's own loader.
    pub fn new(size: usize) -> Self {
        Reservoir {
            size,
            seen: 0,
            items: Vec::new(),
            rng: PyRandom::new(0),
        }
    }

    /// Offers one point.
    pub fn push(&mut self, item: T) {
        if self.size == 0 || self.items.len() < self.size {
            self.items.push(item);
        } else {
            let r = self.rng.randint(self.seen);
            if r < self.size as u64 {
                self.items.remove(r as usize);
                self.items.push(item);
            } else if let Some(last) = self.items.last_mut() {
                *last = item;
            }
        }
        self.seen += 1;
    }

    /// Keeps only the points `keep` accepts, and scales the count of points
    /// seen by the share kept, as TensorBoard does on a purge. Returns how
    /// many went.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) -> usize {
        let before = self.items.len();
        self.items.retain(keep);
        let after = self.items.len();
        if before > 0 {
            self.seen = (self.seen as f64 * after as f64 / before as f64).round() as u64;
        } else {
            self.seen = 0;
        }
        before - after
    }

    /// The kept points, oldest first.
    pub fn items(&self) -> &[T] {
        &self.items
    }
}

/// At most `n` of `items` in order, always with the last one, the others
/// chosen as TensorBoard's Python data provider chooses them
/// (`_downsample`: `random.Random(0).sample` of the indices before the
/// last), so a read asking for fewer points than are kept returns the
/// same points as TensorBoard's own loader.
pub fn downsample<T>(items: &[T], n: usize) -> Vec<&T> {
    if n > items.len() {
        return items.iter().collect();
    }
    if n == 0 {
        return Vec::new();
    }
    let mut indices = PyRandom::new(0).sample(items.len() - 1, n - 1);
    indices.sort_unstable();
    indices.push(items.len() - 1);
    indices.into_iter().map(|i| &items[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_below_its_size_in_order() {
        let mut r = Reservoir::new(5);
        (0..5).for_each(|i| r.push(i));
        assert_eq!(r.items(), &[0, 1, 2, 3, 4]);
    }

    #[test]
    fn bounded_sample_stays_sorted_and_keeps_the_last() {
        let mut r = Reservoir::new(10);
        for i in 0..10_000 {
            r.push(i);
            assert_eq!(*r.items().last().unwrap(), i);
        }
        assert_eq!(r.items().len(), 10);
        assert!(r.items().windows(2).all(|w| w[0] < w[1]));
        // Not simply the first nine: sampling reached into the run.
        assert!(r.items()[8] > 100);
    }

    #[test]
    fn size_zero_keeps_all() {
        let mut r = Reservoir::new(0);
        (0..3000).for_each(|i| r.push(i));
        assert_eq!(r.items().len(), 3000);
    }

    #[test]
    fn retain_drops_and_rescales() {
        let mut r = Reservoir::new(0);
        (0..10).for_each(|i| r.push(i));
        assert_eq!(r.retain(|&i| i < 4), 6);
        assert_eq!(r.items(), &[0, 1, 2, 3]);
        assert_eq!(r.seen, 4);
    }

    #[test]
    fn samples_per_plugin_defaults_and_overrides() {
        let d = SamplesPerPlugin::default();
        assert_eq!(
            [
                d.size("scalars"),
                d.size("images"),
                d.size("histograms"),
                d.size("text")
            ],
            [1000, 10, 500, 10]
        );
        let s = SamplesPerPlugin::parse("scalars=5, images=all,text=3").unwrap();
        assert_eq!(
            [s.size("scalars"), s.size("images"), s.size("text")],
            [5, 0, 3]
        );
        assert!(SamplesPerPlugin::parse("scalars")
            .unwrap_err()
            .contains("`scalars`"));
        assert!(SamplesPerPlugin::parse("scalars=x").is_err());
    }

    #[test]
    fn downsample_is_tensorboards_and_keeps_the_last() {
        let v: Vec<i32> = (0..101).collect();
        let d: Vec<i32> = downsample(&v, 6).into_iter().copied().collect();
        // sorted(random.Random(0).sample(range(100), 5)) + [100]
        assert_eq!(d, [5, 33, 49, 53, 97, 100]);
        assert_eq!(downsample(&v, 0).len(), 0);
        assert_eq!(downsample(&v, 1), [&100]);
        assert_eq!(downsample(&v, 200).len(), 101);
    }
}
