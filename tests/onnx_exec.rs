//! Whole models run by the executors: the GPU session against the CPU session on the
//! same (fused) plan, and the fused plan against the unfused graph run op by op,
//! which checks every rewrite numerically. Excitations come back per SE block.

mod common;
mod onnx_builder;

use common::assert_close;
use onnx_builder::*;
use se_runtime::{CompileOptions, CpuSession, Error, HostTensor, Inference, Model, Session};

/// Tolerance between the fused and the unfused CPU runs (folding reorders float ops).
const FOLD_TOL: f32 = 1e-4;

fn inputs_for(m: &Model, batch: usize, seed: u64) -> Vec<(String, HostTensor)> {
    m.plan(batch)
        .unwrap()
        .inputs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let n = b.operand.shape.iter().product();
            let t = HostTensor::new(&b.operand.shape, random(seed + i as u64, n, 1.0)).unwrap();
            (b.name.clone(), t)
        })
        .collect()
}

fn refs(inputs: &[(String, HostTensor)]) -> Vec<(&str, HostTensor)> {
    inputs
        .iter()
        .map(|(n, t)| (n.as_str(), t.clone()))
        .collect()
}

fn cpu_run(m: &Model, batch: usize, inputs: &[(String, HostTensor)]) -> Inference {
    let s = CpuSession::new(m, batch).unwrap();
    pollster::block_on(s.run(&refs(inputs))).unwrap()
}

fn close(what: &str, got: &HostTensor, want: &HostTensor, tol: f32) {
    assert_eq!(got.shape, want.shape, "{what}: shape");
    for (i, (&g, &w)) in got.data.iter().zip(&want.data).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}: element {i}: {g} vs {w}"
        );
    }
}

