//! The learning-rate schedule and the order in which training examples are
//! consumed.

use rand::seq::SliceRandom;
use rand::SeedableRng;

/// `tf.train.exponential_decay(lr0, step, decay_steps, rate, staircase=True)`:
/// `lr0 · rate^floor(step / decay_steps)`. The rate of step `s` uses the
/// global step before that step's update, as in the lab.
pub fn staircase_learning_rate(initial: f64, decay_rate: f64, decay_steps: u64, step: u64) -> f64 {
    let exponent = step / decay_steps.max(1);
    initial * decay_rate.powf(exponent as f64)
}

/// The lab printed the loss, and ran its summary op, every this many steps.
pub const SUMMARY_EVERY: u64 = 100;

/// Where each step's examples come from.
///
/// The examples of all epochs form one stream: epoch `e` is a permutation
/// of the file seeded by `(seed, e)`, so a resumed run sees the same order.
/// Every [`SUMMARY_EVERY`] steps (step 0 included) the lab's summary op
/// re-ran the input pipeline and consumed one extra batch that was never
/// trained on; tbseg reproduces that (it computes the logged loss on that
/// batch, as the lab's summary did), which is why one epoch of the lab's
/// 234 training images is 231 steps and 30 epochs are 6950.
#[derive(Clone, Debug)]
pub struct ExampleStream {
    order: Vec<usize>,
    batch_size: usize,
}

impl ExampleStream {
    /// The stream for `examples` images, `epochs` passes, `batch_size` per step.
    pub fn new(examples: usize, epochs: u64, batch_size: usize, seed: u64) -> ExampleStream {
        let mut order = Vec::with_capacity(examples * epochs as usize);
        for epoch in 0..epochs {
            let mut rng =
                rand::rngs::StdRng::seed_from_u64(seed ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut permutation: Vec<usize> = (0..examples).collect();
            permutation.shuffle(&mut rng);
            order.extend(permutation);
        }
        ExampleStream {
            order,
            batch_size: batch_size.max(1),
        }
    }

    /// Stream position of the first training example of `step`.
    fn train_position(&self, step: u64) -> usize {
        let summaries_before = step.div_ceil(SUMMARY_EVERY);
        (step + summaries_before) as usize * self.batch_size
    }

    fn slice(&self, position: usize) -> Option<&[usize]> {
        self.order.get(position..position + self.batch_size)
    }

    /// The example indices `step` trains on, or `None` when the stream
    /// cannot supply the step (and, on a summary step, its extra batch).
    pub fn train_batch(&self, step: u64) -> Option<&[usize]> {
        let position = self.train_position(step);
        let batch = self.slice(position)?;
        if step % SUMMARY_EVERY == 0 {
            self.slice(position + self.batch_size)?;
        }
        Some(batch)
    }

    /// The extra batch the summary of `step` consumes (summary steps only).
    pub fn summary_batch(&self, step: u64) -> Option<&[usize]> {
        if step % SUMMARY_EVERY != 0 {
            return None;
        }
        self.slice(self.train_position(step) + self.batch_size)
    }

    /// How many steps the stream supplies (the lab's "Done training for
    /// E epochs, S steps").
    pub fn step_count(&self) -> u64 {
        // Each step consumes at least one batch, so this bound is safe.
        let upper = (self.order.len() / self.batch_size) as u64;
        let mut low = 0;
        let mut high = upper + 1;
        // train_batch(s) is monotone: available up to some step, then never.
        while low < high {
            let mid = (low + high) / 2;
            if self.train_batch(mid).is_some() {
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
    }

    #[test]
    fn every_epoch_is_a_permutation_and_batches_do_not_overlap() {
        let stream = ExampleStream::new(10, 3, 2, 7);
        for epoch in stream.order.chunks(10) {
            let mut sorted = epoch.to_vec();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        }
        assert_ne!(
            stream.order[..10],
            stream.order[10..20],
            "each epoch reshuffles"
        );
        // Step 0 trains on positions 0..2, its summary takes 2..4, step 1 4..6.
        assert_eq!(stream.train_batch(0), Some(&stream.order[0..2]));
        assert_eq!(stream.summary_batch(0), Some(&stream.order[2..4]));
        assert_eq!(stream.train_batch(1), Some(&stream.order[4..6]));
        assert_eq!(stream.summary_batch(1), None);
        assert_eq!(stream.step_count(), 14);
        let same = ExampleStream::new(10, 3, 2, 7);
        assert_eq!(same.order, stream.order, "seeded");
    }
}
