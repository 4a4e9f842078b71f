//! The instruction sets the engine's own loops (depthwise) are compiled for, picked
//! at run time: the baseline build targets plain x86-64 (SSE2), so wider vectors
//! need a second copy of the loop compiled for them and a check of the CPU.
//! (`matrixmultiply` picks its own kernels the same way.)

/// Which copy of the engine's loops runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Simd {
    /// AVX2 where the CPU has it (x86-64), else the baseline.
    #[default]
    Best,
    /// The baseline build only (SSE2 on x86-64): the scalar-width path, for tests.
    Baseline,
}

impl Simd {
    /// Whether the AVX2 copies run.
    pub(super) fn avx2(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            self == Simd::Best && std::arch::is_x86_feature_detected!("avx2")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}
