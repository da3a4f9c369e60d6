//! Wildcard (`*` / `?`) matching used by Action, Resource, StringLike and Principal.
//!
//! Semantics (RAM "Conditional operators" page, StringLike row): `*` matches any number of
//! characters including none, `?` matches exactly one character. There is no escape
//! character: a literal `*` or `?` in a pattern is always a wildcard. Matching is over
//! Unicode scalar values (`char`), so `?` matches one character, never half of one.
//!
//! Complexity: the matcher is the classic greedy two-pointer algorithm that only ever
//! remembers the *most recent* `*`. It never backtracks further than that, so the worst
//! case is `O(|pattern| * |text|)` steps (linear in the text for a fixed pattern) and there
//! is no exponential blow-up on patterns such as `a*a*a*a*…b`. Remembering only the last
//! star is sufficient: a later star can absorb anything an earlier star could have.

/// Case-sensitive wildcard match of `text` against `pattern`.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    match_chars(&p, &t, |a, b| a == b)
}

/// Wildcard match that ignores ASCII case (used for action names, see `eval`).
pub fn wildcard_match_ignore_ascii_case(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    match_chars(&p, &t, |a, b| a.eq_ignore_ascii_case(&b))
}

/// True when `pattern` contains a wildcard character.
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

fn match_chars(p: &[char], t: &[char], eq: impl Fn(char, char) -> bool) -> bool {
    let mut pi = 0usize;
    let mut ti = 0usize;
    // Position just after the last `*` seen, and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                pi += 1;
                star = Some((pi, ti));
            }
            Some(&c) if c == '?' || eq(c, t[ti]) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // Let the last star absorb one more character and retry from there.
                Some((after_star, tried_at)) => {
                    pi = after_star;
                    ti = tried_at + 1;
                    star = Some((after_star, tried_at + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "a"));
        assert!(!wildcard_match("?", ""));
        assert!(wildcard_match("?", "é"));
        assert!(wildcard_match(
            "vpc:Describe*",
            "vpc:DescribeVpnConnections"
        ));
        assert!(!wildcard_match("vpc:Describe*", "vpc:DeleteVpnConnection"));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
        assert!(wildcard_match("vpn-??", "vpn-ab"));
        assert!(!wildcard_match("vpn-??", "vpn-abc"));
        assert!(wildcard_match("**a**", "xxa"));
        assert!(!wildcard_match("Vpc", "vpc"));
        assert!(wildcard_match_ignore_ascii_case(
            "VPC:describe*",
            "vpc:DescribeVpcs"
        ));
    }
}
