//! Shape arithmetic that must fold to constants once the input size is known: the
//! TF-style "same" padding of timm's `tf_` EfficientNet ports.

mod onnx_builder;

use onnx_builder::*;

#[test]
fn tf_same_padding_arithmetic_folds_away() {
    // timm's pad_same as exported: pad = max((ceil(h / 2) - 1) * 2 + 3 - h, 0), split
    // pad // 2 before and the rest after, then a stride-2 3x3 Conv without padding.
    for hw in [7i64, 8] {
        let mut b = ModelBuilder::new(13);
        b.input("x", &[N, 3, hw, hw]);
        let scalar = |b: &mut ModelBuilder, name: &str, v: i64| b.init_i64(name, &[], vec![v]);
        let (two, one, three, zero) = (
            scalar(&mut b, "two", 2),
            scalar(&mut b, "one", 1),
            scalar(&mut b, "three", 3),
            scalar(&mut b, "zero", 0),
        );
        let (zeros, ax0, idx) = (
            b.init_i64("zeros", &[2], vec![0, 0]),
            b.init_i64("ax0", &[1], vec![0]),
            scalar(&mut b, "idx", 2),
        );
        let twof = b.init("twof", &[], vec![2.0]);
        let w = b.weight("w", &[4, 3, 3, 3], 0.1);
        b.node("Shape", &["x"], &["s"], vec![])
            .node("Gather", &["s", &idx], &["h"], vec![attr_i("axis", 0)])
            .node("Cast", &["h"], &["hf"], vec![attr_i("to", 1)])
            .node("Div", &["hf", &twof], &["q"], vec![])
            .node("Ceil", &["q"], &["c"], vec![])
            .node("Cast", &["c"], &["ci"], vec![attr_i("to", 7)])
            .node("Sub", &["ci", &one], &["t1"], vec![])
            .node("Mul", &["t1", &two], &["t2"], vec![])
            .node("Add", &["t2", &three], &["t3"], vec![])
            .node("Sub", &["t3", "h"], &["t4"], vec![])
            .node("Max", &["t4", &zero], &["pad"], vec![])
            .node("Div", &["pad", &two], &["before"], vec![])
            .node("Sub", &["pad", "before"], &["after"], vec![])
            .node("Unsqueeze", &["before", &ax0], &["b1"], vec![])
            .node("Unsqueeze", &["after", &ax0], &["a1"], vec![])
            .node(
                "Concat",
                &[&zeros, "b1", "b1", &zeros, "a1", "a1"],
                &["pads"],
                vec![attr_i("axis", 0)],
            )
            .node("Pad", &["x", "pads"], &["p"], vec![])
            .node(
                "Conv",
                &["p", &w],
                &["y"],
                vec![attr_ints("strides", &[2, 2])],
            )
            .output("y");
        let m = b.load().unwrap_or_else(|e| panic!("{hw}: {e}"));
        let out = (hw as usize).div_ceil(2);
        assert_eq!(m.info().outputs[0].shape, [1, 4, out, out], "{hw}");
        let plan = m.plan(2).unwrap();
        let labels: Vec<&str> = plan.steps.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["Pad", "Conv"], "{hw}: the arithmetic folds away");
        // 7 pads 1 + 1, 8 pads 0 before and 1 after, as TensorFlow's "SAME".
        let se_runtime::plan::StepOp::Pad { pads, .. } = &plan.steps[0].op else {
            panic!("{:?}", plan.steps[0].op);
        };
        let want = if hw == 7 {
            [0, 0, 1, 1, 0, 0, 1, 1]
        } else {
            [0, 0, 0, 0, 0, 0, 1, 1]
        };
        assert_eq!(pads, &want, "{hw}");
    }
}
