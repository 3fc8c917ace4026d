//! The masked CRC-32C that TFRecord framing, checkpoint blocks and
//! checkpoint tensor entries all use.

use std::fmt;

/// A CRC-32C (Castagnoli) checksum after TensorFlow's (LevelDB's) masking.
///
/// Masking exists because computing the CRC of data that itself embeds CRCs
/// is problematic; every checksum TensorFlow stores on disk is masked.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaskedCrc(pub u32);

const MASK_DELTA: u32 = 0xa282_ead8;

impl MaskedCrc {
    /// Computes the masked CRC-32C of `bytes`.
    pub fn compute(bytes: &[u8]) -> Self {
        Self::from_crc(crc32c::crc32c(bytes))
    }

    /// Masks an already computed, unmasked CRC-32C.
    pub fn from_crc(crc: u32) -> Self {
        MaskedCrc(crc.rotate_right(15).wrapping_add(MASK_DELTA))
    }

    /// Recovers the unmasked CRC-32C.
    pub fn unmask(self) -> u32 {
        self.0.wrapping_sub(MASK_DELTA).rotate_left(15)
    }
}

impl fmt::Debug for MaskedCrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaskedCrc({:#010x})", self.0)
    }
}

impl fmt::Display for MaskedCrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3720_zeros() {
        assert_eq!(crc32c::crc32c(&[0u8; 32]), 0x8a91_36aa);
    }

    #[test]
    fn tensorflow_vector() {
        assert_eq!(
            MaskedCrc::compute(b"\x1a\x11CRC test, one two"),
            MaskedCrc(0x5794_d08a)
        );
    }

    #[test]
    fn length_of_24() {
        assert_eq!(
            MaskedCrc::compute(&24u64.to_le_bytes()),
            MaskedCrc(0x224b_7fa3)
        );
    }

    #[test]
    fn unmask_inverts_mask() {
        for crc in [0, 1, 0xdead_beef, u32::MAX, 0x8a91_36aa] {
            assert_eq!(MaskedCrc::from_crc(crc).unmask(), crc);
        }
    }

    #[test]
    fn display_is_hex() {
        assert_eq!(MaskedCrc(0xab).to_string(), "0x000000ab");
    }
}
