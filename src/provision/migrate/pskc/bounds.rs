//! Bounds on the XML markup, checked before the parser sees it.
//!
//! roxmltree bounds the nodes and refuses DTDs, but its checks for
//! duplicate attributes and its namespace bookkeeping cost the square of
//! the attributes on an element and of the namespaces in scope: a file of
//! a few hundred kilobytes could hold a reader for minutes. Real PSKC files
//! have a handful of each, so this scan refuses files with more than
//! [`MAX_ATTRIBUTES`] on one tag or [`MAX_NAMESPACES`] declarations in
//! scope at once. It only counts: comments, CDATA, processing instructions
//! and quoted values are skipped, and the parser still decides what is
//! well formed.

use alloc::vec::Vec;

use super::super::error::Problem;

/// The most attributes one start tag may carry.
const MAX_ATTRIBUTES: usize = 32;

/// The most namespace declarations (`xmlns`, `xmlns:p`) in scope at once:
/// on an element and the elements around it.
const MAX_NAMESPACES: usize = 64;

/// Refuses markup beyond the bounds.
pub(super) fn check(xml: &str) -> Result<(), Problem> {
    let bytes = xml.as_bytes();
    // The declarations each open element made, and their sum.
    let mut scope: Vec<u8> = Vec::new();
    let mut in_scope: usize = 0;
    let mut at = 0;
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        let start = at + offset;
        let rest = bytes.get(start..).unwrap_or_default();
        // Markup whose insides are not attributes: skipped whole.
        let skipped = [("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>")]
            .into_iter()
            .find(|(open, _)| rest.starts_with(open.as_bytes()));
        if let Some((open, close)) = skipped {
            let body = rest.get(open.len()..).unwrap_or_default();
            at = match find(body, close.as_bytes()) {
                Some(end) => start + open.len() + end + close.len(),
                None => return Ok(()),
            };
            continue;
        }
        // A tag: count the `=` outside quotes, and the `xmlns` names.
        let mut attributes = 0;
        let mut namespaces = 0;
        let mut quote = None;
        let mut previous = 0;
        let mut end = bytes.len();
        for (index, &byte) in rest.iter().enumerate().skip(1) {
            match (quote, byte) {
                (Some(open), _) if byte == open => quote = None,
                (Some(_), _) => {}
                (None, b'"' | b'\'') => quote = Some(byte),
                (None, b'=') => attributes += 1,
                (None, b'>') => {
                    end = start + index + 1;
                    break;
                }
                (None, b'x')
                    if rest
                        .get(index..)
                        .is_some_and(|name| name.starts_with(b"xmlns")) =>
                {
                    namespaces += 1;
                }
                (None, _) => {}
            }
            if quote.is_none() && !byte.is_ascii_whitespace() {
                previous = byte;
            }
        }
        if attributes > MAX_ATTRIBUTES {
            return Err(Problem::TooLarge("32 attributes on an element"));
        }
        if rest.get(1) == Some(&b'/') {
            // An end tag closes the innermost element.
            in_scope = in_scope.saturating_sub(usize::from(scope.pop().unwrap_or(0)));
        } else {
            if in_scope + namespaces > MAX_NAMESPACES {
                return Err(Problem::TooLarge("64 namespace declarations in scope"));
            }
            // `<e/>` closes at once; `<e>` stays open with its declarations.
            if previous != b'/' {
                scope.push(u8::try_from(namespaces).unwrap_or(u8::MAX));
                in_scope += namespaces;
            }
        }
        at = end;
    }
    Ok(())
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
