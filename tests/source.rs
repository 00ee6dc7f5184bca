//! Reading schema files.

use std::path::PathBuf;

use zdm::source::{SourceError, SourceSet};

#[test]
fn reads_files_and_directories_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("schema/b")).unwrap();
    std::fs::create_dir_all(root.join("schema/.git")).unwrap();
    std::fs::write(root.join("schema/b/2.sql"), "SELECT 2").unwrap();
    std::fs::write(root.join("schema/a.sql"), "SELECT 1").unwrap();
    std::fs::write(root.join("schema/notes.txt"), "x").unwrap();
    std::fs::write(root.join("schema/.git/x.sql"), "x").unwrap();
    std::fs::write(root.join("extra.psql"), "SELECT 3").unwrap();
    let set = SourceSet::read(&[root.join("schema"), root.join("extra.psql")]).unwrap();
    let paths: Vec<PathBuf> = set.files().iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        paths,
        [
            root.join("extra.psql"),
            root.join("schema/a.sql"),
            root.join("schema/b/2.sql")
        ]
    );
    assert_eq!(set.files()[1].text, "SELECT 1");
}

#[test]
fn errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let e = SourceSet::read(std::slice::from_ref(&missing)).unwrap_err();
    assert!(matches!(e, SourceError::Missing { .. }));
    assert_eq!(
        e.to_string(),
        format!("{}: no such file or directory", missing.display())
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = SourceSet::read(std::slice::from_ref(&empty)).unwrap_err();
    assert!(matches!(e, SourceError::NoSqlFiles { .. }), "{e}");

    let bad = dir.path().join("bad.sql");
    std::fs::write(&bad, b"SELECT '\xff'").unwrap();
    let e = SourceSet::read(&[bad]).unwrap_err();
    assert!(
        e.to_string().ends_with("not valid UTF-8 (at byte 8)"),
        "{e}"
    );

    assert!(matches!(SourceSet::read(&[]), Err(SourceError::NoPaths)));
}
