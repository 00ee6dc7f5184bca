//! The parse layer under arbitrary and mutated input: statement splitting, annotations and
//! error positions never panic, and every error points inside the text it is about.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use zdm::parse::parse_desired;
use zdm::source::SourceSet;

/// Real schema files to mutate: the bundled example and the desired schema.
fn seeds() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![std::fs::read_to_string(root.join("examples/shop/v1/schema.sql")).unwrap()];
    for entry in std::fs::read_dir(root.join("schema")).unwrap() {
        out.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    out.push(
        "-- zdm:renamed-from old_name\nCREATE TABLE t (\n  id bigint PRIMARY KEY,\n  \
         total numeric -- zdm:using total::numeric\n, name text -- zdm:backfill concat(a, 'x')\n);\n\
         CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n\
         DO $do$ BEGIN RAISE NOTICE 'x'; END $do$;\nCOMMENT ON TABLE t IS 'it''s';\n"
            .to_string(),
    );
    out
}

/// Fragments that stress the splitter and the annotation reader.
const FRAGMENTS: &[&str] = &[
    ";",
    "'",
    "\"",
    "$$",
    "$x$",
    "--",
    "/*",
    "*/",
    "\n",
    "-- zdm:",
    "-- zdm:backfill ",
    "-- zdm:renamed-from ",
    "-- zdm:using ",
    "E'\\",
    "\\",
    "(",
    ")",
    "CREATE TABLE ",
    "é",
    "𝄞",
    "\0",
    "\r\n",
    "BEGIN;",
    "INSERT INTO t VALUES (1);",
    "\\set x 1\n",
];

/// Parse `text` as one file and check what comes back.
fn check(text: &str) -> Result<(), TestCaseError> {
    let sources = SourceSet::from_texts([("fuzz.sql", text.to_string())]);
    // Parsing must return, never panic (a panic fails the case with its message).
    if let Err(errors) = parse_desired(sources) {
        prop_assert!(!errors.0.is_empty(), "an error result without errors");
        for error in &errors.0 {
            let (start, end) = (error.span.start, error.span.end);
            prop_assert!(
                start <= end && end <= text.len(),
                "span {start}..{end} outside the input of {} bytes: {error}",
                text.len()
            );
            prop_assert!(
                text.is_char_boundary(start) && text.is_char_boundary(end),
                "span {start}..{end} splits a character: {error}"
            );
            prop_assert!(
                error.to_string().contains("fuzz.sql:"),
                "no position: {error}"
            );
        }
    }
    Ok(())
}

fn config() -> Config {
    Config {
        cases: 300,
        rng_seed: RngSeed::Fixed(0x7a646d),
        failure_persistence: None,
        ..Config::default()
    }
}

/// A seed file with up to four edits: a range deleted, a fragment inserted, a range doubled.
fn mutated() -> impl Strategy<Value = String> {
    let seeds = seeds();
    let edits = prop::collection::vec(
        (
            0u8..3,
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            0..FRAGMENTS.len(),
        ),
        1..5,
    );
    (0..seeds.len(), edits).prop_map(move |(which, edits)| {
        let mut text = seeds[which].clone();
        for (kind, a, b, fragment) in edits {
            let boundaries: Vec<usize> = (0..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .collect();
            let (mut x, mut y) = (a.get(&boundaries).to_owned(), b.get(&boundaries).to_owned());
            if x > y {
                std::mem::swap(&mut x, &mut y);
            }
            match kind {
                0 => text.replace_range(x..y.min(x + 40), ""),
                1 => text.insert_str(x, FRAGMENTS[fragment]),
                _ => {
                    let copy = text[x..y.min(x + 80)].to_string();
                    text.insert_str(y, &copy)
                }
            }
        }
        text
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics_and_errors_point_inside_it(text in "\\PC{0,200}") {
        check(&text)?;
    }

    #[test]
    fn fragments_of_sql_never_panic(parts in prop::collection::vec(0..FRAGMENTS.len(), 0..30)) {
        let text: String = parts.iter().map(|i| FRAGMENTS[*i]).collect();
        check(&text)?;
    }

    #[test]
    fn mutated_schema_files_never_panic(text in mutated()) {
        check(&text)?;
    }
}

/// The property is not vacuous: broken input does come back as errors with positions.
#[test]
fn broken_input_comes_back_as_positioned_errors() {
    for text in [
        "CREATE TABL x (id int);",
        "CREATE TABLE t (id int;\n",
        "UPDATE t SET a = 1;",
    ] {
        let sources = SourceSet::from_texts([("fuzz.sql", text.to_string())]);
        let errors = parse_desired(sources).expect_err(text);
        assert!(errors.to_string().contains("fuzz.sql:1:"), "{errors}");
        check(text).unwrap();
    }
}
