//! Reader for CTranslate2 `model.bin` files (binary version 6), the format whisper weights are
//! published in on PyPI. Layout, all little-endian: `u32 version`, `string spec_name`,
//! `u32 revision`, `u32 n_variables`, then per variable `string name`, `u8 rank`,
//! `u32 dims[rank]`, `u8 dtype`, `u32 n_bytes`, data; then `u32 n_aliases` and pairs of strings
//! (alias, target). A string is `u16 length` (including a trailing NUL) then its bytes.

use std::collections::HashMap;

/// Element type of a CTranslate2 variable (ids as in CTranslate2's `DataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2DType {
    /// IEEE f32.
    F32,
    /// i8 (quantised weights).
    I8,
    /// i16.
    I16,
    /// i32.
    I32,
    /// IEEE f16.
    F16,
    /// bfloat16.
    Bf16,
}

impl Ct2DType {
    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::Bf16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::Bf16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// One named tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Ct2Tensor {
    /// Shape, outermost first (row-major).
    pub dims: Vec<usize>,
    /// Element type.
    pub dtype: Ct2DType,
    /// Raw little-endian bytes.
    pub data: Vec<u8>,
}

impl Ct2Tensor {
    /// Value of a scalar integer variable (e.g. `encoder/num_heads`).
    pub fn as_int(&self) -> Option<i64> {
        let b = &self.data;
        match self.dtype {
            Ct2DType::I8 => b.first().map(|&v| i64::from(v as i8)),
            Ct2DType::I16 => Some(i64::from(i16::from_le_bytes(b.get(..2)?.try_into().ok()?))),
            Ct2DType::I32 => Some(i64::from(i32::from_le_bytes(b.get(..4)?.try_into().ok()?))),
            _ => None,
        }
    }
}

/// A parsed CTranslate2 model.
#[derive(Debug, Clone, PartialEq)]
pub struct Ct2Model {
    /// Spec name, e.g. `WhisperSpec`.
    pub spec: String,
    /// Spec revision.
    pub revision: u32,
    /// Variables by name (aliases resolved into copies of their target's name list only).
    pub tensors: HashMap<String, Ct2Tensor>,
    /// `alias → target` pairs.
    pub aliases: Vec<(String, String)>,
}

/// Why a `model.bin` could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Ct2Error {
    /// File ended inside a field.
    #[error("CTranslate2 model is truncated at byte {0}")]
    Truncated(usize),
    /// Binary version other than 6.
    #[error("unsupported CTranslate2 binary version {0} (expected 6)")]
    Version(u32),
    /// Unknown dtype id.
    #[error("variable `{name}` has unknown dtype id {id}")]
    DType { name: String, id: u8 },
    /// Byte count disagrees with shape × dtype.
    #[error("variable `{0}` has a byte size that does not match its shape")]
    Size(String),
    /// A name is not UTF-8.
    #[error("CTranslate2 model has a non-UTF-8 name at byte {0}")]
    Utf8(usize),
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Ct2Error> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(Ct2Error::Truncated(self.pos))?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or(Ct2Error::Truncated(self.pos))?;
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, Ct2Error> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Ct2Error> {
        Ok(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Result<u32, Ct2Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, Ct2Error> {
        let at = self.pos;
        let len = usize::from(self.u16()?);
        let raw = self.take(len)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(raw.to_vec()).map_err(|_| Ct2Error::Utf8(at))
    }
}

impl Ct2Model {
    /// Parses a whole `model.bin` held in memory.
    ///
    /// # Errors
    /// [`Ct2Error`] for any malformed or unsupported content.
    pub fn parse(buf: &[u8]) -> Result<Self, Ct2Error> {
        let mut c = Cursor { buf, pos: 0 };
        let version = c.u32()?;
        if version != 6 {
            return Err(Ct2Error::Version(version));
        }
        let spec = c.string()?;
        let revision = c.u32()?;
        let count = c.u32()?;
        let mut tensors = HashMap::new();
        for _ in 0..count {
            let name = c.string()?;
            let rank = usize::from(c.u8()?);
            let dims = (0..rank)
                .map(|_| c.u32().map(|d| d as usize))
                .collect::<Result<Vec<_>, _>>()?;
            let id = c.u8()?;
            let dtype = Ct2DType::from_id(id).ok_or_else(|| Ct2Error::DType {
                name: name.clone(),
                id,
            })?;
            let n_bytes = c.u32()? as usize;
            let elems: usize = dims.iter().product();
            if elems.checked_mul(dtype.size()) != Some(n_bytes) {
                return Err(Ct2Error::Size(name));
            }
            let data = c.take(n_bytes)?.to_vec();
            tensors.insert(name, Ct2Tensor { dims, dtype, data });
        }
        let n_aliases = c.u32()?;
        let aliases = (0..n_aliases)
            .map(|_| Ok((c.string()?, c.string()?)))
            .collect::<Result<Vec<_>, Ct2Error>>()?;
        Ok(Self {
            spec,
            revision,
            tensors,
            aliases,
        })
    }

    /// The tensor `name`, following aliases.
    pub fn get(&self, name: &str) -> Option<&Ct2Tensor> {
        self.tensors.get(name).or_else(|| {
            let (_, target) = self.aliases.iter().find(|(a, _)| a == name)?;
            self.tensors.get(target)
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Serialises a model in the CTranslate2 layout (test helper, also used by ct2ggml tests).
    pub(crate) fn encode(spec: &str, vars: &[(&str, Vec<u32>, u8, Vec<u8>)]) -> Vec<u8> {
        fn string(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u16 + 1).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        let mut out = 6u32.to_le_bytes().to_vec();
        string(&mut out, spec);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
        for (name, dims, dtype, data) in vars {
            string(&mut out, name);
            out.push(dims.len() as u8);
            for d in dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.push(*dtype);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out.extend_from_slice(&1u32.to_le_bytes());
        string(&mut out, "decoder/projection/weight");
        string(&mut out, "decoder/embeddings/weight");
        out
    }

    #[test]
    fn parses_variables_scalars_and_aliases() {
        let bytes = encode(
            "WhisperSpec",
            &[
                ("decoder/embeddings/weight", vec![2, 2], 0, vec![0; 16]),
                ("encoder/num_heads", vec![], 2, 6i16.to_le_bytes().to_vec()),
            ],
        );
        let m = Ct2Model::parse(&bytes).unwrap();
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.revision, 3);
        assert_eq!(m.get("encoder/num_heads").unwrap().as_int(), Some(6));
        assert_eq!(m.get("decoder/projection/weight").unwrap().dims, vec![2, 2]);
    }

    #[test]
    fn rejects_truncation_bad_version_and_bad_sizes() {
        let good = encode("S", &[("a", vec![3], 4, vec![0; 6])]);
        for cut in [0, 3, 10, good.len() - 1] {
            assert!(matches!(
                Ct2Model::parse(&good[..cut]),
                Err(Ct2Error::Truncated(_))
            ));
        }
        let mut v5 = good.clone();
        v5[0] = 5;
        assert_eq!(Ct2Model::parse(&v5), Err(Ct2Error::Version(5)));
        let bad = encode("S", &[("a", vec![3], 4, vec![0; 4])]);
        assert_eq!(Ct2Model::parse(&bad), Err(Ct2Error::Size("a".into())));
        let dtype = encode("S", &[("a", vec![1], 9, vec![0; 4])]);
        assert!(matches!(
            Ct2Model::parse(&dtype),
            Err(Ct2Error::DType { id: 9, .. })
        ));
    }
}
