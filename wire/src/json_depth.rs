//! How deep a JSON text nests, measured by a byte scan before anything parses it.
//!
//! A parser that recurses per level can be driven into deep recursion (and large allocations)
//! by a few kilobytes of `[[[[…`. serde_json stops at 128 levels, but even 128 levels of
//! attacker-chosen structure is more than any message of ours needs. So every JSON body and
//! WebSocket message is scanned first: one pass, no allocation, no recursion, counting `[` and
//! `{` outside strings (a string's escapes are skipped, so `"\"["` opens nothing). The scan does
//! not validate JSON; the parser that runs after it does.

/// A text that nests deeper than allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooDeep {
    /// The most levels allowed.
    pub max: usize,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JSON nested deeper than {} levels", self.max)
    }
}

impl std::error::Error for TooDeep {}

/// Checks that `text` never has more than `max` arrays and objects open at once.
///
/// `max = 1` allows `{"a": 1}` and `[1, 2]` but not `{"a": [1]}`. Stops at the first byte over
/// the limit, so its cost is bounded by the text's length whatever the input.
///
/// # Errors
/// [`TooDeep`] if some point of `text` is nested more than `max` deep.
pub fn check_depth(text: &[u8], max: usize) -> Result<(), TooDeep> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(TooDeep { max });
                }
            }
            // Unbalanced closers are the parser's to refuse; they never lower the count below 0.
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn counts_nesting_outside_strings() {
        assert_eq!(check_depth(b"1", 0), Ok(()));
        assert_eq!(check_depth(b"{}", 0), Err(TooDeep { max: 0 }));
        assert_eq!(check_depth(br#"{"a":[1,{"b":2}]}"#, 3), Ok(()));
        assert_eq!(
            check_depth(br#"{"a":[1,{"b":2}]}"#, 2),
            Err(TooDeep { max: 2 })
        );
        // Siblings do not add up.
        assert_eq!(check_depth(b"[[],[],[[]]]", 3), Ok(()));
        // Brackets inside strings, escaped quotes and escaped backslashes.
        assert_eq!(check_depth(br#"["[[[[", "{{{{"]"#, 1), Ok(()));
        assert_eq!(check_depth(br#"["\"[[[["]"#, 1), Ok(()));
        assert_eq!(check_depth(br#"["\\", [[]]]"#, 2), Err(TooDeep { max: 2 }));
        assert_eq!(check_depth(br#"["\\\"[", 1]"#, 1), Ok(()));
        // Stray closers cannot buy extra depth.
        assert_eq!(check_depth(b"]]]][[", 1), Err(TooDeep { max: 1 }));
    }

    proptest! {
        /// The scan agrees with serde_json's own nesting on every value it can print.
        #[test]
        fn agrees_with_the_parsed_depth(depth in 0usize..40, max in 0usize..40, key in "[ -~]{0,8}") {
            let mut text = String::new();
            for i in 0..depth {
                if i % 2 == 0 {
                    text.push_str(&format!("{{{}:", serde_json::to_string(&key).unwrap()));
                } else {
                    text.push('[');
                }
            }
            text.push_str("null");
            for i in (0..depth).rev() {
                text.push(if i % 2 == 0 { '}' } else { ']' });
            }
            prop_assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok() || depth > 127);
            prop_assert_eq!(check_depth(text.as_bytes(), max).is_ok(), depth <= max);
        }

        /// Any bytes: a verdict, never a panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), max in 0usize..64) {
            let _ = check_depth(&bytes, max);
        }
    }
}
