// README.md is this crate's documentation, so `cargo test --workspace`
// compiles and runs each of its Rust code blocks as a doc test, linked
// against nothing but the dependencies README's "Use it" section lists.
#![doc = include_str!("../../README.md")]

#[cfg(test)]
mod tests {
    /// The `name = ...` lines of the first TOML block after `heading`.
    fn toml_dependency_lines(text: &str, heading: &str) -> Vec<String> {
        let after = text.split_once(heading).map_or("", |(_, rest)| rest);
        let block = after.split_once("```toml\n").map_or("", |(_, rest)| rest);
        let block = block.split_once("```").map_or("", |(body, _)| body);
        block
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
            .map(String::from)
            .collect()
    }

    /// The lines of this crate's `[dependencies]` table.
    fn manifest_dependency_lines(manifest: &str) -> Vec<String> {
        let table = manifest.split_once("[dependencies]\n").map_or("", |(_, rest)| rest);
        table
            .lines()
            .map(str::trim)
            .take_while(|l| !l.starts_with('['))
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect()
    }

    #[test]
    fn manifest_has_exactly_the_readme_dependency_lines() {
        let readme = toml_dependency_lines(include_str!("../../README.md"), "## Use it");
        assert!(!readme.is_empty(), "README has no ```toml block under \"## Use it\"");
        let published = readme
            .iter()
            .map(|l| if l.starts_with("urix = ") { "urix = { path = \"..\" }".to_string() } else { l.clone() })
            .collect::<Vec<_>>();
        assert_eq!(manifest_dependency_lines(include_str!("../Cargo.toml")), published);
        // And README names the version of urix that this workspace builds.
        let urix_line = readme.iter().find(|l| l.starts_with("urix = ")).expect("README adds urix");
        assert!(urix_line.contains(&format!("\"{}\"", urix_version())), "README's line: {urix_line}");
    }

    /// urix's version as a dependency requirement: "MAJOR.MINOR".
    fn urix_version() -> String {
        let manifest = include_str!("../../Cargo.toml");
        let version = manifest
            .lines()
            .find_map(|l| l.strip_prefix("version = \""))
            .and_then(|v| v.strip_suffix('"'))
            .expect("urix's version");
        let mut parts = version.split('.');
        format!("{}.{}", parts.next().unwrap_or("0"), parts.next().unwrap_or("0"))
    }
}
