//! The activation buffers of a plan: values take a free buffer when their step runs
//! and give it back after their last reader.

/// Free buffers, reused best-fit.
#[derive(Default)]
pub(super) struct Allocator {
    pub(super) capacity: Vec<usize>,
    free: Vec<usize>,
    pub(super) total: usize,
}

impl Allocator {
    pub(super) fn take(&mut self, len: usize) -> usize {
        self.total += len;
        let fit = self
            .free
            .iter()
            .enumerate()
            .filter(|&(_, &b)| self.capacity[b] >= len)
            .min_by_key(|&(_, &b)| self.capacity[b]);
        // Else grow the largest free buffer (capacities are only fixed at the end).
        let pick = fit.or_else(|| {
            self.free
                .iter()
                .enumerate()
                .max_by_key(|&(_, &b)| self.capacity[b])
        });
        match pick.map(|(i, _)| i) {
            Some(i) => {
                let b = self.free.swap_remove(i);
                self.capacity[b] = self.capacity[b].max(len);
                b
            }
            None => {
                self.capacity.push(len);
                self.capacity.len() - 1
            }
        }
    }

    pub(super) fn give_back(&mut self, b: usize) {
        self.free.push(b);
    }
}
