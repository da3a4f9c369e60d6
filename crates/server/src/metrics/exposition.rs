//! The order of `/metrics`: the exporter writes its families and series in
//! hash order, different at every scrape. Families are sorted by name and
//! series by their labels, so two scrapes of the same state are the same
//! text (diffs, golden files and eyes can compare them).

/// One metric family: its `# HELP`/`# TYPE` lines and its series.
struct Family<'a> {
    name: &'a str,
    comments: Vec<&'a str>,
    series: Vec<&'a str>,
}

/// The family a line belongs to: the name of a `# HELP`/`# TYPE` line, or
/// the series' name.
fn family_of(line: &str) -> Option<&str> {
    if let Some(rest) = line
        .strip_prefix("# HELP ")
        .or_else(|| line.strip_prefix("# TYPE "))
    {
        return rest.split_whitespace().next();
    }
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    line.split(['{', ' ']).next()
}

/// A series' sort key: its labels without `le` (so a histogram's buckets of
/// one label set stay together and in their own order), then its name
/// (`_bucket`, `_count`, `_sum`).
fn series_key(line: &str) -> (String, &str) {
    let name = line.split(['{', ' ']).next().unwrap_or(line);
    let labels = match (line.find('{'), line.rfind('}')) {
        (Some(a), Some(b)) if a < b => &line[a + 1..b],
        _ => "",
    };
    let without_le: Vec<&str> = labels
        .split(',')
        .filter(|l| !l.starts_with("le="))
        .collect();
    (without_le.join(","), name)
}

/// `text` (Prometheus text format, families separated by blank lines or
/// not) with its families sorted by name and each family's series by
/// labels. Series of a histogram or summary (`x_bucket`, `x_sum`,
/// `x_count`) belong to the family named by the `# TYPE` line before them.
pub fn sorted(text: &str) -> String {
    let mut families: Vec<Family<'_>> = Vec::new();
    for line in text.lines() {
        let Some(name) = family_of(line) else {
            continue;
        };
        let is_comment = line.starts_with('#');
        let continues = families.last().is_some_and(|f| {
            if is_comment {
                f.name == name
            } else {
                name == f.name
                    || name
                        .strip_prefix(f.name)
                        .is_some_and(|s| s.starts_with('_'))
            }
        });
        if !continues {
            families.push(Family {
                name,
                comments: Vec::new(),
                series: Vec::new(),
            });
        }
        if let Some(f) = families.last_mut() {
            if is_comment {
                f.comments.push(line);
            } else {
                f.series.push(line);
            }
        }
    }
    families.sort_by(|a, b| a.name.cmp(b.name));
    let mut out = String::with_capacity(text.len());
    for f in &mut families {
        f.series.sort_by_cached_key(|s| series_key(s));
        for line in f.comments.iter().chain(&f.series) {
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_series_in_a_stable_order() {
        let text = "# HELP b_total B\n# TYPE b_total counter\nb_total{x=\"2\"} 1\nb_total{x=\"1\"} 2\n\n\
                    # TYPE a_seconds histogram\na_seconds_bucket{op=\"z\",le=\"0.5\"} 1\n\
                    a_seconds_bucket{op=\"z\",le=\"+Inf\"} 1\na_seconds_sum{op=\"z\"} 0.1\n\
                    a_seconds_count{op=\"z\"} 1\na_seconds_bucket{op=\"a\",le=\"0.5\"} 0\n\
                    a_seconds_bucket{op=\"a\",le=\"+Inf\"} 2\na_seconds_sum{op=\"a\"} 3\n\
                    a_seconds_count{op=\"a\"} 2\n\n# HELP c C\n# TYPE c gauge\nc 1\n";
        let want = "# TYPE a_seconds histogram\na_seconds_bucket{op=\"a\",le=\"0.5\"} 0\n\
                    a_seconds_bucket{op=\"a\",le=\"+Inf\"} 2\na_seconds_count{op=\"a\"} 2\n\
                    a_seconds_sum{op=\"a\"} 3\na_seconds_bucket{op=\"z\",le=\"0.5\"} 1\n\
                    a_seconds_bucket{op=\"z\",le=\"+Inf\"} 1\na_seconds_count{op=\"z\"} 1\n\
                    a_seconds_sum{op=\"z\"} 0.1\n\n# HELP b_total B\n# TYPE b_total counter\n\
                    b_total{x=\"1\"} 2\nb_total{x=\"2\"} 1\n\n# HELP c C\n# TYPE c gauge\nc 1\n\n";
        assert_eq!(sorted(text), want);
        assert_eq!(sorted(&sorted(text)), want);
    }
}
