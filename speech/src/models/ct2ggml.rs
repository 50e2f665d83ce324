//! CTranslate2 whisper → whisper.cpp ggml converter (pure byte shuffling, run by `models fetch`).
//!
//! ggml file layout (all little-endian i32 unless noted): magic `0x67676d6c`; hparams
//! `n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx, n_text_state,
//! n_text_head, n_text_layer, n_mels, ftype` (1 = f16); mel filters `n_mel, n_fft` then
//! `n_mel × n_fft` f32; vocabulary `n_tokens` then per token `u32 len` + bytes; then tensors:
//! `n_dims, name_len, ttype` (0 f32, 1 f16), dims innermost first, name bytes, data.
//! whisper.cpp wants 2-D/3-D weights in f16 and biases, layer norms and positional embeddings in
//! f32; conv biases are `[1, n_state]`.

use std::io::{self, Write};
use std::path::Path;

use half::f16;

use super::ct2::{Ct2DType, Ct2Error, Ct2Model, Ct2Tensor};
use super::mel::slaney_filterbank;
use super::vocab::{decode_vocabulary, VocabError};

const GGML_MAGIC: u32 = 0x6767_6d6c;

/// Why a conversion failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// Reading inputs or writing the output failed.
    #[error("I/O error converting whisper model: {0}")]
    Io(#[from] io::Error),
    /// `model.bin` is malformed.
    #[error(transparent)]
    Ct2(#[from] Ct2Error),
    /// `vocabulary.txt` is malformed.
    #[error(transparent)]
    Vocab(#[from] VocabError),
    /// The model is not a float whisper model we can map.
    #[error("not a convertible whisper model: {0}")]
    Unsupported(String),
}

/// Summary of a converted model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

/// Converts `<dir>/model.bin` + `<dir>/vocabulary.txt` into a ggml file written to `out`.
///
/// # Errors
/// [`ConvertError`] if an input is missing, malformed or not a float16/float32 whisper model.
pub fn convert_dir(dir: &Path, out: &mut impl Write) -> Result<Hparams, ConvertError> {
    let model = Ct2Model::parse(&std::fs::read(dir.join("model.bin"))?)?;
    let vocab = decode_vocabulary(&std::fs::read_to_string(dir.join("vocabulary.txt"))?)?;
    convert(&model, &vocab, out)
}

/// Writes the ggml model for a parsed CTranslate2 whisper model and its decoded vocabulary.
///
/// # Errors
/// [`ConvertError::Unsupported`] if a tensor is missing or has an unexpected shape or dtype.
pub fn convert(
    model: &Ct2Model,
    vocab: &[Vec<u8>],
    out: &mut impl Write,
) -> Result<Hparams, ConvertError> {
    if model.spec != "WhisperSpec" {
        return Err(unsupported(format!(
            "spec is {}, not WhisperSpec",
            model.spec
        )));
    }
    let hp = hparams(model)?;
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    w.write_all(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
        1,
    ] {
        write_i32(&mut w, v)?;
    }
    let n_fft = 201;
    write_i32(&mut w, hp.n_mels)?;
    write_i32(&mut w, n_fft)?;
    for v in slaney_filterbank(hp.n_mels, 400, 16_000) {
        w.write_all(&v.to_le_bytes())?;
    }
    write_i32(&mut w, vocab.len())?;
    for token in vocab {
        write_i32(&mut w, token.len())?;
        w.write_all(token)?;
    }
    for (name, tensor, kind) in mapped_tensors(model, &hp)? {
        write_tensor(&mut w, &name, &tensor, kind)?;
    }
    w.flush()?;
    Ok(hp)
}

fn unsupported(msg: impl Into<String>) -> ConvertError {
    ConvertError::Unsupported(msg.into())
}

fn get<'a>(m: &'a Ct2Model, name: &str) -> Result<&'a Ct2Tensor, ConvertError> {
    m.get(name)
        .ok_or_else(|| unsupported(format!("missing tensor `{name}`")))
}

fn dim(m: &Ct2Model, name: &str, axis: usize) -> Result<usize, ConvertError> {
    get(m, name)?
        .dims
        .get(axis)
        .copied()
        .ok_or_else(|| unsupported(format!("`{name}` has no axis {axis}")))
}

fn count_layers(m: &Ct2Model, side: &str) -> usize {
    (0..)
        .take_while(|i| {
            m.get(&format!("{side}/layer_{i}/ffn/linear_0/weight"))
                .is_some()
        })
        .count()
}

