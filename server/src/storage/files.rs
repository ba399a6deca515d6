//! File primitives: fsync (with the `fsync` failpoint), atomic replace, reading a file that
//! may not exist.

use super::StorageError;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

/// Makes a file's data durable. Every fsync of the storage layer goes through here, so the
/// `fsync` failpoint covers them all: `return` fails it (as a disk error would), `sleep(ms)`
/// makes it slow.
pub fn fsync(file: &File, path: &Path) -> Result<(), StorageError> {
    fail::fail_point!("fsync", |_| Err(StorageError::Injected {
        op: "fsync",
        path: path.to_path_buf(),
    }));
    file.sync_data()
        .map_err(|source| StorageError::io("fsync", path, source))
}

/// Makes a directory's entries (a rename, a new or deleted file) durable.
pub fn fsync_dir(dir: &Path) -> Result<(), StorageError> {
    let handle =
        File::open(dir).map_err(|source| StorageError::io("open directory", dir, source))?;
    fsync(&handle, dir)
}

/// Replaces `dir/name` with `bytes` so that a crash leaves the old file or the new one, never
/// a mix: write `name.tmp`, fsync it, rename it over `name`, fsync the directory.
pub fn replace_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let tmp = dir.join(format!("{name}.tmp"));
    let target = dir.join(name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|source| StorageError::io("create", &tmp, source))?;
    file.write_all(bytes)
        .map_err(|source| StorageError::io("write", &tmp, source))?;
    fsync(&file, &tmp)?;
    drop(file);
    fs::rename(&tmp, &target).map_err(|source| StorageError::io("rename", &tmp, source))?;
    fsync_dir(dir)
}

/// The bytes of `path`, or nothing if it does not exist (a file never written).
pub fn read_optional(path: &Path) -> Result<Vec<u8>, StorageError> {
    match fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(StorageError::io("read", path, source)),
    }
}

/// Removes the temporary files a crash in the middle of [`replace_atomically`] leaves.
pub fn remove_temporaries(dir: &Path) -> Result<(), StorageError> {
    let entries = fs::read_dir(dir).map_err(|source| StorageError::io("list", dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| StorageError::io("list", dir, source))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "tmp") {
            fs::remove_file(&path).map_err(|source| StorageError::io("remove", &path, source))?;
        }
    }
    Ok(())
}
