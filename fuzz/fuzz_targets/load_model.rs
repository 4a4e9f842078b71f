//! Any bytes through the model compiler: decode, import, every pass and planning for
//! batch 1 and 2, then (when the model is small) one CPU inference on zeros, which
//! exercises the CPU twins of the kernels on whatever shapes the compiler accepted.
//! Every failure must be an `Err`, never a panic, hang or huge allocation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use se_runtime::{CpuSession, HostTensor, Model};

/// Skip the CPU run past this much work or memory, to keep executions fast.
const MAX_RUN_MACS: u64 = 1 << 20;
const MAX_RUN_BYTES: usize = 16 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(model) = Model::from_bytes(data) else {
        return;
    };
    let batches: &[usize] = match model.info().batch {
        Some(b) => &[b][..],
        None => &[1, 2][..],
    };
    for &batch in batches {
        let Ok(session) = CpuSession::new(&model, batch) else {
            continue;
        };
        let info = model.info();
        if info.macs.saturating_mul(batch as u64) > MAX_RUN_MACS
            || info.activation_bytes.saturating_mul(batch) > MAX_RUN_BYTES
        {
            continue;
        }
        let inputs: Result<Vec<(&str, HostTensor)>, _> = session
            .plan()
            .inputs
            .iter()
            .map(|b| Ok((b.name.as_str(), HostTensor::zeros(&b.operand.shape)?)))
            .collect::<se_runtime::Result<_>>();
        if let Ok(inputs) = inputs {
            let _ = pollster::block_on(session.run(&inputs));
        }
    }
});
