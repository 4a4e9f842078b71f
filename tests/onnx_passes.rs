//! The compiler passes, checked on the structure they produce: what was folded,
//! fused or detected, and what the plan runs. Numerical equivalence of the rewrites
//! is checked in `onnx_exec.rs`.

mod onnx_builder;

use onnx_builder::*;
use se_runtime::plan::{ConvStep, LayerNormStep, Loc, StepOp};
use se_runtime::{Activation, Model, SqueezeMode};

fn ops(m: &Model) -> Vec<String> {
    m.info().layers.iter().map(|l| l.op.clone()).collect()
}

#[test]
fn batch_norm_folds_into_conv() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 8, 8]);
    conv_bn_relu(&mut b, "l1", "x", "h", [3, 8, 3, 1], true, true);
    conv_bn_relu(&mut b, "l2", "h", "y", [8, 4, 1, 2], true, false);
    b.output("y");
    let m = b.load().unwrap();
    let f = &m.info().fusions;
    assert_eq!(f.batch_norms_folded, 2);
    assert_eq!(f.activations_fused, 1);
    assert_eq!(ops(&m), ["Conv+Relu", "Conv"]);
    // Weights and folded biases only: 2 convs x (w + b).
    assert_eq!(m.plan(1).unwrap().constants.len(), 4);
}

#[test]
fn batch_norm_without_conv_runs_as_mul_add() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 4, 4]).input("z", &[N, 3, 4, 4]);
    b.node("Add", &["x", "z"], &["s"], vec![]);
    let p: Vec<String> = ["g", "b", "m", "v"]
        .iter()
        .map(|n| b.weight(n, &[3], 0.5))
        .collect();
    b.node(
        "BatchNormalization",
        &["s", &p[0], &p[1], &p[2], &p[3]],
        &["y"],
        vec![],
    )
    .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.batch_norms_lowered, 1);
    assert_eq!(ops(&m), ["Add", "Mul", "Add"]);
}

#[test]
fn unfolded_batch_norm_folds_into_conv() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 8, 8]);
    conv_bn_relu(&mut b, "c", "x", "h", [3, 6, 3, 1], false, false);
    let s = b.weight("scale", &[6, 1, 1], 1.0);
    let t = b.weight("shift", &[1, 6, 1, 1], 1.0);
    let k = b.init("k", &[], vec![2.0]);
    b.node("Mul", &[&s, "h"], &["hs"], vec![])
        .node("Add", &["hs", &t], &["ht"], vec![])
        .node("Div", &["ht", &k], &["hd"], vec![])
        .node("Sub", &["hd", &k], &["hm"], vec![])
        .node("Relu", &["hm"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.affine_folded, 4);
    assert_eq!(ops(&m), ["Conv+Relu"]);
}

#[test]
fn non_per_channel_constants_stay_separate() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 8, 8]);
    conv_bn_relu(&mut b, "c", "x", "h", [3, 6, 3, 1], false, false);
    // Varies along W: not a per-channel affine map.
    let s = b.weight("scale", &[8], 1.0);
    let k = b.init("k", &[], vec![2.0]);
    b.node("Mul", &["h", &s], &["hs"], vec![])
        // k - h is not h - k.
        .node("Sub", &[&k, "hs"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.affine_folded, 0);
    assert_eq!(ops(&m), ["Conv", "Mul", "Sub"]);
}

/// `conv -> <activation written out by `act`> -> y`; returns the model.
fn conv_then(opset: i64, act: impl FnOnce(&mut ModelBuilder, &str, &str)) -> Model {
    let mut b = ModelBuilder::new(opset);
    b.input("x", &[N, 3, 6, 6]);
    conv_bn_relu(&mut b, "c", "x", "h", [3, 4, 3, 1], false, false);
    act(&mut b, "h", "y");
    b.output("y");
    b.load().unwrap()
}

