//! Tar archives, the form in which Docker takes files: uploads into containers, a node's
//! state files, the build context of an image.

use std::time::{SystemTime, UNIX_EPOCH};

/// An entry that could not be packed (a path tar cannot hold).
#[derive(Debug, thiserror::Error)]
#[error("cannot pack {path} for a container")]
pub struct ArchiveError {
    /// The entry's path.
    pub path: String,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// A tar archive being built in memory.
pub struct Archive {
    tar: tar::Builder<Vec<u8>>,
    mtime: u64,
}

impl Default for Archive {
    fn default() -> Self {
        Self::new()
    }
}

impl Archive {
    /// An empty archive; its entries carry the current time.
    pub fn new() -> Self {
        let mtime = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Self { tar: tar::Builder::new(Vec::new()), mtime }
    }

    /// Adds the file `path` (relative; a leading `/` is dropped) with `content` and `mode`.
    pub fn file(&mut self, path: &str, content: &[u8], mode: u32) -> Result<&mut Self, ArchiveError> {
        self.entry(path, Some(content), mode)
    }

    /// Adds the directory `path` with `mode`.
    pub fn dir(&mut self, path: &str, mode: u32) -> Result<&mut Self, ArchiveError> {
        self.entry(path, None, mode)
    }

    fn entry(&mut self, path: &str, content: Option<&[u8]>, mode: u32) -> Result<&mut Self, ArchiveError> {
        let mut header = tar::Header::new_gnu();
        if content.is_none() {
            header.set_entry_type(tar::EntryType::Directory);
        }
        header.set_size(content.map_or(0, |c| c.len() as u64));
        header.set_mode(mode);
        header.set_mtime(self.mtime);
        header.set_cksum();
        self.tar
            .append_data(&mut header, path.trim_start_matches('/'), content.unwrap_or_default())
            .map_err(|source| ArchiveError { path: path.to_string(), source })?;
        Ok(self)
    }

    /// The archive's bytes.
    pub fn finish(self) -> Result<Vec<u8>, ArchiveError> {
        self.tar.into_inner().map_err(|source| ArchiveError { path: "the archive's end".into(), source })
    }

    /// An archive of the one file `path` with `content` and `mode`.
    pub fn single(path: &str, content: &[u8], mode: u32) -> Result<Vec<u8>, ArchiveError> {
        let mut archive = Self::new();
        archive.file(path, content, mode)?;
        archive.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_dirs_round_trip() {
        let mut a = Archive::new();
        a.dir("certs", 0o700).unwrap().file("/certs/cert.pem", b"pem", 0o600).unwrap();
        let bytes = a.finish().unwrap();
        let mut read = tar::Archive::new(bytes.as_slice());
        let entries: Vec<(String, u32, u64)> = read
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().to_string_lossy().into_owned(), e.header().mode().unwrap(), e.size())
            })
            .collect();
        assert_eq!(entries, [("certs".into(), 0o700, 0), ("certs/cert.pem".into(), 0o600, 3)]);
    }
}
