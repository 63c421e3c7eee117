//! The web layer's one way through (issue 8 §1): a handler (a function that takes the
//! `State<AppState>` extractor) is a thin adapter. It translates a form or JSON in and HTML or
//! JSON out, and calls one service function; it never checks a permission nor reads the store
//! itself. This test reads the crate's source and names every handler that does.

use std::path::{Path, PathBuf};

use quote::ToTokens;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Whether a parameter's type is `State<AppState>`.
fn is_state(arg: &syn::FnArg) -> bool {
    let syn::FnArg::Typed(t) = arg else {
        return false;
    };
    let ty = t.ty.to_token_stream().to_string().replace(' ', "");
    ty == "State<AppState>" || ty.ends_with("::State<AppState>")
}

/// What a handler's body may not do, as token text.
const FORBIDDEN: &[(&str, &str)] = &[
    (". store", "reads or writes the store"),
    (". may (", "checks a permission"),
];

/// A call of `require(…)`, `require_city(…)` and the like: a role or rule check.
fn calls_require(body: &str) -> bool {
    body.match_indices("require").any(|(i, _)| {
        // `.required()` and other methods are not calls of a `require…` function.
        let before = body[..i].trim_end().chars().next_back();
        let after = &body[i..];
        let name_end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            && after[name_end..].starts_with(" (")
    })
}

fn walk(items: &[syn::Item], file: &str, found: &mut Vec<String>) {
    for item in items {
        match item {
            syn::Item::Fn(f) if f.sig.inputs.iter().any(is_state) => {
                let body = f.block.to_token_stream().to_string();
                for (needle, what) in FORBIDDEN {
                    if body.contains(needle) {
                        found.push(format!("{file}: {} {what}", f.sig.ident));
                    }
                }
                if calls_require(&body) {
                    found.push(format!("{file}: {} checks a role or rule", f.sig.ident));
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    walk(items, file, found);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn handlers_call_services_not_the_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    let mut found = Vec::new();
    let mut handlers = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        handlers += text.matches("State<AppState>").count();
        walk(&ast.items, &name, &mut found);
    }
    assert!(
        handlers > 100,
        "the crate's handlers were not found ({handlers})"
    );
    assert!(
        found.is_empty(),
        "{} handler(s) do a service's work; move it into the area's service function:\n{}",
        found.len(),
        found.join("\n")
    );
}