#[test]
fn spelled_out_hard_swish_is_recognised_and_fused() {
    // (x * Clip(x + 3, 0, 6)) / 6
    for opset in [10, 13] {
        let m = conv_then(opset, |b, x, y| {
            let three = b.init("three", &[], vec![3.0]);
            let six = b.init("six", &[1], vec![6.0]);
            b.node("Add", &[x, &three], &["a"], vec![]);
            b.clip("clip", "a", "c", 0.0, 6.0);
            b.node("Mul", &[x, "c"], &["m"], vec![])
                .node("Div", &["m", &six], &[y], vec![]);
        });
        assert_eq!(m.info().fusions.activations_recognized, 1, "opset {opset}");
        assert_eq!(ops(&m), ["Conv+HardSwish"], "opset {opset}");
    }
    // x * (Clip(3 + x, 0, 6) * 0.16666667): hard-sigmoid first, then hard-swish.
    let m = conv_then(13, |b, x, y| {
        let three = b.init("three", &[], vec![3.0]);
        let sixth = b.init("sixth", &[], vec![0.16666667]);
        b.node("Add", &[&three, x], &["a"], vec![]);
        b.clip("clip", "a", "c", 0.0, 6.0);
        b.node("Mul", &["c", &sixth], &["hs"], vec![])
            .node("Mul", &["hs", x], &[y], vec![]);
    });
    assert_eq!(m.info().fusions.activations_recognized, 2);
    assert_eq!(ops(&m), ["Conv+HardSwish"]);
    // x * HardSigmoid(x) with PyTorch's parameters.
    let m = conv_then(13, |b, x, y| {
        b.node(
            "HardSigmoid",
            &[x],
            &["g"],
            vec![attr_f("alpha", 1.0 / 6.0), attr_f("beta", 0.5)],
        );
        b.node("Mul", &[x, "g"], &[y], vec![]);
    });
    assert_eq!(ops(&m), ["Conv+HardSwish"]);
    // With ONNX's default HardSigmoid (0.2, 0.5) it is not hard-swish.
    let m = conv_then(13, |b, x, y| {
        b.node("HardSigmoid", &[x], &["g"], vec![]);
        b.node("Mul", &[x, "g"], &[y], vec![]);
    });
    assert_eq!(m.info().fusions.activations_recognized, 0);
    assert_eq!(ops(&m), ["Conv", "HardSigmoid", "Mul"]);
    // The HardSwish op itself.
    let m = conv_then(14, |b, x, y| {
        b.node("HardSwish", &[x], &[y], vec![]);
    });
    assert_eq!(ops(&m), ["Conv+HardSwish"]);
}

#[test]
fn silu_and_other_activations_fuse() {
    let m = conv_then(13, |b, x, y| {
        b.node("Sigmoid", &[x], &["s"], vec![])
            .node("Mul", &["s", x], &[y], vec![]);
    });
    assert_eq!(ops(&m), ["Conv+SiLU"]);
    let m = conv_then(13, |b, x, y| {
        b.clip("relu6", x, y, 0.0, 6.0);
    });
    assert_eq!(ops(&m), ["Conv+Relu6"]);
    for (op, label) in [
        ("Tanh", "Conv+Tanh"),
        ("Sigmoid", "Conv+Sigmoid"),
        ("HardSigmoid", "Conv+HardSigmoid"),
    ] {
        let m = conv_then(13, |b, x, y| {
            b.node(op, &[x], &[y], vec![]);
        });
        assert_eq!(ops(&m), [label]);
    }
    // Clip(x * 0.2 + 0.5, 0, 1) is a HardSigmoid (paddle2onnx writes it so).
    let m = conv_then(13, |b, x, y| {
        let a = b.init("a", &[], vec![0.2]);
        let c = b.init("c", &[], vec![0.5]);
        b.node("Mul", &[x, &a], &["m"], vec![])
            .node("Add", &["m", &c], &["s"], vec![]);
        b.clip("clip", "s", y, 0.0, 1.0);
    });
    assert_eq!(m.info().fusions.activations_recognized, 1);
    assert_eq!(ops(&m), ["Conv+HardSigmoid"]);
}