/// Runs `b`'s model fused on the CPU and on the GPU, and unfused on the CPU, and
/// compares all three. Returns the fused CPU inference.
fn check_model(what: &str, b: &ModelBuilder, batch: usize) -> Inference {
    let bytes = b.bytes();
    let fused = Model::from_bytes(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
    let plain = Model::from_bytes_with(
        &bytes,
        CompileOptions {
            fuse: false,
            ..Default::default()
        },
    )
    .unwrap();
    let inputs = inputs_for(&fused, batch, 17);
    let cpu = cpu_run(&fused, batch, &inputs);
    let reference = cpu_run(&plain, batch, &inputs);
    assert_eq!(cpu.outputs.len(), reference.outputs.len());
    for ((name, got), (_, want)) in cpu.outputs.iter().zip(&reference.outputs) {
        close(
            &format!("{what}: fused vs unfused '{name}'"),
            got,
            want,
            FOLD_TOL,
        );
    }
    if let Some(rt) = common::runtime() {
        let session = Session::new(rt, &fused, batch).unwrap_or_else(|e| panic!("{what}: {e}"));
        let gpu = pollster::block_on(session.run(&refs(&inputs)))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        for ((name, g), (_, c)) in gpu.outputs.iter().zip(&cpu.outputs) {
            assert_eq!(g.shape, c.shape, "{what}: '{name}' shape");
            assert_close(&format!("{what}: gpu vs cpu '{name}'"), &g.data, &c.data);
        }
        assert_eq!(gpu.excitations.len(), cpu.excitations.len());
        for (g, c) in gpu.excitations.iter().zip(&cpu.excitations) {
            assert_eq!((&g.block, g.channels), (&c.block, c.channels));
            assert_close(
                &format!("{what}: excitation {}", g.block),
                &g.values.data,
                &c.values.data,
            );
        }
    }
    cpu
}

/// `se_net` from onnx_passes.rs, duplicated here: a stem, a conv, an SE block, a residual.
fn se_net(opset: i64, style: SeStyle, c: usize, r: usize, residual: bool) -> ModelBuilder {
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
fn se_networks_match_in_every_form() {
    for (opset, style) in [
        (13, SeStyle::Conv),
        (11, SeStyle::Gemm),
        (13, SeStyle::HardSigmoidSpelled),
        (13, SeStyle::MaxMatMul),
        (13, SeStyle::ExpandAs),
    ] {
        for residual in [true, false] {
            let what = format!("{style:?} opset {opset} residual {residual}");
            let inf = check_model(&what, &se_net(opset, style, 12, 3, residual), 2);
            assert_eq!(inf.excitations.len(), 1, "{what}");
            let e = &inf.excitations[0];
            assert_eq!(e.block, "layer1/se");
            assert_eq!(e.channels, 12);
            assert_eq!(e.values.shape, [2, 12]);
            assert!(
                e.values.data.iter().all(|&v| (0.0..=1.0).contains(&v)),
                "{what}: gates in [0, 1]"
            );
            // Different images give different gates.
            assert_ne!(e.values.data[..12], e.values.data[12..], "{what}");
        }
    }
}

#[test]
fn excitations_match_a_hand_computed_se_block() {
    // y = x * sigmoid(W2 relu(W1 mean(x) + b1) + b2), computed here from the weights.
    let (c, r) = (6, 2);
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, c as i64, 3, 5]);
    se_block(&mut b, "se", "x", "y", c, r, SeStyle::Conv);
    b.output("y");
    let w = |name: &str| -> Vec<f32> {
        let t = b
            .graph
            .initializer
            .iter()
            .find(|t| t.name.as_deref() == Some(name))
            .unwrap();
        se_runtime::onnx::read_tensor_proto(&prost::Message::encode_to_vec(t))
            .unwrap()
            .data
    };
    let (w1, b1, w2, b2) = (
        w("se/fc1.weight"),
        w("se/fc1.bias"),
        w("se/fc2.weight"),
        w("se/fc2.bias"),
    );
    let m = b.load().unwrap();
    let inputs = inputs_for(&m, 2, 5);
    let x = &inputs[0].1;
    let inf = cpu_run(&m, 2, &inputs);
    let e = &inf.excitation("se").unwrap().values;
    for n in 0..2 {
        let mean: Vec<f32> = (0..c)
            .map(|ch| {
                x.data[(n * c + ch) * 15..(n * c + ch + 1) * 15]
                    .iter()
                    .sum::<f32>()
                    / 15.0
            })
            .collect();
        let h: Vec<f32> = (0..r)
            .map(|j| ((0..c).map(|i| w1[j * c + i] * mean[i]).sum::<f32>() + b1[j]).max(0.0))
            .collect();
        for ch in 0..c {
            let z = (0..r).map(|j| w2[ch * r + j] * h[j]).sum::<f32>() + b2[ch];
            let gate = 1.0 / (1.0 + (-z).exp());
            assert!(
                (e.data[n * c + ch] - gate).abs() < 1e-5,
                "n {n} c {ch}: {} vs {gate}",
                e.data[n * c + ch]
            );
            let y = inf.output("y").unwrap();
            for i in 0..15 {
                let k = (n * c + ch) * 15 + i;
                assert!((y.data[k] - x.data[k] * gate).abs() < 1e-5);
            }
        }
    }
}

