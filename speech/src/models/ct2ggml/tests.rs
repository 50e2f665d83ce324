//! Converter tests on a synthetic CTranslate2 whisper model (d = 4, one layer per side).

use std::collections::HashMap;

use super::*;
use crate::models::ct2::tests::encode;

/// A CTranslate2 whisper model with d = 4, one layer each side; every f16 tensor is filled
/// with its element index so splits can be checked.
fn tiny_model() -> Vec<u8> {
    let f16s = |n: usize| -> Vec<u8> {
        (0..n)
            .flat_map(|i| f16::from_f32(i as f32).to_le_bytes())
            .collect()
    };
    let mut vars: Vec<(String, Vec<u32>, u8, Vec<u8>)> = vec![
        ("decoder/embeddings/weight".into(), vec![5, 4], 4, f16s(20)),
        (
            "decoder/position_encodings/encodings".into(),
            vec![6, 4],
            0,
            vec![0; 96],
        ),
        (
            "encoder/position_encodings/encodings".into(),
            vec![8, 4],
            4,
            f16s(32),
        ),
        (
            "encoder/num_heads".into(),
            vec![],
            2,
            2i16.to_le_bytes().to_vec(),
        ),
        (
            "decoder/num_heads".into(),
            vec![],
            2,
            2i16.to_le_bytes().to_vec(),
        ),
        ("encoder/conv1/weight".into(), vec![4, 2, 3], 4, f16s(24)),
        ("encoder/conv1/bias".into(), vec![4], 4, f16s(4)),
        ("encoder/conv2/weight".into(), vec![4, 4, 3], 4, f16s(48)),
        ("encoder/conv2/bias".into(), vec![4], 4, f16s(4)),
    ];
    let mut ln = |p: &str| {
        vars.push((format!("{p}/gamma"), vec![4], 4, f16s(4)));
        vars.push((format!("{p}/beta"), vec![4], 4, f16s(4)));
    };
    ln("encoder/layer_norm");
    ln("decoder/layer_norm");
    for side in ["encoder", "decoder"] {
        let l = format!("{side}/layer_0");
        for p in ["self_attention", "ffn"] {
            vars.push((format!("{l}/{p}/layer_norm/gamma"), vec![4], 4, f16s(4)));
            vars.push((format!("{l}/{p}/layer_norm/beta"), vec![4], 4, f16s(4)));
        }
        let mut lin = |name: String, out: u32, inp: u32| {
            vars.push((
                format!("{name}/weight"),
                vec![out, inp],
                4,
                f16s((out * inp) as usize),
            ));
            vars.push((format!("{name}/bias"), vec![out], 4, f16s(out as usize)));
        };
        lin(format!("{l}/self_attention/linear_0"), 12, 4);
        lin(format!("{l}/self_attention/linear_1"), 4, 4);
        lin(format!("{l}/ffn/linear_0"), 16, 4);
        lin(format!("{l}/ffn/linear_1"), 4, 16);
        if side == "decoder" {
            lin(format!("{l}/attention/linear_0"), 4, 4);
            lin(format!("{l}/attention/linear_1"), 8, 4);
            lin(format!("{l}/attention/linear_2"), 4, 4);
            vars.push((
                format!("{l}/attention/layer_norm/gamma"),
                vec![4],
                4,
                f16s(4),
            ));
            vars.push((
                format!("{l}/attention/layer_norm/beta"),
                vec![4],
                4,
                f16s(4),
            ));
        }
    }
    let refs: Vec<(&str, Vec<u32>, u8, Vec<u8>)> = vars
        .iter()
        .map(|(n, d, t, b)| (n.as_str(), d.clone(), *t, b.clone()))
        .collect();
    encode("WhisperSpec", &refs)
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Minimal ggml reader: (header ints, tensors name → (ttype, dims, data)).
#[allow(clippy::type_complexity)]
fn read_ggml(b: &[u8]) -> (Vec<i32>, usize, HashMap<String, (i32, Vec<i32>, Vec<u8>)>) {
    let header: Vec<i32> = (0..12).map(|i| i32_at(b, i * 4)).collect();
    let (n_mel, n_fft) = (i32_at(b, 48) as usize, i32_at(b, 52) as usize);
    let mut at = 56 + 4 * n_mel * n_fft;
    let n_vocab = i32_at(b, at) as usize;
    at += 4;
    for _ in 0..n_vocab {
        at += 4 + i32_at(b, at) as usize;
    }
    let mut tensors = HashMap::new();
    while at < b.len() {
        let (n_dims, len, ttype) = (i32_at(b, at), i32_at(b, at + 4), i32_at(b, at + 8));
        at += 12;
        let dims: Vec<i32> = (0..n_dims as usize)
            .map(|i| i32_at(b, at + 4 * i))
            .collect();
        at += 4 * n_dims as usize;
        let name = String::from_utf8(b[at..at + len as usize].to_vec()).unwrap();
        at += len as usize;
        let bytes = dims.iter().product::<i32>() as usize * if ttype == 1 { 2 } else { 4 };
        tensors.insert(name, (ttype, dims, b[at..at + bytes].to_vec()));
        at += bytes;
    }
    (header, n_vocab, tensors)
}

#[test]
fn converts_to_the_whisper_cpp_layout() {
    let model = Ct2Model::parse(&tiny_model()).unwrap();
    let vocab = vec![b"a".to_vec(), b" b".to_vec()];
    let mut out = Vec::new();
    let hp = convert(&model, &vocab, &mut out).unwrap();
    assert_eq!(
        (hp.n_audio_layer, hp.n_text_layer, hp.n_mels, hp.n_vocab),
        (1, 1, 2, 5)
    );
    let (header, n_vocab, t) = read_ggml(&out);
    assert_eq!(header, [0x6767_6d6c, 5, 8, 4, 2, 1, 6, 4, 2, 1, 2, 1]);
    assert_eq!(n_vocab, 2);
    // 7 + 15 per encoder layer + 4 + 24 per decoder layer, as whisper.cpp expects.
    assert_eq!(t.len(), 7 + 15 + 4 + 24);
    // Conv bias is [1, n_state] f32; conv weight keeps (3, n_mels, n_state) in f16.
    assert_eq!(t["encoder.conv1.bias"].0, 0);
    assert_eq!(t["encoder.conv1.bias"].1, [1, 4]);
    assert_eq!(t["encoder.conv1.weight"].1, [3, 2, 4]);
    assert_eq!(
        t["encoder.positional_embedding"].0, 0,
        "f16 input is widened to f32"
    );
    assert_eq!(t["decoder.token_embedding.weight"].0, 1);
    assert_eq!(t["decoder.ln.weight"].0, 0);
    // Fused QKV: value rows are rows 8..12 of the fused matrix (element 32 onwards).
    let v = &t["encoder.blocks.0.attn.value.weight"];
    assert_eq!(v.1, [4, 4]);
    assert_eq!(f16::from_le_bytes([v.2[0], v.2[1]]).to_f32(), 32.0);
    let vb = &t["encoder.blocks.0.attn.value.bias"].2;
    assert_eq!(f32::from_le_bytes(vb[..4].try_into().unwrap()), 8.0);
    assert!(!t.contains_key("encoder.blocks.0.attn.key.bias"));
    // Fused cross-attention KV: value starts at row 4.
    let cv = &t["decoder.blocks.0.cross_attn.value.weight"].2;
    assert_eq!(f16::from_le_bytes([cv[0], cv[1]]).to_f32(), 16.0);
    assert!(t.contains_key("decoder.blocks.0.cross_attn_ln.bias"));
    assert!(t.contains_key("decoder.blocks.0.mlp.2.weight"));
}

#[test]
fn rejects_non_whisper_models() {
    let mut model = Ct2Model::parse(&tiny_model()).unwrap();
    model
        .tensors
        .remove("encoder/layer_0/self_attention/linear_0/bias");
    let err = convert(&model, &[], &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("linear_0/bias"), "{err}");
    model.spec = "TransformerSpec".into();
    assert!(matches!(
        convert(&model, &[], &mut Vec::new()),
        Err(ConvertError::Unsupported(_))
    ));
}