#[test]
fn activations_do_not_fuse_when_the_input_is_read_elsewhere() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 6, 6]);
    conv_bn_relu(&mut b, "c", "x", "h", [3, 4, 3, 1], false, false);
    b.node("Relu", &["h"], &["r"], vec![])
        .node("Add", &["r", "h"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.activations_fused, 0);
    assert_eq!(ops(&m), ["Conv", "Relu", "Add"]);

    // A spelled-out SiLU whose sigmoid is also an output.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]);
    b.node("Sigmoid", &["x"], &["s"], vec![])
        .node("Mul", &["x", "s"], &["y"], vec![])
        .output("y")
        .output("s");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.activations_recognized, 0);
}

/// A small SE-ResNet-like network: stem conv, `blocks` residual SE blocks, head.
pub fn se_net(opset: i64, style: SeStyle, c: usize, r: usize, residual: bool) -> ModelBuilder {
    let mut b = ModelBuilder::new(opset);
    b.input("x", &[N, 3, 8, 8]);
    conv_bn_relu(&mut b, "stem", "x", "s0", [3, c, 3, 1], true, true);
    conv_bn_relu(&mut b, "layer1/conv", "s0", "c1", [c, c, 3, 1], true, false);
    se_block(&mut b, "layer1/se", "c1", "se1", c, r, style);
    if residual {
        b.named("layer1/add", "Add", &["se1", "s0"], &["a1"], vec![]);
        b.named("layer1/relu", "Relu", &["a1"], &["y"], vec![]);
    } else {
        b.named("layer1/relu", "Relu", &["se1"], &["y"], vec![]);
    }
    b.output("y");
    b
}

#[test]
fn se_blocks_are_detected_in_every_exported_form() {
    let cases = [
        (13, SeStyle::Conv, SqueezeMode::Avg, Activation::Sigmoid),
        (11, SeStyle::Gemm, SqueezeMode::Avg, Activation::Sigmoid),
        (
            13,
            SeStyle::HardSigmoidSpelled,
            SqueezeMode::Avg,
            Activation::HardSigmoid {
                alpha: 1.0 / 6.0,
                beta: 0.5,
            },
        ),
        (
            18,
            SeStyle::HardSigmoidSpelled,
            SqueezeMode::Avg,
            Activation::HardSigmoid {
                alpha: 1.0 / 6.0,
                beta: 0.5,
            },
        ),
        (
            11,
            SeStyle::MaxMatMul,
            SqueezeMode::Max,
            Activation::Sigmoid,
        ),
        (
            13,
            SeStyle::MaxMatMul,
            SqueezeMode::Max,
            Activation::Sigmoid,
        ),
    ];
    for (opset, style, pooling, gate) in cases {
        let m = se_net(opset, style, 12, 3, true)
            .load()
            .unwrap_or_else(|e| panic!("{style:?}: {e}"));
        let info = m.info();
        assert_eq!(
            info.fusions.se_blocks,
            1,
            "{style:?} opset {opset}: {:?}",
            ops(&m)
        );
        let se = &info.se_blocks[0];
        assert_eq!(se.name, "layer1/se", "{style:?}");
        assert_eq!(
            (se.channels, se.reduced, se.reduction),
            (12, 3, 4.0),
            "{style:?}"
        );
        assert_eq!(se.pooling, pooling, "{style:?}");
        assert_eq!(se.hidden, Activation::Relu, "{style:?}");
        match (se.gate, gate) {
            (
                Activation::HardSigmoid { alpha, beta },
                Activation::HardSigmoid { alpha: a, beta: b },
            ) => {
                assert!(
                    (alpha - a).abs() < 1e-6 && (beta - b).abs() < 1e-6,
                    "{style:?}"
                );
            }
            (got, want) => assert_eq!(got, want, "{style:?}"),
        }
        assert!(se.residual, "{style:?}");
        assert_eq!(ops(&m), ["Conv+Relu", "Conv", "SeBlock+Relu"], "{style:?}");
        let plan = m.plan(2).unwrap();
        assert_eq!(plan.excitations.len(), 1);
        assert_eq!(plan.excitations[0].block, "layer1/se");
        assert_eq!(plan.excitations[0].operand.shape, [2, 12]);
    }
}

