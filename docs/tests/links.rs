//! Every link in the workspace's Markdown, checked: a file it names
//! exists (relative to the page), and a `#fragment` names a heading of
//! the page it points to. Links to other sites are not followed (CI has
//! no network); they are listed, so a reader can see what was skipped.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

/// The workspace's root, one folder above this crate.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the guide is inside the workspace")
        .to_path_buf()
}

/// The Markdown files a reader opens: the README, the guide, each crate's
/// README and the changelog.
fn pages() -> Vec<PathBuf> {
    let root = root();
    let mut pages: Vec<PathBuf> = [
        "README.md",
        "CHANGELOG.md",
        "cli/README.md",
        "service/README.md",
    ]
    .iter()
    .map(|name| root.join(name))
    .collect();
    for folder in [
        "docs",
        "stores/record",
        "stores/sqlx",
        "stores/redis",
        "stores/any",
    ] {
        for entry in fs::read_dir(root.join(folder)).expect("a folder of the workspace") {
            let path = entry.expect("a readable entry").path();
            if path.extension().is_some_and(|ext| ext == "md") {
                pages.push(path);
            }
        }
    }
    pages
}

/// The text outside fenced code blocks and inline code spans, where a
/// bracket is Markdown rather than code.
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if fenced {
            out.push('\n');
            continue;
        }
        // Inline code spans, backtick to backtick, are dropped.
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// The targets of `[text](target)` and `[text]: target` links.
fn links(text: &str) -> Vec<String> {
    let text = prose(text);
    let mut targets = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find("](") {
        let start = at + found + 2;
        let end = text[start..]
            .find(')')
            .map_or(text.len(), |offset| start + offset);
        targets.push(text[start..end].trim().to_owned());
        at = end;
    }
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix('[')
            && let Some((_, target)) = rest.split_once("]: ")
        {
            targets.push(target.trim().to_owned());
        }
    }
    targets
}

/// A heading's fragment as GitHub makes it: lower case, spaces to
/// hyphens, punctuation other than `-` and `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The fragments the headings of a Markdown text define.
fn fragments(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            found.insert(slug(line.trim_start_matches('#').replace('`', "").as_str()));
        }
    }
    found
}

/// What is wrong with the links of `text`, a page at `page`.
fn broken(page: &Path, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for target in links(text) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, fragment) = match target.split_once('#') {
            Some((path, fragment)) => (path, Some(fragment)),
            None => (target.as_str(), None),
        };
        let file = if path.is_empty() {
            page.to_path_buf()
        } else {
            page.parent().expect("a page is in a folder").join(path)
        };
        if !file.exists() {
            problems.push(format!("{}: {target}: no such file", page.display()));
            continue;
        }
        if let Some(fragment) = fragment {
            let heads = if file == page {
                fragments(text)
            } else {
                fragments(&fs::read_to_string(&file).unwrap_or_default())
            };
            if !heads.contains(fragment) {
                problems.push(format!("{}: {target}: no such heading", page.display()));
            }
        }
    }
    problems
}

#[test]
fn every_link_between_pages_resolves() {
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut external = BTreeSet::new();
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        checked += links(&text).len();
        external.extend(
            links(&text)
                .into_iter()
                .filter(|target| target.contains("://")),
        );
        problems.extend(broken(&page, &text));
    }
    println!(
        "{checked} links checked; {} to other sites not followed",
        external.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        checked > 30,
        "only {checked} links found: is the parser reading the pages?"
    );
}

#[test]
fn the_checker_finds_what_is_broken() {
    let page = root().join("docs/README.md");
    let text = "\
[fine](setting-up.md) [gone](no-such-page.md) [heading](passkeys.md#no-such-heading)
[self](#the-twofa-guide) [missing](#nowhere) `[code](not-a-link.md)`
```
[fenced](not-a-link-either.md)
```
[ref]: ../nothing-here.md
";
    let problems = broken(&page, &format!("# The twofa guide\n{text}"));
    let said: Vec<&str> = problems
        .iter()
        .map(|problem| problem.rsplit(": ").nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        said,
        [
            "no-such-page.md",
            "passkeys.md#no-such-heading",
            "#nowhere",
            "../nothing-here.md"
        ],
        "{problems:?}"
    );
}

#[test]
fn headings_become_fragments_as_on_github() {
    assert_eq!(
        slug("Many instances, one truth"),
        "many-instances-one-truth"
    );
    assert_eq!(
        slug("The seeds' API as a service"),
        "the-seeds-api-as-a-service"
    );
    assert_eq!(slug("Redis durability"), "redis-durability");
}
