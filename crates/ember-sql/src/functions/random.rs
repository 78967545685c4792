//! Spark's random number streams, so that seeded `rand`, `randn`, `uniform`,
//! `randstr` and `sample` give the values Spark gives.
//!
//! Spark seeds one generator per partition with `seed + partitionIndex` and draws
//! from it once per row, in row order (`org.apache.spark.util.random.XORShiftRandom`,
//! a `java.util.Random` whose `next(bits)` is Marsaglia's xorshift, seeded through
//! Scala's `MurmurHash3.bytesHash` of the seed's 8 big-endian bytes). `nextDouble`
//! and `nextGaussian` are `java.util.Random`'s. `uuid(seed)` draws from commons-math3's
//! `MersenneTwister(seed + partitionIndex)` (the reference MT19937).

/// Scala's `MurmurHash3.arraySeed`, the seed of `MurmurHash3.bytesHash(data)`.
const ARRAY_SEED: u32 = 0x3c07_4a61;

fn mix_last(h: u32, k: u32) -> u32 {
    let k = k
        .wrapping_mul(0xcc9e_2d51)
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593);
    h ^ k
}

fn mix(h: u32, k: u32) -> u32 {
    mix_last(h, k)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

/// Scala's `MurmurHash3.bytesHash(data, seed)` (little-endian 4-byte blocks).
fn bytes_hash(data: &[u8], seed: u32) -> u32 {
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        h = mix(h, u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, b) in tail.iter().enumerate() {
            k ^= (*b as u32) << (8 * i);
        }
        h = mix_last(h, k);
    }
    let mut h = h ^ data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// `XORShiftRandom.hashSeed`: both halves of the state from MurmurHash3.
fn hash_seed(seed: i64) -> i64 {
    let bytes = seed.to_be_bytes();
    let low = bytes_hash(&bytes, ARRAY_SEED);
    let high = bytes_hash(&bytes, low);
    (((high as i32) as i64) << 32) | low as i64
}

/// Spark's `XORShiftRandom` with `java.util.Random`'s derived draws.
#[derive(Debug, Clone)]
pub struct XorShiftRandom {
    state: i64,
    next_gaussian: Option<f64>,
}

impl XorShiftRandom {
    /// `new XORShiftRandom(seed)`.
    pub fn new(seed: i64) -> Self {
        XorShiftRandom {
            state: hash_seed(seed),
            next_gaussian: None,
        }
    }

    /// `next(bits)`: the low `bits` bits of the next xorshift state.
    fn next(&mut self, bits: u32) -> i32 {
        let mut s = self.state ^ (self.state << 21);
        s ^= ((s as u64) >> 35) as i64;
        s ^= s << 4;
        self.state = s;
        (s & ((1i64 << bits) - 1)) as i32
    }

    /// `nextInt()`: 32 random bits.
    pub fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `nextInt(bound)`: uniform in [0, bound), `java.util.Random`'s rejection
    /// method (a power of two takes the high bits). `bound` must be positive.
    pub fn next_int_below(&mut self, bound: i32) -> i32 {
        let bound = bound.max(1);
        let m = bound - 1;
        let mut r = self.next(31);
        if bound & m == 0 {
            return ((bound as i64 * r as i64) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }

    /// `nextDouble()`: uniform in [0, 1) with 53 random bits.
    pub fn next_double(&mut self) -> f64 {
        let hi = (self.next(26) as i64) << 27;
        let lo = self.next(27) as i64;
        (hi + lo) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `nextGaussian()`: Marsaglia's polar method, as `java.util.Random` (each pair
    /// of accepted draws yields two values).
    pub fn next_gaussian(&mut self) -> f64 {
        if let Some(g) = self.next_gaussian.take() {
            return g;
        }
        loop {
            let v1 = 2.0 * self.next_double() - 1.0;
            let v2 = 2.0 * self.next_double() - 1.0;
            let s = v1 * v1 + v2 * v2;
            if s < 1.0 && s != 0.0 {
                // StrictMath.log is fdlibm's; the platform's log may differ in the last bit.
                let m = (-2.0 * libm::log(s) / s).sqrt();
                self.next_gaussian = Some(v2 * m);
                return v1 * m;
            }
        }
    }

    /// `randstr`'s characters: `abs(nextInt() % 62)` into `0-9a-zA-Z` (Spark's RandStr).
    pub fn next_string(&mut self, len: usize, out: &mut String) {
        const POOL: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for _ in 0..len {
            let v = (self.next_int() % 62).unsigned_abs() as usize;
            out.push(POOL[v] as char);
        }
    }
}

/// commons-math3's `new MersenneTwister(seed)`: MT19937 initialised by array from the
/// seed's high and low 32-bit halves.
pub fn mersenne_twister(seed: i64) -> rand_mt::Mt {
    let s = seed as u64;
    rand_mt::Mt::new_with_key([(s >> 32) as u32, s as u32])
}

/// The next UUID of Spark's `RandomUUIDGenerator`: two `nextLong()`s (high word
/// first) with the version-4 and IETF variant bits set, in the canonical text form.
pub fn next_uuid(mt: &mut rand_mt::Mt) -> String {
    let mut next_long = || ((mt.next_u32() as u64) << 32) | mt.next_u32() as u64;
    let most = (next_long() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let least = (next_long() | 0x8000_0000_0000_0000) & 0xBFFF_FFFF_FFFF_FFFF;
    uuid::Uuid::from_u64_pair(most, least).to_string()
}

/// `RandomIndicesGenerator.getNextIndices(n)`: a permutation of `0..n` by the
/// inside-out Fisher-Yates algorithm with commons-math3's `nextInt(bound)`.
pub fn next_indices(mt: &mut rand_mt::Mt, n: usize) -> Vec<usize> {
    let mut idx = vec![0usize; n];
    for i in 0..n {
        let j = next_int_below(mt, (i + 1) as u32) as usize;
        if j != i {
            idx[i] = idx[j];
        }
        idx[j] = i;
    }
    idx
}

/// commons-math3's `BitsStreamGenerator.nextInt(bound)` (`next(31)` is the top 31 bits).
fn next_int_below(mt: &mut rand_mt::Mt, bound: u32) -> u32 {
    if bound & bound.wrapping_neg() == bound {
        return ((bound as u64 * (mt.next_u32() >> 1) as u64) >> 31) as u32;
    }
    loop {
        let bits = mt.next_u32() >> 1;
        let val = bits % bound;
        if (bits - val) as i64 + (bound as i64 - 1) < (1i64 << 31) {
            return val;
        }
    }
}

/// `java.util.Random`'s 48-bit linear congruential generator (only `nextLong`, which
/// Spark uses to derive per-partition seeds of `sample(withReplacement = true)`).
#[derive(Debug, Clone)]
pub struct JavaRandom(u64);

impl JavaRandom {
    const MULT: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    /// `new java.util.Random(seed)`.
    pub fn new(seed: i64) -> Self {
        JavaRandom((seed as u64 ^ Self::MULT) & Self::MASK)
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.0 = (self.0.wrapping_mul(Self::MULT).wrapping_add(0xB)) & Self::MASK;
        (self.0 >> (48 - bits)) as i32
    }

    /// `nextLong()`.
    pub fn next_long(&mut self) -> i64 {
        ((self.next(32) as i64) << 32).wrapping_add(self.next(32) as i64)
    }
}

/// commons-math3's `Well19937c` generator (the default generator of its
/// `PoissonDistribution`, which Spark's `PoissonSampler` draws from).
#[derive(Clone)]
pub struct Well19937c {
    v: Box<[u32; 624]>,
    index: usize,
}

impl std::fmt::Debug for Well19937c {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Well19937c(index={})", self.index)
    }
}

impl Well19937c {
    const R: usize = 624;

    /// `new Well19937c()` then `setSeed(seed)`: the state from the seed's high and
    /// low 32-bit halves, extended as `AbstractWell.setSeed(int[])` does.
    pub fn new(seed: i64) -> Self {
        let mut v = Box::new([0u32; 624]);
        v[0] = ((seed as u64) >> 32) as u32;
        v[1] = seed as u32;
        for i in 2..Self::R {
            let l = v[i - 2] as i32 as i64;
            v[i] = (1_812_433_253i64
                .wrapping_mul(l ^ (l >> 30))
                .wrapping_add(i as i64)) as u32;
        }
        Well19937c { v, index: 0 }
    }

    fn next(&mut self, bits: u32) -> u32 {
        let r = Self::R;
        let i = self.index;
        let rm1 = (i + r - 1) % r;
        let rm2 = (i + r - 2) % r;
        let v = &mut self.v;
        let v0 = v[i];
        let vm1 = v[(i + 70) % r];
        let vm2 = v[(i + 179) % r];
        let vm3 = v[(i + 449) % r];
        let z0 = (0x8000_0000 & v[rm1]) ^ (0x7FFF_FFFF & v[rm2]);
        let z1 = (v0 ^ (v0 << 25)) ^ (vm1 ^ (vm1 >> 27));
        let z2 = (vm2 >> 9) ^ (vm3 ^ (vm3 >> 1));
        let z3 = z1 ^ z2;
        let mut z4 = z0 ^ (z1 ^ (z1 << 9)) ^ (z2 ^ (z2 << 21)) ^ (z3 ^ (z3 >> 21));
        v[i] = z3;
        v[rm1] = z4;
        v[rm2] &= 0x8000_0000;
        self.index = rm1;
        // Matsumoto-Kurita tempering.
        z4 ^= (z4 << 7) & 0xe46e_1700;
        z4 ^= (z4 << 15) & 0x9b86_8000;
        z4 >> (32 - bits)
    }

    /// `nextDouble()`: 52 random bits.
    pub fn next_double(&mut self) -> f64 {
        let high = (self.next(26) as u64) << 26;
        let low = self.next(26) as u64;
        (high | low) as f64 * (1.0 / (1u64 << 52) as f64)
    }

    /// `PoissonDistribution(mean).sample()` for `mean < 40` (commons-math3's
    /// multiplication method; Spark's `sample(withReplacement = true)` fractions).
    pub fn poisson(&mut self, mean: f64) -> u32 {
        let p = (-mean).exp();
        let mut n = 0u32;
        let mut r = 1.0f64;
        while (n as f64) < 1000.0 * mean {
            r *= self.next_double();
            if r >= p {
                n += 1;
            } else {
                return n;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values are PySpark 4.2's documented outputs (functions.rand, randn,
    // uniform and randstr doctests), produced by Apache Spark on partition 0.
    #[test]
    fn rand_and_randn_follow_spark() {
        let mut r = XorShiftRandom::new(42);
        assert_eq!(r.next_double().to_string()[..14], *"0.619189370225");
        assert_eq!(r.next_double().to_string()[..15], *"0.5096018842446");
        let mut g = XorShiftRandom::new(42);
        assert_eq!(g.next_gaussian().to_string()[..14], *"2.384479054241");
        assert_eq!(g.next_gaussian().to_string()[..15], *"0.1920934041293");
    }

    #[test]
    fn uniform_and_randstr_follow_spark() {
        let mut r = XorShiftRandom::new(3);
        let u: Vec<i64> = (0..10)
            .map(|_| (5.0 + 100.0 * r.next_double()) as i64)
            .collect();
        assert_eq!(u, vec![30, 71, 99, 77, 16, 25, 89, 80, 51, 83]);
        let mut r = XorShiftRandom::new(3);
        let mut s = String::new();
        r.next_string(16, &mut s);
        assert_eq!(s, "nurJIpH4cmmMnsCG");
        s.clear();
        r.next_string(16, &mut s);
        assert_eq!(s, "fl9YtT5m01trZtIt");
    }

    #[test]
    fn shuffle_follows_spark() {
        // PySpark's `shuffle` doctests: [1, 20, 3, 5] with seed 123, [1, 20, NULL, 5]
        // with seed 234, [1, 2, 2, 3, 3, 3] with seed 345.
        let apply = |seed: i64, a: &[i32]| -> Vec<i32> {
            let mut mt = mersenne_twister(seed);
            next_indices(&mut mt, a.len())
                .into_iter()
                .map(|k| a[k])
                .collect()
        };
        assert_eq!(apply(123, &[1, 20, 3, 5]), vec![5, 1, 20, 3]);
        assert_eq!(apply(234, &[1, 20, 0, 5]), vec![0, 5, 20, 1]);
        assert_eq!(apply(345, &[1, 2, 2, 3, 3, 3]), vec![2, 3, 3, 1, 2, 3]);
    }

    #[test]
    fn poisson_follows_commons_math() {
        // commons-math3 3.6.1 `PoissonDistribution(0.5)` reseeded with 3 and
        // `PoissonDistribution(2.5)` reseeded with -7 (run on the JVM here).
        let mut w = Well19937c::new(3);
        let got: Vec<u32> = (0..10).map(|_| w.poisson(0.5)).collect();
        assert_eq!(got, vec![2, 0, 0, 0, 3, 1, 1, 0, 0, 1]);
        let mut w = Well19937c::new(-7);
        let got: Vec<u32> = (0..10).map(|_| w.poisson(2.5)).collect();
        assert_eq!(got, vec![3, 2, 1, 3, 3, 5, 3, 3, 0, 3]);
    }

    #[test]
    fn uuid_follows_spark() {
        // PySpark's `uuid(seed=123)` doctest, one partition.
        let mut mt = mersenne_twister(123);
        assert_eq!(next_uuid(&mut mt), "4c99192d-23d6-4d88-b814-a634398120f0");
        assert_eq!(next_uuid(&mut mt), "af506873-3c53-41e3-8354-a24856b8de8a");
        assert_eq!(next_uuid(&mut mt), "7b4b370e-e867-47e2-93c0-f6990463a12d");
    }
}