#[test]
fn se_block_without_residual_takes_the_activation() {
    let m = se_net(13, SeStyle::Conv, 8, 2, false).load().unwrap();
    assert_eq!(ops(&m), ["Conv+Relu", "Conv", "SeBlock+Relu"]);
    assert!(!m.info().se_blocks[0].residual);
    assert_eq!(m.info().fusions.residuals_fused, 0);
}

#[test]
fn se_block_is_not_fused_when_the_gate_is_read_elsewhere() {
    let mut b = se_net(13, SeStyle::Conv, 8, 2, false);
    b.output("layer1/se/g");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.se_blocks, 0);
    assert!(m.info().se_blocks.is_empty());
    // The pieces still run: pool, two 1x1 convs, the gating Mul.
    assert!(ops(&m).contains(&"ReduceAvg".to_string()), "{:?}", ops(&m));
}

#[test]
fn se_block_gating_another_tensor_is_not_an_se_block() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 8, 4, 4]).input("z", &[N, 8, 4, 4]);
    se_block(&mut b, "se", "x", "y0", 8, 2, SeStyle::Conv);
    // Rewire the Mul to gate `z` instead of the pooled `x`.
    let mul = b.graph.node.last_mut().unwrap();
    mul.input[0] = "z".into();
    b.output("y0");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.se_blocks, 0);
}

#[test]
fn several_se_blocks_get_distinct_names_and_excitations() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4, 6, 6]);
    se_block(&mut b, "a/se", "x", "y1", 4, 2, SeStyle::Conv);
    se_block(&mut b, "b/se", "y1", "y2", 4, 1, SeStyle::Gemm);
    se_block(&mut b, "", "y2", "y3", 4, 2, SeStyle::Conv);
    b.output("y3");
    // The third block's nodes share no name prefix.
    for n in b
        .graph
        .node
        .iter_mut()
        .filter(|n| n.name.as_deref().unwrap_or("").starts_with('/'))
    {
        n.name = Some(format!("n{}", n.output[0].len()));
    }
    let m = b.load().unwrap();
    let names: Vec<&str> = m.info().se_blocks.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a/se", "b/se", "se2"]);
    let plan = m.plan(3).unwrap();
    let locs: Vec<Loc> = plan.excitations.iter().map(|e| e.operand.loc).collect();
    assert_eq!(locs.len(), 3);
    assert!(
        locs[0] != locs[1] && locs[1] != locs[2] && locs[0] != locs[2],
        "excitations must not share buffers"
    );
}

#[test]
fn residual_add_fuses_into_conv() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4, 6, 6]);
    conv_bn_relu(&mut b, "c1", "x", "h", [4, 4, 3, 1], true, true);
    conv_bn_relu(&mut b, "c2", "h", "h2", [4, 4, 3, 1], true, false);
    b.node("Add", &["x", "h2"], &["s"], vec![])
        .node("Relu", &["s"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.residuals_fused, 1);
    assert_eq!(ops(&m), ["Conv+Relu", "Conv+Relu"]);
    let plan = m.plan(1).unwrap();
    let StepOp::Conv(ConvStep {
        residual: Some(r), ..
    }) = &plan.steps[1].op
    else {
        panic!("{:?}", plan.steps[1]);
    };
    assert_eq!(r.loc, plan.inputs[0].operand.loc);
}

#[test]
fn residual_with_broadcasting_does_not_fuse() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4, 6, 6]).input("z", &[N, 4, 1, 1]);
    conv_bn_relu(&mut b, "c1", "x", "h", [4, 4, 3, 1], false, false);
    b.node("Add", &["h", "z"], &["y"], vec![]).output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.residuals_fused, 0);
    assert_eq!(ops(&m), ["Conv", "Add"]);
}

