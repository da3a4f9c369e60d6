//! Aligned text tables, for the CLI's `--output cols=…`, `vpngw configure
//! list` and `vpngw audit`: each column as wide as its widest cell, so
//! long values (a RAM user's name, an IPv6 source) never shift the columns
//! after them.

/// `header` and `rows` as lines of columns joined by `sep`, trailing spaces
/// trimmed; `rule` adds a line of dashes under the header.
pub fn render(header: &[String], rows: &[Vec<String>], sep: &str, rule: bool) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .chain([&header[i]])
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut out = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join(sep)
            .trim_end()
            .to_owned();
        out.push('\n');
        out
    };
    let mut out = line(header);
    if rule {
        let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&line(&dashes));
    }
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn columns_follow_the_widest_cell() {
        let t = render(
            &s(&["A", "B"]),
            &[s(&["a-very-long-value", "x"]), s(&["é", "y"])],
            " | ",
            true,
        );
        assert_eq!(
            t,
            "A                 | B\n----------------- | -\na-very-long-value | x\né                 | y\n"
        );
        assert_eq!(render(&s(&["A", "B"]), &[], "  ", false), "A  B\n");
    }
}