#[test]
fn mobilenet_v3_style_block_matches() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4, 9, 9]);
    // Expand 1x1 + BN + spelled-out hard-swish.
    conv_bn_relu(&mut b, "expand", "x", "e", [4, 16, 1, 1], true, false);
    let three = b.init("three", &[], vec![3.0]);
    let six = b.init("six", &[], vec![6.0]);
    b.node("Add", &["e", &three], &["e3"], vec![]);
    b.clip("clip1", "e3", "ec", 0.0, 6.0);
    b.node("Mul", &["e", "ec"], &["em"], vec![])
        .node("Div", &["em", &six], &["eh"], vec![]);
    // Depthwise 3x3 stride 2 + BN + Relu6.
    let dw = b.weight("dw.weight", &[16, 1, 3, 3], 0.3);
    b.node(
        "Conv",
        &["eh", &dw],
        &["d"],
        vec![
            attr_i("group", 16),
            attr_ints("strides", &[2, 2]),
            attr_ints("pads", &[1, 1, 1, 1]),
        ],
    );
    b.clip("relu6", "d", "d6", 0.0, 6.0);
    se_block(&mut b, "se", "d6", "s", 16, 4, SeStyle::HardSigmoidSpelled);
    // Project 1x1 + BN, then x * HardSigmoid(x) (another hard-swish) and a head.
    conv_bn_relu(&mut b, "project", "s", "p", [16, 8, 1, 1], true, false);
    b.node(
        "HardSigmoid",
        &["p"],
        &["pg"],
        vec![attr_f("alpha", 1.0 / 6.0), attr_f("beta", 0.5)],
    );
    b.node("Mul", &["p", "pg"], &["ph"], vec![]);
    b.node("GlobalAveragePool", &["ph"], &["gp"], vec![])
        .node("Flatten", &["gp"], &["f"], vec![]);
    let fc = b.weight("fc.weight", &[5, 8], 0.4);
    let fcb = b.weight("fc.bias", &[5], 0.1);
    b.node(
        "Gemm",
        &["f", &fc, &fcb],
        &["logits"],
        vec![attr_i("transB", 1)],
    );
    b.node("Softmax", &["logits"], &["prob"], vec![attr_i("axis", 1)]);
    b.output("prob");
    let m = b.load().unwrap();
    let f = &m.info().fusions;
    assert_eq!(f.se_blocks, 1);
    assert_eq!(f.activations_recognized, 3, "{f:?}");
    let inf = check_model("mobilenetv3 block", &b, 3);
    let p = inf.output("prob").unwrap();
    for n in 0..3 {
        let s: f32 = p.data[n * 5..(n + 1) * 5].iter().sum();
        assert!((s - 1.0).abs() < 1e-5);
    }
}

#[test]
fn layout_and_pooling_ops_match() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 7, 6]).input("z", &[N, 2, 7, 6]);
    let pads = b.init_i64("pads", &[8], vec![0, 0, 1, 0, 0, 0, 2, 1]);
    b.node(
        "Pad",
        &["x", &pads],
        &["xp"],
        vec![attr_s("mode", "reflect")],
    ) // [N,3,10,7]
    .node(
        "MaxPool",
        &["xp"],
        &["mp"],
        vec![
            attr_ints("kernel_shape", &[3, 3]),
            attr_ints("strides", &[2, 2]),
            attr_i("ceil_mode", 1),
        ],
    )
    .node("Pad", &["z", &pads], &["zp"], vec![]) // constant 0
    .node(
        "AveragePool",
        &["zp"],
        &["ap"],
        vec![
            attr_ints("kernel_shape", &[3, 3]),
            attr_ints("strides", &[2, 2]),
            attr_i("ceil_mode", 1),
        ],
    )
    .node("Concat", &["mp", "ap"], &["cat"], vec![attr_i("axis", 1)]) // [N,5,5,3]
    .node(
        "Transpose",
        &["cat"],
        &["t"],
        vec![attr_ints("perm", &[0, 2, 3, 1])],
    ) // [N,5,3,5]
    .with_axes(
        "rm",
        "ReduceMean",
        "t",
        "rm",
        &[-1],
        vec![attr_i("keepdims", 0)],
    ) // [N,5,3]
    .node("Tanh", &["rm"], &["th"], vec![]);
    let w = b.weight("w", &[3, 4], 0.5);
    b.node("MatMul", &["th", &w], &["mm"], vec![]); // [N,5,4]
    let k = b.init("k", &[4], vec![2.0, -1.0, 0.5, 4.0]);
    b.node("Div", &["mm", &k], &["dv"], vec![]);
    b.clip("clip", "dv", "cl", -0.5, 0.75);
    b.node("Softmax", &["cl"], &["y"], vec![attr_i("axis", 1)]);
    b.output("y").output("t");
    check_model("layout", &b, 2);

    // Opset 11 Softmax over the flattened trailing dims.
    let mut b = ModelBuilder::new(11);
    b.input("x", &[N, 3, 2, 2])
        .node("Softmax", &["x"], &["y"], vec![attr_i("axis", 1)])
        .output("y");
    let inf = check_model("softmax opset 11", &b, 2);
    let y = inf.output("y").unwrap();
    let s: f32 = y.data[..12].iter().sum();
    assert!(
        (s - 1.0).abs() < 1e-5,
        "softmax over C*H*W sums to 1, got {s}"
    );
}