#[test]
fn gemm_lowers_to_matmul_with_bias() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 6]);
    let w = b.weight("w", &[4, 6], 0.3);
    let c = b.weight("c", &[4], 0.3);
    b.node(
        "Gemm",
        &["x", &w, &c],
        &["h"],
        vec![
            attr_i("transB", 1),
            attr_f("alpha", 0.5),
            attr_f("beta", 2.0),
        ],
    )
    .node("Relu", &["h"], &["y"], vec![])
    .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.gemms_lowered, 1);
    assert_eq!(ops(&m), ["MatMul+Relu"]);
    let plan = m.plan(1).unwrap();
    let StepOp::MatMul {
        b: w2,
        bias: Some(bias),
        ..
    } = &plan.steps[0].op
    else {
        panic!()
    };
    assert_eq!(w2.shape, [6, 4]);
    assert_eq!(bias.shape, [4]);

    // A full [M, N] C stays a separate Add; a non-constant B is transposed on the device.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[2, 6]).input("wt", &[4, 6]);
    let c = b.weight("c", &[2, 4], 0.3);
    b.node("Gemm", &["x", "wt", &c], &["y"], vec![attr_i("transB", 1)])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(ops(&m), ["Transpose", "MatMul", "Add"]);
}

#[test]
fn matmul_bias_add_folds() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 5]);
    let w = b.weight("w", &[5, 3], 0.3);
    let c = b.weight("c", &[3], 0.3);
    b.node("MatMul", &["x", &w], &["h"], vec![])
        .node("Add", &[&c, "h"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.affine_folded, 1);
    assert_eq!(ops(&m), ["MatMul"]);
}

#[test]
fn dead_nodes_are_removed() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]);
    b.node("Relu", &["x"], &["y"], vec![])
        .node("Sigmoid", &["x"], &["unused1"], vec![])
        .node("Tanh", &["unused1"], &["unused2"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.dead_nodes_removed, 2);
    assert_eq!(ops(&m), ["Relu"]);
}

#[test]
fn activation_buffers_are_shared_by_liveness() {
    // A chain of 12 convolutions needs 2 buffers plus the input's.
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 8, 16, 16]);
    let mut prev = "x".to_string();
    for i in 0..12 {
        let out = if i == 11 {
            "y".to_string()
        } else {
            format!("h{i}")
        };
        conv_bn_relu(
            &mut b,
            &format!("c{i}"),
            &prev,
            &out,
            [8, 8, 3, 1],
            true,
            true,
        );
        prev = out;
    }
    b.output("y");
    let m = b.load().unwrap();
    let plan = m.plan(2).unwrap();
    assert_eq!(plan.steps.len(), 12);
    assert!(plan.buffers.len() <= 3, "{:?}", plan.buffers);
    let info = m.info();
    assert!(
        info.activation_bytes * 4 < info.unshared_activation_bytes,
        "{info:?}"
    );

    // A step never writes a buffer it reads, and SE scratch buffers are distinct.
    let m = se_net(13, SeStyle::Conv, 8, 2, true).load().unwrap();
    for plan in [m.plan(1).unwrap(), plan] {
        for s in &plan.steps {
            let (reads, writes) = step_buffers(&s.op);
            for w in &writes {
                assert!(!reads.contains(w), "{} writes a buffer it reads", s.name);
            }
            let mut sorted = writes.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(
                sorted.len(),
                writes.len(),
                "{} writes one buffer twice",
                s.name
            );
        }
    }
}

fn buf(o: &se_runtime::plan::Operand) -> Option<usize> {
    match o.loc {
        Loc::Buffer(b) => Some(b),
        Loc::Const(_) => None,
    }
}

