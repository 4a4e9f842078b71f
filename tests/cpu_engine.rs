//! The CPU engine (`backend/cpu/`) against the CPU reference on every kernel family
//! it has (convolution as GEMM, 1x1 and im2col; depthwise; the fused SE block; the
//! epilogue's bias, residual and activations; fully connected layers) over awkward
//! shapes: odd channels, 1x1 spatial, stride 2, groups, dilation, asymmetric padding,
//! batch > 1, on 1, 2 and 3 threads, and with the AVX2 loops and without. Each case
//! also checks the engine ran its own kernels (it would agree with the reference
//! trivially by falling back to it). Tolerance: the project's kernel tolerance,
//! `common::RTOL`.

mod common;
mod onnx_builder;

use onnx_builder::*;
use se_runtime::backend::{Backend, BackendSession, CpuEngine, Reference, Simd};
use se_runtime::{HostTensor, Inference, Model};

/// One convolution case: input `[batch, ci, h, w]`, `co` outputs, square kernel `k`.
#[derive(Clone, Copy)]
struct Conv {
    batch: usize,
    ci: usize,
    hw: [usize; 2],
    co: usize,
    k: usize,
    stride: usize,
    /// top, left, bottom, right
    pads: [i64; 4],
    groups: usize,
    dilation: usize,
    bias: bool,
    /// An activation node after the convolution (fused into it by the passes).
    act: Option<&'static str>,
}

const BASE: Conv = Conv {
    batch: 1,
    ci: 3,
    hw: [7, 7],
    co: 5,
    k: 3,
    stride: 1,
    pads: [1; 4],
    groups: 1,
    dilation: 1,
    bias: true,
    act: None,
};

fn conv_model(c: Conv) -> Model {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, c.ci as i64, c.hw[0] as i64, c.hw[1] as i64]);
    let scale = 1.0 / ((c.ci / c.groups * c.k * c.k) as f32).sqrt();
    let w = b.weight("w", &[c.co, c.ci / c.groups, c.k, c.k], scale);
    let mut inputs = vec![String::from("x"), w];
    if c.bias {
        inputs.push(b.weight("b", &[c.co], 0.5));
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let conv_out = if c.act.is_some() { "conv" } else { "y" };
    let (k, s, d) = (c.k as i64, c.stride as i64, c.dilation as i64);
    b.node(
        "Conv",
        &refs,
        &[conv_out],
        vec![
            attr_ints("kernel_shape", &[k, k]),
            attr_ints("strides", &[s, s]),
            attr_ints("pads", &c.pads),
            attr_ints("dilations", &[d, d]),
            attr_i("group", c.groups as i64),
        ],
    );
    if let Some(act) = c.act {
        b.node(act, &["conv"], &["y"], vec![]);
    }
    b.output("y");
    b.load().unwrap()
}

fn input(model: &Model, batch: usize, seed: u64) -> HostTensor {
    let shape = model.plan(batch).unwrap().inputs[0].operand.shape.clone();
    let n = shape.iter().product();
    HostTensor::new(&shape, common::random(seed, n, 1.0)).unwrap()
}

fn run(backend: &impl Backend, model: &Model, x: &HostTensor) -> Inference {
    let session = backend.prepare(model, x.shape[0]).unwrap();
    let name = session.plan().inputs[0].name.clone();
    pollster::block_on(session.run(&[(&name, x.clone())]))
        .unwrap_or_else(|e| panic!("{}: {e}", backend.name()))
}

fn assert_same(what: &str, got: &Inference, want: &Inference) {
    assert_eq!(got.outputs.len(), want.outputs.len(), "{what}: outputs");
    for ((gn, g), (wn, w)) in got.outputs.iter().zip(&want.outputs) {
        assert_eq!((gn, &g.shape), (wn, &w.shape), "{what}");
        common::assert_close(&format!("{what}: {gn}"), &g.data, &w.data);
    }
    assert_eq!(got.excitations.len(), want.excitations.len(), "{what}: SE");
    for (g, w) in got.excitations.iter().zip(&want.excitations) {
        assert_eq!((&g.block, g.channels), (&w.block, w.channels), "{what}");
        common::assert_close(
            &format!("{what}: {}", g.block),
            &g.values.data,
            &w.values.data,
        );
    }
}