#[test]
fn standalone_batch_norm_and_broadcast_ops_match() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, 4, 4]).input("z", &[N, 3, 4, 4]);
    let p: Vec<String> = ["g", "b", "m", "v"]
        .iter()
        .map(|n| b.weight(n, &[3], 0.5))
        .collect();
    let var = b.init("var", &[3], vec![0.5, 1.0, 2.0]);
    b.node("Sub", &["x", "z"], &["d"], vec![])
        .node(
            "BatchNormalization",
            &["d", &p[0], &p[1], &p[2], &var],
            &["bn"],
            vec![],
        )
        .node("Sigmoid", &["bn"], &["y"], vec![])
        .output("y");
    check_model("standalone bn", &b, 2);
}

#[test]
fn residual_conv_network_matches() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4, 6, 6]);
    conv_bn_relu(&mut b, "c1", "x", "h", [4, 4, 3, 1], true, true);
    conv_bn_relu(&mut b, "c2", "h", "h2", [4, 4, 3, 1], true, false);
    b.node("Add", &["x", "h2"], &["s"], vec![])
        .node("Relu", &["s"], &["r"], vec![]);
    conv_bn_relu(&mut b, "down", "r", "dn", [4, 8, 1, 2], true, false);
    conv_bn_relu(&mut b, "c3", "r", "h3", [4, 8, 3, 2], true, true);
    conv_bn_relu(&mut b, "c4", "h3", "h4", [8, 8, 3, 1], true, false);
    se_block(&mut b, "l2/se", "h4", "se", 8, 2, SeStyle::Conv);
    b.node("Add", &["dn", "se"], &["s2"], vec![])
        .node("Relu", &["s2"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    assert_eq!(m.info().fusions.residuals_fused, 2);
    check_model("resnet", &b, 2);
}

#[test]
fn general_operators_on_run_time_tensors_match() {
    // Split, a reversed strided Slice, a channel ReduceMax, the math functions, a
    // three-input Sum and Max, LogSoftmax over channels and a ReduceSum over H.
    let mut b = ModelBuilder::new(20);
    b.input("x", &[N, 6, 5, 5]);
    let i = |b: &mut ModelBuilder, name: &str, v: &[i64]| b.init_i64(name, &[v.len()], v.to_vec());
    let split = i(&mut b, "split", &[2, 4]);
    let (st, en, ax, sp) = (
        i(&mut b, "st", &[3]),
        i(&mut b, "en", &[-100]),
        i(&mut b, "ax", &[1]),
        i(&mut b, "sp", &[-2]),
    );
    let (c1, h) = (i(&mut b, "c1", &[1]), i(&mut b, "h", &[2]));
    let two = b.init("two", &[1], vec![2.0]);
    b.node(
        "Split",
        &["x", &split],
        &["s0", "s1"],
        vec![attr_i("axis", 1)],
    )
    .node("ReduceMax", &["s1", &c1], &["m"], vec![])
    .node("Slice", &["s1", &st, &en, &ax, &sp], &["r"], vec![])
    .node("Gelu", &["r"], &["g"], vec![attr_s("approximate", "tanh")])
    .node("Abs", &["s0"], &["a"], vec![])
    .node("Neg", &["a"], &["na"], vec![])
    .node("Exp", &["na"], &["e"], vec![])
    .node("Pow", &["e", &two], &["p"], vec![])
    .node("Sum", &["g", "p", "m"], &["sum"], vec![])
    .node("Floor", &["g"], &["f"], vec![])
    .node("Max", &["sum", "f", "m"], &["mx"], vec![])
    .node("LogSoftmax", &["mx"], &["l"], vec![attr_i("axis", 1)])
    .node("ReduceSum", &["l", &h], &["y"], vec![attr_i("keepdims", 0)])
    .output("y");
    let out = check_model("general ops", &b, 2);
    assert_eq!(out.outputs[0].1.shape, [2, 2, 5]);
}

#[test]
fn gpu_session_runs_in_one_submission_and_reuses_its_buffers() {
    let rt = require!(gpu);
    let m = se_net(13, SeStyle::Conv, 8, 2, true).load().unwrap();
    let session = Session::new(rt, &m, 2).unwrap();
    // 3 steps, the SE block being squeeze + the MLP's two layers + scale.
    assert_eq!(session.plan().steps.len(), 3);
    assert_eq!(session.dispatch_count(), 6);
    let a = inputs_for(&m, 2, 1);
    let b = inputs_for(&m, 2, 2);
    let ra1 = pollster::block_on(session.run(&refs(&a))).unwrap();
    let rb = pollster::block_on(session.run(&refs(&b))).unwrap();
    let ra2 = pollster::block_on(session.run(&refs(&a))).unwrap();
    assert_eq!(ra1, ra2, "same input, same result");
    assert_ne!(ra1.outputs, rb.outputs);
    assert_ne!(ra1.excitations, rb.excitations);
    // Repeated runs allocate nothing new.
    let live = rt.pool_stats().live_bytes;
    pollster::block_on(session.run(&refs(&a))).unwrap();
    assert_eq!(rt.pool_stats().live_bytes, live);
}

#[test]
fn batch_sizes_agree() {
    // Image 0 of a batch of 3 equals the same image run alone.
    let m = se_net(13, SeStyle::Gemm, 8, 4, true).load().unwrap();
    let three = inputs_for(&m, 3, 9);
    let x = &three[0].1;
    let per = x.len() / 3;
    let one = vec![(
        three[0].0.clone(),
        HostTensor::new(&[1, 3, 8, 8], x.data[..per].to_vec()).unwrap(),
    )];
    let r3 = cpu_run(&m, 3, &three);
    let r1 = cpu_run(&m, 1, &one);
    let (y3, y1) = (&r3.outputs[0].1, &r1.outputs[0].1);
    close(
        "batch 3 vs 1",
        &HostTensor::new(&y1.shape, y3.data[..y1.len()].to_vec()).unwrap(),
        y1,
        1e-6,
    );
    let (e3, e1) = (&r3.excitations[0].values, &r1.excitations[0].values);
    assert_eq!(e3.shape, [3, 8]);
    assert_eq!(e1.data[..], e3.data[..8]);
    if let Some(rt) = common::runtime() {
        let s = Session::new(rt, &m, 3).unwrap();
        let g = pollster::block_on(s.run(&refs(&three))).unwrap();
        assert_close("gpu batch 3", &g.outputs[0].1.data, &y3.data);
    }
}

#[test]
fn run_checks_its_inputs() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4])
        .input("z", &[N, 4])
        .node("Add", &["x", "z"], &["y"], vec![])
        .output("y");
    let m = b.load().unwrap();
    let s = CpuSession::new(&m, 2).unwrap();
    let t = |shape: &[usize]| HostTensor::zeros(shape).unwrap();
    let run = |inputs: Vec<(&str, HostTensor)>| pollster::block_on(s.run(&inputs));
    assert!(run(vec![("x", t(&[2, 4])), ("z", t(&[2, 4]))]).is_ok());
    let missing = run(vec![("x", t(&[2, 4]))]).unwrap_err();
    assert!(missing.to_string().contains("'z'"), "{missing}");
    let unknown = run(vec![
        ("x", t(&[2, 4])),
        ("z", t(&[2, 4])),
        ("w", t(&[2, 4])),
    ])
    .unwrap_err();
    assert!(unknown.to_string().contains("'w'"), "{unknown}");
    let twice = run(vec![
        ("x", t(&[2, 4])),
        ("x", t(&[2, 4])),
        ("z", t(&[2, 4])),
    ])
    .unwrap_err();
    assert!(twice.to_string().contains("exactly once"), "{twice}");
    assert!(matches!(
        run(vec![("x", t(&[1, 4])), ("z", t(&[2, 4]))]),
        Err(Error::Shape { .. })
    ));
    if let Some(rt) = common::runtime() {
        let g = Session::new(rt, &m, 2).unwrap();
        let r = pollster::block_on(g.run(&[("x", t(&[2, 4])), ("z", t(&[3, 4]))]));
        assert!(matches!(r, Err(Error::Shape { .. })));
    }
}