/// (buffers read, buffers written) by a step.
fn step_buffers(op: &StepOp) -> (Vec<usize>, Vec<usize>) {
    let r = |v: &[&se_runtime::plan::Operand]| v.iter().filter_map(|o| buf(o)).collect::<Vec<_>>();
    match op {
        StepOp::Conv(ConvStep {
            x,
            w,
            bias,
            residual,
            y,
            ..
        }) => {
            let mut ins = vec![x, w];
            ins.extend(bias.iter());
            ins.extend(residual.iter());
            (r(&ins), r(&[y]))
        }
        StepOp::MatMul { a, b, bias, y, .. } => {
            let mut ins = vec![a, b];
            ins.extend(bias.iter());
            (r(&ins), r(&[y]))
        }
        StepOp::Unary { x, y, .. } | StepOp::Squeeze { x, y, .. } | StepOp::Pool { x, y, .. } => {
            (r(&[x]), r(&[y]))
        }
        StepOp::Softmax { x, y, .. }
        | StepOp::Math { x, y, .. }
        | StepOp::Reduce { x, y, .. }
        | StepOp::Slice { x, y, .. }
        | StepOp::Transpose { x, y, .. }
        | StepOp::Pad { x, y, .. } => (r(&[x]), r(&[y])),
        StepOp::Binary { a, b, y, .. } => (r(&[a, b]), r(&[y])),
        StepOp::Concat { xs, y, .. } => (r(&xs.iter().collect::<Vec<_>>()), r(&[y])),
        StepOp::LayerNorm(LayerNormStep {
            x,
            scale,
            bias,
            y,
            mean,
            inv_std,
            ..
        }) => {
            let mut ins = vec![x, scale];
            ins.extend(bias.iter());
            (r(&ins), r(&[y, mean, inv_std]))
        }
        StepOp::Split { x, ys, .. } => (r(&[x]), r(&ys.iter().collect::<Vec<_>>())),
        StepOp::SeBlock(se) => {
            let mut ins = vec![&se.x, &se.w1, &se.b1, &se.w2, &se.b2];
            ins.extend(se.residual.iter());
            (r(&ins), r(&[&se.squeezed, &se.excitation, &se.y]))
        }
    }
}

#[test]
fn info_counts_parameters_and_macs() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 8, 8]);
    conv_bn_relu(&mut b, "c", "x", "h", [3, 4, 3, 2], true, true);
    b.node("GlobalAveragePool", &["h"], &["p"], vec![])
        .node("Flatten", &["p"], &["f"], vec![]);
    let w = b.weight("fc.w", &[4, 10], 0.1);
    b.node("MatMul", &["f", &w], &["y"], vec![]).output("y");
    let m = b.load().unwrap();
    let info = m.info();
    // conv 4*3*3*3 + BN 4*4 + fc 40
    assert_eq!(info.parameters, 108 + 16 + 40);
    // conv: 4 * 4*4 outputs * 27, fc: 40
    assert_eq!(info.macs, 4 * 16 * 27 + 40);
    assert_eq!(info.layers.iter().map(|l| l.macs).sum::<u64>(), info.macs);
    assert_eq!(info.layers[1].op, "ReduceAvg");
    assert_eq!(info.layers[1].output, [1, 4, 1, 1]);
}

#[test]
fn expand_is_dropped_before_broadcasting_readers_and_lowered_otherwise() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4, 3, 3]).input("g", &[N, 4, 1, 1]);
    let shape = b.init_i64("shape", &[4], vec![1, 4, 3, 3]);
    b.node("Expand", &["g", &shape], &["gx"], vec![])
        .node("Mul", &["x", "gx"], &["m"], vec![])
        .node("Expand", &["g", &shape], &["gy"], vec![])
        .node("Relu", &["gy"], &["r"], vec![])
        .node("Add", &["m", "r"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.expands_lowered, 2);
    // The first Expand disappears, the second becomes an Add (fused with the Relu).
    assert_eq!(ops(&m), ["Mul", "Add+Relu", "Add"]);
}