fn hparams(m: &Ct2Model) -> Result<Hparams, ConvertError> {
    let heads = |name: &str| -> Result<usize, ConvertError> {
        let v = get(m, name)?.as_int().filter(|v| *v > 0);
        v.map(|v| v as usize)
            .ok_or_else(|| unsupported(format!("`{name}` is not a count")))
    };
    let hp = Hparams {
        n_vocab: dim(m, "decoder/embeddings/weight", 0)?,
        n_audio_ctx: dim(m, "encoder/position_encodings/encodings", 0)?,
        n_audio_state: dim(m, "encoder/position_encodings/encodings", 1)?,
        n_audio_head: heads("encoder/num_heads")?,
        n_audio_layer: count_layers(m, "encoder"),
        n_text_ctx: dim(m, "decoder/position_encodings/encodings", 0)?,
        n_text_state: dim(m, "decoder/embeddings/weight", 1)?,
        n_text_head: heads("decoder/num_heads")?,
        n_text_layer: count_layers(m, "decoder"),
        n_mels: dim(m, "encoder/conv1/weight", 1)?,
    };
    if hp.n_audio_layer == 0 || hp.n_text_layer == 0 || hp.n_audio_state != hp.n_text_state {
        return Err(unsupported(format!("inconsistent hyper-parameters {hp:?}")));
    }
    Ok(hp)
}

/// Target element type in the ggml file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    F32,
    F16,
}

/// Rows `[start, start + n)` of a row-major 1-D or 2-D tensor.
fn rows(t: &Ct2Tensor, start: usize, n: usize) -> Ct2Tensor {
    let row_elems: usize = t.dims.iter().skip(1).product();
    let row_bytes = row_elems * t.dtype.size();
    let mut dims = t.dims.clone();
    dims[0] = n;
    Ct2Tensor {
        dims,
        dtype: t.dtype,
        data: t.data[start * row_bytes..(start + n) * row_bytes].to_vec(),
    }
}

/// Collects `(ggml name, tensor, target kind)` in file order.
struct Mapper<'a> {
    model: &'a Ct2Model,
    out: Vec<(String, Ct2Tensor, Kind)>,
}

impl Mapper<'_> {
    fn copy(&mut self, to: &str, from: &str, kind: Kind) -> Result<(), ConvertError> {
        let t = get(self.model, from)?.clone();
        self.out.push((to.to_string(), t, kind));
        Ok(())
    }

    /// `from/gamma|beta` → `to.weight|bias`.
    fn layer_norm(&mut self, to: &str, from: &str) -> Result<(), ConvertError> {
        self.copy(&format!("{to}.weight"), &format!("{from}/gamma"), Kind::F32)?;
        self.copy(&format!("{to}.bias"), &format!("{from}/beta"), Kind::F32)
    }

    /// `from/weight|bias` → `to.weight|bias`.
    fn linear(&mut self, to: &str, from: &str) -> Result<(), ConvertError> {
        self.copy(
            &format!("{to}.weight"),
            &format!("{from}/weight"),
            Kind::F16,
        )?;
        self.copy(&format!("{to}.bias"), &format!("{from}/bias"), Kind::F32)
    }

    /// Splits a fused projection (`parts.len() × d` output rows) into `to.<part>` tensors.
    /// The key projection has no bias in whisper (CTranslate2 stores zeros): it is dropped.
    fn split(
        &mut self,
        to: &str,
        from: &str,
        parts: &[&str],
        d: usize,
    ) -> Result<(), ConvertError> {
        let w = get(self.model, &format!("{from}/weight"))?;
        let b = get(self.model, &format!("{from}/bias"))?;
        if w.dims != [parts.len() * d, d] || b.dims != [parts.len() * d] {
            return Err(unsupported(format!(
                "`{from}` is not a fused {parts:?} projection"
            )));
        }
        for (i, part) in parts.iter().enumerate() {
            self.out
                .push((format!("{to}.{part}.weight"), rows(w, i * d, d), Kind::F16));
            if *part != "key" {
                self.out
                    .push((format!("{to}.{part}.bias"), rows(b, i * d, d), Kind::F32));
            }
        }
        Ok(())
    }

    /// Feed-forward block shared by encoder and decoder layers.
    fn ffn(&mut self, to: &str, from: &str) -> Result<(), ConvertError> {
        self.layer_norm(&format!("{to}.mlp_ln"), &format!("{from}/ffn/layer_norm"))?;
        self.linear(&format!("{to}.mlp.0"), &format!("{from}/ffn/linear_0"))?;
        self.linear(&format!("{to}.mlp.2"), &format!("{from}/ffn/linear_1"))
    }

    /// Self-attention block shared by encoder and decoder layers.
    fn self_attention(&mut self, to: &str, from: &str, d: usize) -> Result<(), ConvertError> {
        let qkv = ["query", "key", "value"];
        self.layer_norm(
            &format!("{to}.attn_ln"),
            &format!("{from}/self_attention/layer_norm"),
        )?;
        self.split(
            &format!("{to}.attn"),
            &format!("{from}/self_attention/linear_0"),
            &qkv,
            d,
        )?;
        self.linear(
            &format!("{to}.attn.out"),
            &format!("{from}/self_attention/linear_1"),
        )
    }
}

