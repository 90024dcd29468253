//! Argon2id's working memory, kept from one hash to the next.

use alloc::vec::Vec;
use core::fmt;

use argon2::Block;
use zeroize::Zeroize;

/// The megabytes an Argon2id hash works in (19 MiB at the recovery
/// codes' default cost), allocated once and reused by every hash given
/// it, and wiped after each one (its contents are a function of the code).
///
/// Allocating that memory afresh for every hash is what
/// [`RecoveryPolicy::generate`](crate::RecoveryPolicy::generate) and
/// [`RecoveryCodes::verify`](crate::RecoveryCodes::verify) do. It is
/// correct, but a common allocator (glibc's) keeps much of what each
/// hash freed, per thread: a service whose many threads hash now and
/// then grows by hundreds of megabytes and keeps them. A service that
/// hashes on a few threads of its own, each with its `HashMemory`, holds
/// one hash's memory per thread and no more: give it to the `_in`
/// variants ([`RecoveryPolicy::generate_in`](crate::RecoveryPolicy::generate_in),
/// [`RecoveryCodes::verify_in`](crate::RecoveryCodes::verify_in),
/// [`Guard::verify_recovery_in`](crate::Guard::verify_recovery_in)).
#[derive(Default)]
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl HashMemory {
    /// No memory yet: the first hash allocates it.
    #[must_use]
    pub const fn new() -> Self {
        Self { blocks: Vec::new() }
    }

    /// The memory allocated, in bytes (zero before the first hash).
    #[must_use]
    pub fn allocated(&self) -> usize {
        self.blocks.capacity() * Block::SIZE
    }

    /// `count` blocks, zeroed, from the memory already allocated where it
    /// is large enough. `None` if the allocation failed.
    pub(crate) fn blocks(&mut self, count: usize) -> Option<&mut [Block]> {
        self.blocks.clear();
        if self.blocks.capacity() < count {
            // Wiped already (after the last hash); let it go whole rather
            // than copy it into a larger one.
            self.blocks = Vec::new();
            self.blocks.try_reserve_exact(count).ok()?;
        }
        self.blocks.resize(count, Block::default());
        Some(&mut self.blocks)
    }

    /// Wipes what the last hash wrote, keeping the allocation.
    pub(crate) fn wipe(&mut self) {
        for block in &mut self.blocks {
            block.zeroize();
        }
        self.blocks.clear();
    }
}

impl Drop for HashMemory {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashMemory")
            .field("allocated", &self.allocated())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_is_handed_out_again_zeroed_from_one_allocation() {
        let mut memory = HashMemory::new();
        let blocks = memory.blocks(8).unwrap();
        for block in blocks.iter_mut() {
            block.as_mut().fill(0xa5a5);
        }
        let first = blocks.as_ptr();
        memory.wipe();
        // Cleared, then handed out again, zeroed, from the same allocation.
        let spare = memory.blocks.spare_capacity_mut().len();
        assert_eq!(spare, 8);
        let again = memory.blocks(8).unwrap();
        assert_eq!(again.as_ptr(), first);
        assert!(
            again
                .iter()
                .all(|block| block.as_ref().iter().all(|&w| w == 0))
        );
    }
}
