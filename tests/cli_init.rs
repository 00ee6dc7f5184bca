//! `zdm init` and the `zdm.toml` it writes: the repository it starts works with `zdm diff`
//! as it is, and `[apply]` settings reach the executor.

mod cli_support;
mod common;

use cli_support::{dev_url, zdm};

#[tokio::test]
async fn init_starts_a_repository_that_diff_and_apply_read() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path().display().to_string();
    let init = zdm(&["init", dir.as_str()]).await;
    assert_eq!(init.code, 0, "{}", init.text());
    assert!(repo.path().join("schema").is_dir());
    let config = repo.path().join("zdm.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("[apply]"), "{text}");

    // A second init leaves the repository alone.
    let again = zdm(&["init", dir.as_str()]).await;
    assert_eq!(again.code, 2, "{}", again.text());
    assert!(again.stderr.contains("already exists"), "{}", again.text());
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);

    // The schema path comes from zdm.toml (relative to it).
    std::fs::write(
        repo.path().join("schema/items.sql"),
        "CREATE TABLE public.items (id bigint PRIMARY KEY);\n",
    )
    .unwrap();
    let db = common::test_db().await;
    let config_arg = config.display().to_string();
    let base = [
        "--db",
        db.conninfo.as_str(),
        "--config",
        config_arg.as_str(),
        "--dev-url",
    ];
    let url = dev_url();
    let mut diff_args = vec!["diff"];
    diff_args.extend(base);
    diff_args.push(url.as_str());
    let diff = zdm(&diff_args).await;
    assert_eq!(diff.code, 1, "{}", diff.text());
    assert!(diff.stdout.contains("public.items"), "{}", diff.text());

    // `[apply]` settings are the executor's defaults: with the template's 24h rollback
    // window contract waits; with 0s it runs right after expand.
    db.client
        .batch_execute("CREATE TABLE public.old_stuff (id int);")
        .await
        .unwrap();
    let mut apply_args = vec![
        "apply",
        "--phase",
        "all",
        "--yes",
        "--allow-hazards",
        "data-loss",
    ];
    apply_args.extend(base);
    apply_args.push(url.as_str());
    let waits = zdm(&apply_args).await;
    assert_ne!(waits.code, 0, "{}", waits.text());
    assert!(waits.text().contains("rollback window"), "{}", waits.text());
    std::fs::write(
        &config,
        text.replace("rollback_window = \"24h\"", "rollback_window = \"0s\""),
    )
    .unwrap();
    let apply = zdm(&apply_args).await;
    assert_eq!(apply.code, 0, "{}", apply.text());
    let after = zdm(&diff_args).await;
    assert_eq!(after.code, 0, "{}", after.text());

    // An unknown key is an error naming it and its line.
    std::fs::write(&config, "schema = [\"schema\"]\n[apply]\nlock_timout = 5\n").unwrap();
    let bad = zdm(&diff_args).await;
    assert_eq!(bad.code, 2, "{}", bad.text());
    assert!(
        bad.stderr.contains("line 3") && bad.stderr.contains("lock_timout"),
        "{}",
        bad.text()
    );
}