#[test]
fn outputs_that_are_inputs_or_constants() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4]);
    b.constant("k", tensor_f32("", &[2], &[1.5, -2.0]));
    b.node("Identity", &["x"], &["same"], vec![])
        .node("Relu", &["x"], &["y"], vec![]);
    b.output("same").output("k").output("y");
    let inf = check_model("pass-through outputs", &b, 2);
    assert_eq!(inf.output("k").unwrap().data, vec![1.5, -2.0]);
    let m = b.load().unwrap();
    let inputs = inputs_for(&m, 2, 3);
    let r = cpu_run(&m, 2, &inputs);
    assert_eq!(r.output("same").unwrap(), &inputs[0].1);
}

#[test]
fn expand_runs_as_a_broadcast() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 4, 3, 3]).input("g", &[N, 4, 1, 1]);
    let shape = b.init_i64("shape", &[3], vec![4, 1, 3]);
    b.node("Expand", &["g", &shape], &["gy"], vec![])
        .node("Tanh", &["gy"], &["t"], vec![])
        .node("Mul", &["x", "t"], &["y"], vec![])
        .output("y");
    let inf = check_model("expand", &b, 2);
    assert_eq!(inf.outputs[0].1.shape, [2, 4, 3, 3]);
}

#[test]
fn symbolic_image_sizes_are_fixed_by_input_shapes() {
    let mut b = ModelBuilder::new(13);
    b.input("x", &[N, 3, -1, -1]);
    conv_bn_relu(&mut b, "c", "x", "h", [3, 4, 3, 2], true, true);
    se_block(&mut b, "se", "h", "y", 4, 2, SeStyle::Conv);
    b.output("y");
    match b.load() {
        Err(Error::UnsupportedModel { nodes }) => {
            assert_eq!(nodes.len(), 1);
            assert!(
                nodes[0].reason.contains("input_shapes"),
                "{}",
                nodes[0].reason
            );
        }
        other => panic!("{other:?}"),
    }
    let options = |shape: Vec<usize>| CompileOptions {
        input_shapes: vec![("x".into(), shape)],
        ..Default::default()
    };
    let m = Model::from_bytes_with(&b.bytes(), options(vec![1, 3, 9, 7])).unwrap();
    assert_eq!(m.info().batch, None, "the batch stays free");
    assert_eq!(m.plan(2).unwrap().outputs[0].operand.shape, [2, 4, 5, 4]);
    assert_eq!(m.info().se_blocks.len(), 1);
    let inputs = inputs_for(&m, 2, 4);
    let r = cpu_run(&m, 2, &inputs);
    assert_eq!(r.excitations[0].values.shape, [2, 4]);
    // Fixed dimensions must agree, names must exist, ranks must match.
    assert!(Model::from_bytes_with(&b.bytes(), options(vec![1, 4, 9, 7])).is_err());
    assert!(Model::from_bytes_with(&b.bytes(), options(vec![1, 3, 9])).is_err());
    let wrong = CompileOptions {
        input_shapes: vec![("image".into(), vec![1, 3, 9, 7])],
        ..Default::default()
    };
    assert!(Model::from_bytes_with(&b.bytes(), wrong).is_err());
}
