//! The learning-rate schedule and the order in which training examples are
//! consumed.

use rand::seq::SliceRandom;
use rand::SeedableRng;

/// `tf.train.exponential_decay(lr0, step, decay_steps, rate, staircase=True)`:
/// `lr0 · rate^floor(step / decay_steps)`. The rate of step `s` uses the
/// global step before that step's update, as in the lab.
pub fn staircase_learning_rate(initial: f64, decay_rate: f64, decay_steps: i64, step: i64) -> f64 {
    let exponent = step.max(0) / decay_steps.max(1);
    initial * decay_rate.powf(exponent as f64)
}

/// The lab printed the loss, and ran its summary op, every this many steps.
pub const SUMMARY_EVERY: i64 = 100;

/// Where each step's examples come from.
///
/// The examples of all epochs form one stream: epoch `e` is a permutation
/// of the file seeded by `(seed, e)` alone, so a resumed run sees the same
/// order. Only the epochs a step touches are shuffled, when it asks for
/// them, so a huge `--num_epochs` costs no memory up front. Every
/// [`SUMMARY_EVERY`] steps (step 0 included) the lab's summary op re-ran the
/// input pipeline and consumed one extra batch that was never trained on;
/// tbseg reproduces that (it computes the logged loss on that batch, as the
/// lab's summary did), which is why one epoch of the lab's 234 training
/// images is 231 steps and 30 epochs are 6950.
#[derive(Clone, Debug)]
pub struct ExampleStream {
    examples: u64,
    /// Stream length: `examples · epochs`, saturated at `u64::MAX`.
    total: u64,
    batch_size: u64,
    seed: u64,
    summary_every: u64,
    /// The most recently shuffled epoch and its permutation.
    cached: Option<(u64, Vec<usize>)>,
}

impl ExampleStream {
    /// The stream for `examples` images, `epochs` passes, `batch_size` per step.
    pub fn new(examples: usize, epochs: u64, batch_size: usize, seed: u64) -> ExampleStream {
        ExampleStream {
            examples: examples as u64,
            total: (examples as u64).saturating_mul(epochs),
            batch_size: batch_size.max(1) as u64,
            seed,
            summary_every: SUMMARY_EVERY as u64,
            cached: None,
        }
    }

    /// The same stream with the summary op (and its extra batch) every
    /// `steps` steps instead of the lab's [`SUMMARY_EVERY`] (at least 1).
    pub fn with_summary_every(mut self, steps: i64) -> ExampleStream {
        self.summary_every = steps.max(1) as u64;
        self
    }

    fn is_summary_step(&self, step: i64) -> bool {
        step as u64 % self.summary_every == 0
    }