/// The engine on 1, 2 and 3 threads, and with its loops held to the baseline
/// instruction set, agrees with the reference, and ran `fast` of the plan's steps on
/// its own kernels.
fn check(what: &str, model: &Model, batch: usize, fast: usize) {
    let x = input(model, batch, 7);
    let want = run(&Reference, model, &x);
    let engines = [
        (1, Simd::Best),
        (2, Simd::Best),
        (3, Simd::Best),
        (2, Simd::Baseline),
    ];
    for (threads, simd) in engines {
        let engine = CpuEngine::new(Some(threads)).unwrap().with_simd(simd);
        let session = engine.prepare(model, batch).unwrap();
        assert_eq!(
            session.fast_steps(),
            fast,
            "{what}: steps on engine kernels"
        );
        let got = run(&engine, model, &x);
        assert_same(&format!("{what}, {threads} threads, {simd:?}"), &got, &want);
    }
}

#[test]
fn convolutions_match_the_reference() {
    #[rustfmt::skip]
    let cases = [
        ("1x1 pointwise, odd channels, batch 2", Conv { batch: 2, ci: 5, hw: [7, 6], co: 9, k: 1, pads: [0; 4], ..BASE }),
        ("1x1 on 1x1 spatial, batch 3", Conv { batch: 3, ci: 16, hw: [1, 1], co: 10, k: 1, pads: [0; 4], act: Some("Relu"), ..BASE }),
        ("1x1 stride 2 (im2col)", Conv { ci: 6, hw: [9, 8], co: 4, k: 1, stride: 2, pads: [0; 4], ..BASE }),
        ("3x3 stride 2 pad 1, odd sizes", Conv { batch: 2, ci: 3, hw: [9, 11], co: 7, stride: 2, act: Some("HardSwish"), ..BASE }),
        ("3x3 on 1x1 spatial with padding", Conv { ci: 4, hw: [1, 1], co: 3, ..BASE }),
        ("3x3 asymmetric padding, no bias", Conv { hw: [6, 5], pads: [0, 1, 1, 0], bias: false, ..BASE }),
        ("3x3 dilation 2", Conv { ci: 4, hw: [9, 9], co: 6, dilation: 2, pads: [2; 4], act: Some("Sigmoid"), ..BASE }),
        ("7x7 stride 2 pad 3 (a stem)", Conv { ci: 3, hw: [15, 15], co: 8, k: 7, stride: 2, pads: [3; 4], act: Some("Relu"), ..BASE }),
        ("grouped 3x3, 4 groups", Conv { batch: 2, ci: 8, hw: [5, 5], co: 12, groups: 4, ..BASE }),
        ("large enough to split over threads", Conv { ci: 32, hw: [20, 20], co: 48, act: Some("Relu"), ..BASE }),
        ("large 1x1, split along channels", Conv { ci: 64, hw: [6, 6], co: 200, k: 1, pads: [0; 4], ..BASE }),
    ];
    for (what, c) in cases {
        check(what, &conv_model(c), c.batch, 1);
    }
}

#[test]
fn depthwise_convolutions_match_the_reference() {
    let dw = |c: usize| Conv {
        ci: c,
        co: c,
        groups: c,
        ..BASE
    };
    #[rustfmt::skip]
    let cases = [
        ("3x3 depthwise, odd channels, batch 2", Conv { batch: 2, hw: [7, 9], ..dw(5) }),
        ("3x3 depthwise stride 2", Conv { hw: [9, 10], stride: 2, act: Some("HardSwish"), ..dw(6) }),
        ("5x5 depthwise pad 2, no bias", Conv { hw: [8, 8], k: 5, pads: [2; 4], bias: false, ..dw(3) }),
        ("3x3 depthwise on 1x1 spatial", Conv { hw: [1, 1], act: Some("Relu"), ..dw(7) }),
        ("depthwise asymmetric padding, dilation 2", Conv { hw: [7, 7], pads: [1, 2, 2, 1], dilation: 2, ..dw(4) }),
        ("depthwise large enough for threads", Conv { hw: [40, 40], ..dw(24) }),
    ];
    for (what, c) in cases {
        check(what, &conv_model(c), c.batch, 1);
    }
    // A channel multiplier (2 outputs per input channel) runs as a grouped product.
    let c = Conv { co: 8, ..dw(4) };
    check("depthwise with channel multiplier 2", &conv_model(c), 2, 1);
}