fn mapped_tensors(
    model: &Ct2Model,
    hp: &Hparams,
) -> Result<Vec<(String, Ct2Tensor, Kind)>, ConvertError> {
    let d = hp.n_audio_state;
    let mut m = Mapper {
        model,
        out: Vec::new(),
    };
    m.copy(
        "encoder.positional_embedding",
        "encoder/position_encodings/encodings",
        Kind::F32,
    )?;
    for i in 1..=2 {
        m.copy(
            &format!("encoder.conv{i}.weight"),
            &format!("encoder/conv{i}/weight"),
            Kind::F16,
        )?;
        let mut bias = get(model, &format!("encoder/conv{i}/bias"))?.clone();
        bias.dims = vec![bias.dims[0], 1];
        m.out
            .push((format!("encoder.conv{i}.bias"), bias, Kind::F32));
    }
    for i in 0..hp.n_audio_layer {
        let (to, from) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        m.self_attention(&to, &from, d)?;
        m.ffn(&to, &from)?;
    }
    m.layer_norm("encoder.ln_post", "encoder/layer_norm")?;

    m.copy(
        "decoder.positional_embedding",
        "decoder/position_encodings/encodings",
        Kind::F32,
    )?;
    m.copy(
        "decoder.token_embedding.weight",
        "decoder/embeddings/weight",
        Kind::F16,
    )?;
    for i in 0..hp.n_text_layer {
        let (to, from) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        m.self_attention(&to, &from, d)?;
        m.layer_norm(
            &format!("{to}.cross_attn_ln"),
            &format!("{from}/attention/layer_norm"),
        )?;
        m.linear(
            &format!("{to}.cross_attn.query"),
            &format!("{from}/attention/linear_0"),
        )?;
        let kv = ["key", "value"];
        m.split(
            &format!("{to}.cross_attn"),
            &format!("{from}/attention/linear_1"),
            &kv,
            d,
        )?;
        m.linear(
            &format!("{to}.cross_attn.out"),
            &format!("{from}/attention/linear_2"),
        )?;
        m.ffn(&to, &from)?;
    }
    m.layer_norm("decoder.ln", "decoder/layer_norm")?;
    Ok(m.out)
}

fn write_i32(w: &mut impl Write, v: usize) -> io::Result<()> {
    let v = i32::try_from(v).map_err(|_| io::Error::other("value does not fit in i32"))?;
    w.write_all(&v.to_le_bytes())
}

/// Decodes any float tensor to f32 values.
fn to_f32(name: &str, t: &Ct2Tensor) -> Result<Vec<f32>, ConvertError> {
    let pairs = t.data.chunks_exact(2).map(|c| [c[0], c[1]]);
    Ok(match t.dtype {
        Ct2DType::F32 => t
            .data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Ct2DType::F16 => pairs.map(|p| f16::from_le_bytes(p).to_f32()).collect(),
        Ct2DType::Bf16 => pairs
            .map(|p| f32::from_bits(u32::from(u16::from_le_bytes(p)) << 16))
            .collect(),
        other => {
            return Err(unsupported(format!(
                "`{name}` is {other:?}; only float models convert"
            )))
        }
    })
}

fn write_tensor(
    w: &mut impl Write,
    name: &str,
    t: &Ct2Tensor,
    kind: Kind,
) -> Result<(), ConvertError> {
    write_i32(w, t.dims.len())?;
    write_i32(w, name.len())?;
    write_i32(w, if kind == Kind::F16 { 1 } else { 0 })?;
    for d in t.dims.iter().rev() {
        write_i32(w, *d)?;
    }
    w.write_all(name.as_bytes())?;
    match (kind, t.dtype) {
        (Kind::F16, Ct2DType::F16) | (Kind::F32, Ct2DType::F32) => w.write_all(&t.data)?,
        (Kind::F16, _) => {
            for v in to_f32(name, t)? {
                w.write_all(&f16::from_f32(v).to_le_bytes())?;
            }
        }
        (Kind::F32, _) => {
            for v in to_f32(name, t)? {
                w.write_all(&v.to_le_bytes())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
