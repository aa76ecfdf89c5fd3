//! Precompressed static assets. `consent-portal precompress` (run by the scripts right after
//! `cargo leptos build`) writes brotli (quality 11) and gzip (best) copies of the built site's
//! wasm, JS and CSS next to them, so the static-file service sends them as they are
//! (`precompressed_br`/`precompressed_gzip`) instead of compressing every download on the fly at
//! a low level. A copy is rewritten only when its source is newer.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What one file compressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    pub file: PathBuf,
    pub raw: u64,
    pub brotli: u64,
    pub gzip: u64,
}

/// The file types worth compressing.
const EXTENSIONS: &[&str] = &["wasm", "js", "css"];

/// Writes `.br` (at brotli `quality`, 11 for a release) and `.gz` copies of every wasm, JS and
/// CSS file in `dir` (not recursive) whose copies are missing or older than the file; returns the
/// sizes of every such file.
pub fn precompress(dir: &Path, quality: u32) -> std::io::Result<Vec<Compressed>> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else { continue };
        if !EXTENSIONS.contains(&ext) || !path.is_file() {
            continue;
        }
        let raw = std::fs::read(&path)?;
        let br = sibling(&path, "br");
        let gz = sibling(&path, "gz");
        if stale(&path, &br)? {
            let mut w = brotli::CompressorWriter::new(Vec::new(), 64 * 1024, quality.min(11), 22);
            w.write_all(&raw)?;
            write_atomically(&br, &w.into_inner())?;
        }
        if stale(&path, &gz)? {
            let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            w.write_all(&raw)?;
            write_atomically(&gz, &w.finish()?)?;
        }
        out.push(Compressed { file: path.clone(), raw: raw.len() as u64, brotli: std::fs::metadata(&br)?.len(), gzip: std::fs::metadata(&gz)?.len() });
    }
    Ok(out)
}

/// Deletes precompressed copies older than their source (the site was rebuilt without
/// `precompress`), so a stale copy is never served in place of the new file; returns how many.
pub fn drop_stale(dir: &Path) -> std::io::Result<usize> {
    let mut dropped = 0;
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(0) };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let (Some(ext), Some(stem)) = (path.extension().and_then(|e| e.to_str()), path.file_stem()) else { continue };
        if ext != "br" && ext != "gz" {
            continue;
        }
        let source = path.with_file_name(stem);
        if !source.exists() || stale(&source, &path)? {
            std::fs::remove_file(&path)?;
            dropped += 1;
        }
    }
    Ok(dropped)
}

fn sibling(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

fn stale(source: &Path, copy: &Path) -> std::io::Result<bool> {
    let Ok(copy_meta) = std::fs::metadata(copy) else { return Ok(true) };
    Ok(std::fs::metadata(source)?.modified()? > copy_meta.modified()?)
}

/// Writes through a temporary file and a rename, so a server never serves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = sibling(path, "tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn copies_decompress_to_the_original_and_are_rewritten_only_when_stale() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("app.wasm");
        let body: Vec<u8> = (0..50_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        std::fs::write(&wasm, &body).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"not compressed").unwrap();
        let done = precompress(dir.path(), 11).unwrap();
        assert_eq!(done.len(), 1, "only wasm, js and css");
        assert!(done[0].brotli < done[0].raw && done[0].gzip < done[0].raw);
        let mut unbr = Vec::new();
        brotli::Decompressor::new(std::fs::File::open(dir.path().join("app.wasm.br")).unwrap(), 4096).read_to_end(&mut unbr).unwrap();
        assert_eq!(unbr, body);
        let mut ungz = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(dir.path().join("app.wasm.gz")).unwrap()).read_to_end(&mut ungz).unwrap();
        assert_eq!(ungz, body);
        let before = std::fs::metadata(dir.path().join("app.wasm.br")).unwrap().modified().unwrap();
        precompress(dir.path(), 11).unwrap();
        assert_eq!(std::fs::metadata(dir.path().join("app.wasm.br")).unwrap().modified().unwrap(), before, "fresh copies are kept");
        assert!(!dir.path().join("notes.txt.br").exists());
        assert_eq!(drop_stale(dir.path()).unwrap(), 0, "fresh copies stay");
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&wasm, b"rebuilt").unwrap();
        assert_eq!(drop_stale(dir.path()).unwrap(), 2, "copies of an older build go");
        assert!(!dir.path().join("app.wasm.br").exists() && wasm.exists());
    }
}