/// conv -> SE block (`style`) -> optional residual add of the block input -> Relu.
fn se_model(c: usize, [h, w]: [usize; 2], style: SeStyle, residual: bool) -> Model {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, c as i64, h as i64, w as i64]);
    conv_bn_relu(&mut b, "stem", "x", "feat", [c, c, 3, 1], true, true);
    se_block(&mut b, "se", "feat", "gated", c, c.div_ceil(4), style);
    if residual {
        b.node("Add", &["gated", "x"], &["sum"], vec![]);
        b.node("Relu", &["sum"], &["y"], vec![]);
    } else {
        b.node("Relu", &["gated"], &["y"], vec![]);
    }
    b.output("y");
    b.load().unwrap()
}

#[test]
fn se_blocks_match_the_reference() {
    let cases = [
        (
            "SE avg, residual, odd channels, batch 2",
            7,
            [5, 6],
            SeStyle::Conv,
            true,
            2,
        ),
        (
            "SE avg on 1x1 spatial, batch 3",
            12,
            [1, 1],
            SeStyle::Conv,
            false,
            3,
        ),
        (
            "SE max pooling (MatMul style)",
            9,
            [4, 4],
            SeStyle::MaxMatMul,
            true,
            1,
        ),
        (
            "SE hard-sigmoid gate, large",
            40,
            [20, 20],
            SeStyle::HardSigmoidSpelled,
            false,
            2,
        ),
    ];
    for (what, c, hw, style, residual, batch) in cases {
        let model = se_model(c, hw, style, residual);
        assert_eq!(
            model.info().se_blocks.len(),
            1,
            "{what}: the SE block is detected"
        );
        // The convolution and the SE block; whatever else the passes leave (an
        // unfused Add or Relu) runs on the reference twins.
        check(what, &model, batch, 2);
    }
}

#[test]
fn a_session_reused_gives_each_input_its_own_result() {
    let model = se_model(6, [5, 5], SeStyle::Conv, true);
    let engine = CpuEngine::new(Some(2)).unwrap();
    let session = engine.prepare(&model, 2).unwrap();
    let name = session.plan().inputs[0].name.clone();
    for seed in [1, 2, 1] {
        let x = input(&model, 2, seed);
        let got = pollster::block_on(session.run(&[(&name, x.clone())])).unwrap();
        assert_same(
            &format!("run with seed {seed}"),
            &got,
            &run(&Reference, &model, &x),
        );
    }
}

#[test]
fn the_engine_rejects_a_wrong_input_like_the_reference() {
    let model = conv_model(BASE);
    let x = input(&model, 1, 3);
    let engine = CpuEngine::new(None).unwrap();
    let got = pollster::block_on(
        engine
            .prepare(&model, 1)
            .unwrap()
            .run(&[("nope", x.clone())]),
    );
    let want = pollster::block_on(Reference.prepare(&model, 1).unwrap().run(&[("nope", x)]));
    assert_eq!(got.unwrap_err().to_string(), want.unwrap_err().to_string());
    let bad = CpuEngine::new(Some(0)).unwrap_err().to_string();
    assert!(bad.contains("at least 1"), "{bad}");
}

#[test]
fn fully_connected_layers_match_the_reference() {
    // pool -> flatten -> Gemm (transB, bias) -> Relu: one row per image.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 300, 2, 2]);
    b.node("GlobalAveragePool", &["x"], &["p"], vec![]);
    b.node("Flatten", &["p"], &["f"], vec![]);
    let w = b.weight("w", &[530, 300], 0.06);
    let bias = b.weight("b", &[530], 0.5);
    b.node("Gemm", &["f", &w, &bias], &["g"], vec![attr_i("transB", 1)]);
    b.node("Relu", &["g"], &["y"], vec![]);
    b.output("y");
    let model = b.load().unwrap();
    // Batch 1 and 2 take the row-by-row product, 5 the tiled GEMM.
    for batch in [1, 2, 5] {
        check(&format!("Gemm, batch {batch}"), &model, batch, 1);
    }
    // A MatMul over a 3-D input: the leading dimensions fold into rows.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 7, 33]);
    let w = b.weight("w", &[33, 19], 0.2);
    b.node("MatMul", &["x", &w], &["y"], vec![]);
    b.output("y");
    check("MatMul [N, 7, 33] x [33, 19]", &b.load().unwrap(), 2, 1);
}