    /// The shuffle of `epoch`: a function of `(seed, epoch)` only.
    pub fn epoch_order(examples: usize, seed: u64, epoch: u64) -> Vec<usize> {
        let mut rng =
            rand::rngs::StdRng::seed_from_u64(seed ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut permutation: Vec<usize> = (0..examples).collect();
        permutation.shuffle(&mut rng);
        permutation
    }

    /// The example at stream `position` (which must be below `total`).
    fn example_at(&mut self, position: u64) -> usize {
        let epoch = position / self.examples;
        let within = (position % self.examples) as usize;
        match &self.cached {
            Some((cached, order)) if *cached == epoch => order[within],
            _ => {
                let order = Self::epoch_order(self.examples as usize, self.seed, epoch);
                let example = order[within];
                self.cached = Some((epoch, order));
                example
            }
        }
    }

    /// Stream position of the first training example of `step`, or `None`
    /// when it does not fit in a `u64`.
    fn train_position(&self, step: i64) -> Option<u64> {
        let step = u64::try_from(step).ok()?;
        let summaries_before = step.div_ceil(self.summary_every);
        step.checked_add(summaries_before)?
            .checked_mul(self.batch_size)
    }

    /// Whether the stream holds `step`'s batch (and, on a summary step, its
    /// extra batch).
    fn supplies(&self, step: i64) -> bool {
        let Some(start) = self.train_position(step) else {
            return false;
        };
        let batches = if self.is_summary_step(step) { 2 } else { 1 };
        start
            .checked_add(batches * self.batch_size)
            .is_some_and(|end| end <= self.total)
    }

    fn batch_at(&mut self, position: u64) -> Vec<usize> {
        (position..position + self.batch_size)
            .map(|p| self.example_at(p))
            .collect()
    }

    /// The example indices `step` trains on, or `None` when the stream
    /// cannot supply the step (and, on a summary step, its extra batch).
    pub fn train_batch(&mut self, step: i64) -> Option<Vec<usize>> {
        if !self.supplies(step) {
            return None;
        }
        let position = self.train_position(step)?;
        Some(self.batch_at(position))
    }

    /// The extra batch the summary of `step` consumes (summary steps only).
    pub fn summary_batch(&mut self, step: i64) -> Option<Vec<usize>> {
        if !self.is_summary_step(step) || !self.supplies(step) {
            return None;
        }
        let position = self.train_position(step)? + self.batch_size;
        Some(self.batch_at(position))
    }

    /// How many steps the stream supplies (the lab's "Done training for
    /// E epochs, S steps"), at most `i64::MAX`.
    pub fn step_count(&self) -> i64 {
        // Each step consumes at least one batch, so this bound is safe.
        let upper = i64::try_from(self.total / self.batch_size).unwrap_or(i64::MAX - 1);
        let mut low = 0;
        let mut high = upper + 1;
        // supplies(s) is monotone: true up to some step, then never.
        while low < high {
            let mid = low + (high - low) / 2;
            if self.supplies(mid) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staircase_holds_then_drops() {
        let lr = |step| staircase_learning_rate(0.03, 0.75, 10_000, step);
        assert_eq!(lr(0), 0.03);
        assert_eq!(lr(9_999), 0.03);
        assert!((lr(10_000) - 0.0225).abs() < 1e-12);
        assert!((lr(25_000) - 0.03 * 0.75 * 0.75).abs() < 1e-12);
        assert_eq!(staircase_learning_rate(0.01, 1.0, 1000, 123_456), 0.01);
    }

    #[test]
    fn step_counts_match_the_lab() {
        // Printed by the lab (1 and 30 epochs) or simulated from its loop
        // (100 epochs) for the 234 training images at batch size 1.
        assert_eq!(ExampleStream::new(234, 1, 1, 0).step_count(), 231);
        assert_eq!(ExampleStream::new(234, 30, 1, 0).step_count(), 6950);
        assert_eq!(ExampleStream::new(234, 100, 1, 0).step_count(), 23168);
        assert_eq!(ExampleStream::new(0, 5, 1, 0).step_count(), 0);
        assert_eq!(ExampleStream::new(1, 1, 1, 0).step_count(), 0);
        assert_eq!(ExampleStream::new(2, 1, 1, 0).step_count(), 1);
        // A summary every 2 steps: steps 0, 2, 4 take two batches each.
        let mut often = ExampleStream::new(8, 1, 1, 0).with_summary_every(2);
        assert_eq!(often.step_count(), 5);
        assert!(often.summary_batch(2).is_some() && often.summary_batch(3).is_none());
    }

    #[test]
    fn every_epoch_is_a_permutation_and_batches_do_not_overlap() {
        let mut stream = ExampleStream::new(10, 3, 2, 7);
        let order: Vec<usize> = (0..3)
            .flat_map(|epoch| ExampleStream::epoch_order(10, 7, epoch))
            .collect();
        for epoch in order.chunks(10) {
            let mut sorted = epoch.to_vec();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        }
        assert_ne!(order[..10], order[10..20], "each epoch reshuffles");
        // Step 0 trains on positions 0..2, its summary takes 2..4, step 1 4..6.
        assert_eq!(stream.train_batch(0).unwrap(), order[0..2]);
        assert_eq!(stream.summary_batch(0).unwrap(), order[2..4]);
        assert_eq!(stream.train_batch(1).unwrap(), order[4..6]);
        assert_eq!(stream.summary_batch(1), None);
        // Step 4 spans the first two epochs (positions 10..12 are epoch 1).
        assert_eq!(stream.train_batch(4).unwrap(), order[10..12]);
        assert_eq!(stream.step_count(), 14);
        assert_eq!(stream.train_batch(13).unwrap(), order[28..30]);
        assert_eq!(stream.train_batch(14), None);
    }

    #[test]
    fn a_resumed_stream_hands_out_the_same_batches() {
        let mut whole = ExampleStream::new(7, 4, 3, 11);
        let mut resumed = ExampleStream::new(7, 4, 3, 11);
        let later: Vec<_> = (5..9).map(|s| resumed.train_batch(s)).collect();
        for step in 0..5 {
            whole.train_batch(step);
        }
        let again: Vec<_> = (5..9).map(|s| whole.train_batch(s)).collect();
        assert_eq!(later, again);
    }

    #[test]
    fn a_billion_epochs_allocate_nothing_up_front() {
        let mut stream = ExampleStream::new(234, 1_000_000_000, 1, 0);
        assert!(stream.step_count() > 200_000_000_000);
        assert_eq!(stream.train_batch(0).unwrap().len(), 1);
        // The stream length saturates instead of overflowing.
        let huge = ExampleStream::new(usize::MAX / 2, u64::MAX, 1, 0);
        assert!(huge.step_count() > 0);
    }
}
