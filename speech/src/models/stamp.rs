//! Per-model stamp files (`<root>/.stamps/<id>.json`): what a completed fetch produced, so a
//! later fetch can skip a model whose outputs are present and byte-identical.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One output file of a model and its content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Output {
    /// Path relative to the store root.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// The record of a completed fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    /// sha256 of the wheels it came from, in manifest order.
    pub wheels: Vec<String>,
    pub outputs: Vec<Output>,
}

pub(crate) fn stamp_path(root: &Path, id: &str) -> PathBuf {
    root.join(".stamps").join(format!("{id}.json"))
}

/// Lower-case hex sha256 of a file, streamed.
pub(crate) fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Output {
    pub(crate) fn of(root: &Path, rel: &str) -> io::Result<Self> {
        let path = root.join(rel);
        Ok(Self {
            path: rel.to_string(),
            size: fs::metadata(&path)?.len(),
            sha256: sha256_file(&path)?,
        })
    }
}

impl Stamp {
    /// Reads the stamp of model `id`, if any (an unreadable stamp counts as absent).
    pub(crate) fn read(root: &Path, id: &str) -> Option<Self> {
        let text = fs::read_to_string(stamp_path(root, id)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Whether the stamp matches the manifest's wheels and every output is still intact.
    pub(crate) fn is_current(&self, root: &Path, wheels: &[String]) -> bool {
        self.wheels == wheels
            && !self.outputs.is_empty()
            && self.outputs.iter().all(|o| {
                let path = root.join(&o.path);
                fs::metadata(&path).is_ok_and(|m| m.len() == o.size)
                    && sha256_file(&path).is_ok_and(|h| h == o.sha256)
            })
    }

    /// Writes the stamp atomically.
    pub(crate) fn write(&self, root: &Path, id: &str) -> io::Result<()> {
        let path = stamp_path(root, id);
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        write_atomic(&path, |f| io::Write::write_all(f, &json))
    }
}

/// Writes `path` through `<path>.tmp` and a rename, so readers never see a partial file.
pub(crate) fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = fs::File::create(&tmp).and_then(|mut f| {
        fill(&mut f)?;
        f.sync_all()
    });
    match result {
        Ok(()) => fs::rename(&tmp, path),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_detects_changed_and_missing_outputs() {
        let root = std::env::temp_dir().join(format!("sb-stamp-{}", std::process::id()));
        write_atomic(&root.join("a/file.bin"), |f| {
            io::Write::write_all(f, b"abc")
        })
        .unwrap();
        let out = Output::of(&root, "a/file.bin").unwrap();
        assert_eq!(
            out.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let stamp = Stamp {
            wheels: vec!["w".into()],
            outputs: vec![out],
        };
        stamp.write(&root, "m").unwrap();
        let back = Stamp::read(&root, "m").unwrap();
        assert!(back.is_current(&root, &["w".into()]));
        assert!(!back.is_current(&root, &["other".into()]));
        fs::write(root.join("a/file.bin"), b"abd").unwrap();
        assert!(!back.is_current(&root, &["w".into()]));
        fs::remove_file(root.join("a/file.bin")).unwrap();
        assert!(!back.is_current(&root, &["w".into()]));
        fs::remove_dir_all(&root).unwrap();
    }
}
