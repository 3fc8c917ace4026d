//! Python's `random.Random(0)`, bit for bit: the Mersenne Twister that
//! TensorBoard's Python loader samples with, so that a reservoir that
//! overflows, and a read asking for fewer points than are kept, keep the
//! very points TensorBoard's own loader keeps.

const N: usize = 624;
const M: usize = 397;

/// CPython's `random.Random`, seeded with an integer.
#[derive(Debug, Clone)]
pub struct PyRandom {
    mt: [u32; N],
    index: usize,
}

impl PyRandom {
    /// `random.Random(seed)` for a non-negative `seed` below 2³² (CPython
    /// seeds through `init_by_array` with the seed's 32-bit words).
    pub fn new(seed: u32) -> Self {
        let mut r = PyRandom {
            mt: [0; N],
            index: N,
        };
        r.init_genrand(19_650_218);
        let key = [seed];
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = r.mt[i - 1] ^ (r.mt[i - 1] >> 30);
            r.mt[i] = (r.mt[i] ^ prev.wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                r.mt[0] = r.mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = r.mt[i - 1] ^ (r.mt[i - 1] >> 30);
            r.mt[i] = (r.mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                r.mt[0] = r.mt[N - 1];
                i = 1;
            }
        }
        r.mt[0] = 0x8000_0000;
        r
    }

    fn init_genrand(&mut self, seed: u32) {
        self.mt[0] = seed;
        for i in 1..N {
            let prev = self.mt[i - 1] ^ (self.mt[i - 1] >> 30);
            self.mt[i] = 1_812_433_253u32.wrapping_mul(prev).wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            for k in 0..N {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % N] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.mt[k] = self.mt[(k + M) % N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `getrandbits(k)` for `k <= 64`: 32-bit words, least significant
    /// first, the last one shifted down to its share of the bits.
    fn getrandbits(&mut self, k: u32) -> u64 {
        let mut result = 0u64;
        let mut left = k;
        let mut shift = 0;
        while left > 0 {
            let mut word = self.next_u32();
            if left < 32 {
                word >>= 32 - left;
            }
            result |= u64::from(word) << shift;
            shift += 32;
            left = left.saturating_sub(32);
        }
        result
    }

    /// `_randbelow(n)`: uniform in `0..n` by rejection (0 for `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `randint(0, high)`.
    pub fn randint(&mut self, high: u64) -> u64 {
        self.below(high + 1)
    }

    /// `sample(range(n), k)` (CPython 3.11's algorithm: a shrinking pool
    /// for small populations, rejection of repeats for large ones).
    pub fn sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        assert!(k <= n, "sample larger than population");
        let mut setsize = 21usize;
        if k > 5 {
            let exponent = ((k * 3) as f64).ln() / 4f64.ln();
            setsize += 4usize.pow(exponent.ceil() as u32);
        }
        let mut result = Vec::with_capacity(k);
        if n <= setsize {
            let mut pool: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = self.below((n - i) as u64) as usize;
                result.push(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        } else {
            let mut selected = std::collections::HashSet::new();
            for _ in 0..k {
                let mut j = self.below(n as u64) as usize;
                while !selected.insert(j) {
                    j = self.below(n as u64) as usize;
                }
                result.push(j);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values printed by CPython 3.11 (`random.Random(0)`).
    #[test]
    fn matches_cpython() {
        let mut r = PyRandom::new(0);
        let words: Vec<u64> = (0..3).map(|_| r.getrandbits(32)).collect();
        assert_eq!(words, [3626764237, 1654615998, 3255389356]);
        let mut r = PyRandom::new(0);
        let ints: Vec<u64> = [10, 1000, 5, 70000, 3]
            .iter()
            .map(|&n| r.randint(n))
            .collect();
        assert_eq!(ints, [6, 776, 3, 5306, 2]);
        assert_eq!(PyRandom::new(0).sample(100, 5), [49, 97, 53, 5, 33]);
        assert_eq!(
            PyRandom::new(0).sample(59, 49)[..8],
            [54, 24, 48, 26, 2, 16, 32, 31]
        );
        assert_eq!(
            PyRandom::new(0).sample(5000, 9),
            [3155, 3445, 331, 2121, 4188, 3980, 3317, 2484, 3904]
        );
    }
}
