//! What the CLI knows of an operation before sending it: whether the action
//! exists, which parameters it takes (from the operation declarations in
//! `vpngw_model::operations`, generated from the vendor's metadata), and
//! "did you mean" for the near misses. `--force` sends anything anyway.

use anyhow::bail;
use vpngw_model::operations::{self, Operation, ParamKind};

use super::CloudProduct;

/// The closest of `candidates` to `word` when it is close enough to be a
/// likely typo: same letters in another case, or a small edit away.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c.to_ascii_lowercase() == lower {
            return Some(c);
        }
        let score = strsim::jaro_winkler(&lower, &c.to_ascii_lowercase());
        if score >= 0.88 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// The operation's parameter declarations, when this CLI has them (VPC
/// today; RAM and STS parameters are passed through unchecked).
pub fn declaration(product: CloudProduct, action: &str) -> Option<&'static Operation> {
    match product {
        CloudProduct::Vpc => operations::operation(action),
        CloudProduct::Ram | CloudProduct::Sts | CloudProduct::Vpngw => None,
    }
}

/// Refuses an action that is neither served nor defined by the vendor, with
/// the nearest served one.
pub fn check_action(product: CloudProduct, action: &str) -> anyhow::Result<()> {
    let served = product.actions();
    if served.contains(&action) || declaration(product, action).is_some() {
        return Ok(());
    }
    let hint = did_you_mean(action, served.iter().copied())
        .map(|s| format!(" Did you mean {s}?"))
        .unwrap_or_default();
    bail!(
        "{action} is not an operation of `vpngw {}`.{hint} (`vpngw {} --help` lists them; --force sends it anyway)",
        product.command(),
        product.command()
    )
}

/// Whether `rest` (the dot-separated words after a parameter's name) is a
/// valid flattening of a value of `kind`: nothing for a whole value (also a
/// JSON text for lists and objects), `N[.field…]` for lists, `field…` for
/// objects.
fn flattens(kind: &ParamKind, rest: &[&str]) -> bool {
    let index = |s: &str| s.parse::<u32>().is_ok_and(|n| n >= 1);
    match (kind, rest) {
        (_, []) => true,
        (ParamKind::List(inner), [n, more @ ..]) => index(n) && flattens(inner, more),
        (ParamKind::ObjectList(fields), [n, field, more @ ..]) => {
            index(n)
                && fields
                    .iter()
                    .any(|f| f.name == *field && flattens(&f.kind, more))
        }
        (ParamKind::Object(fields), [field, more @ ..]) => fields
            .iter()
            .any(|f| f.name == *field && flattens(&f.kind, more)),
        _ => false,
    }
}

/// Every spelling a parameter of `op` can take, with `N` for indices (for
/// suggestions).
fn spellings(op: &Operation) -> Vec<String> {
    fn walk(prefix: String, kind: &ParamKind, out: &mut Vec<String>) {
        out.push(prefix.clone());
        match kind {
            ParamKind::List(inner) => walk(format!("{prefix}.N"), inner, out),
            ParamKind::ObjectList(fields) => {
                for f in *fields {
                    walk(format!("{prefix}.N.{}", f.name), &f.kind, out);
                }
            }
            ParamKind::Object(fields) => {
                for f in *fields {
                    walk(format!("{prefix}.{}", f.name), &f.kind, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for p in op.params {
        walk(p.name.to_owned(), &p.kind, &mut out);
    }
    out
}

/// Refuses parameters the operation does not declare: the server would
/// ignore them silently, as the cloud does, and the call would not do what
/// was meant (`--Tag.1.Key` where the operation takes `--Tags.N.Key`).
pub fn check_params(
    product: CloudProduct,
    action: &str,
    params: &[(String, String)],
) -> anyhow::Result<()> {
    let Some(op) = declaration(product, action) else {
        return Ok(());
    };
    for (name, _) in params {
        let words: Vec<&str> = name.split('.').collect();
        let known = name == "SecurityToken"
            || op
                .params
                .iter()
                .any(|p| p.name == words[0] && flattens(&p.kind, &words[1..]));
        if known {
            continue;
        }
        // Suggest with indices written as N, then put the user's index back.
        let generic: String = words
            .iter()
            .map(|w| if w.parse::<u32>().is_ok() { "N" } else { w })
            .collect::<Vec<_>>()
            .join(".");
        let all = spellings(op);
        let hint = did_you_mean(&generic, all.iter().map(String::as_str))
            .map(|s| {
                let mut indices = words.iter().filter(|w| w.parse::<u32>().is_ok());
                let fixed: Vec<&str> = s
                    .split('.')
                    .map(|w| {
                        if w == "N" {
                            indices.next().copied().unwrap_or("1")
                        } else {
                            w
                        }
                    })
                    .collect();
                format!(" Did you mean --{}?", fixed.join("."))
            })
            .unwrap_or_default();
        bail!(
            "--{name} is not a parameter of {action}.{hint} (`vpngw {} {action} --help` lists them; \
             --force sends it anyway)",
            product.command()
        );
    }
    Ok(())
}

fn kind_name(kind: &ParamKind) -> String {
    match kind {
        ParamKind::String => "string".into(),
        ParamKind::Integer => "integer".into(),
        ParamKind::Boolean => "boolean".into(),
        ParamKind::Json => "JSON string".into(),
        ParamKind::List(inner) => format!("list of {} (.N)", kind_name(inner)),
        ParamKind::ObjectList(_) => "list of objects (.N.Field)".into(),
        ParamKind::Object(_) => "object (.Field)".into(),
    }
}

/// `vpngw vpc <Action> --help`: the operation's parameters, from the
/// vendor's metadata vpngw is generated from.
pub fn action_help(product: CloudProduct, action: &str) -> String {
    let mut out = match product {
        CloudProduct::Vpngw => format!(
            "vpngw {} [CLI flags]\n\n\
             Empties a `vpngw serve --dev` server back to its first start (ResetState, \
             docs/local-mode.md).\nWithout credentials in the flags, the environment or a \
             profile: the well-known key of --dev.\n",
            product.command()
        ),
        _ => format!("vpngw {} {action} [--Param value ...]\n", product.command()),
    };
    let served = product.actions().contains(&action);
    if !served {
        out.push_str("(not an operation this vpngw serves; the server will say so)\n");
    }
    match declaration(product, action) {
        Some(op) => {
            out.push_str("\nParameters:\n");
            for p in op.params {
                out.push_str(&format!(
                    "  --{:<32} {}{}\n",
                    p.name,
                    kind_name(&p.kind),
                    if p.required { ", required" } else { "" }
                ));
                for f in p.kind.fields() {
                    let sep = if matches!(p.kind, ParamKind::Object(_)) {
                        "."
                    } else {
                        ".N."
                    };
                    out.push_str(&format!(
                        "    --{}{sep}{:<24} {}\n",
                        p.name,
                        f.name,
                        kind_name(&f.kind)
                    ));
                }
            }
        }
        None if product == CloudProduct::Vpngw => {}
        None => out
            .push_str("\nParameters: see the product's API reference (not checked by this CLI).\n"),
    }
    out.push('\n');
    out.push_str(super::args::FLAGS_HELP);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(names: &[&str]) -> Vec<(String, String)> {
        names.iter().map(|n| (n.to_string(), "x".into())).collect()
    }

    #[test]
    fn declared_parameters_pass() {
        let ok = pairs(&[
            "RegionId",
            "VpnGatewayId",
            "Tags.1.Key",
            "Tags.12.Value",
            "TunnelOptionsSpecification",
            "TunnelOptionsSpecification.2.TunnelIkeConfig.IkeVersion",
            "TunnelOptionsSpecification.1.Role",
            "IkeConfig",
        ]);
        check_params(CloudProduct::Vpc, "CreateVpnConnection", &ok).unwrap();
        // RAM and STS are not checked (no declarations here yet).
        check_params(CloudProduct::Ram, "CreateUser", &pairs(&["Anything"])).unwrap();
    }

    #[test]
    fn unknown_parameters_are_refused_with_a_suggestion() {
        let err = check_params(
            CloudProduct::Vpc,
            "CreateVpnConnection",
            &pairs(&["Tag.1.Key"]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--Tag.1.Key is not a parameter of CreateVpnConnection"),
            "{err}"
        );
        assert!(err.contains("Did you mean --Tags.1.Key?"), "{err}");
        for bad in ["Tags.0.Key", "Tags.x.Key", "Tags.1", "RegionId.1", "Nope"] {
            assert!(
                check_params(CloudProduct::Vpc, "CreateVpnConnection", &pairs(&[bad])).is_err(),
                "{bad}"
            );
        }
        let err = check_params(
            CloudProduct::Vpc,
            "DescribeVpnGateway",
            &pairs(&["VpnGatewayID"]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("Did you mean --VpnGatewayId?"), "{err}");
    }

    #[test]
    fn actions_did_you_mean() {
        check_action(CloudProduct::Vpc, "DescribeVpnGateways").unwrap();
        let err = check_action(CloudProduct::Vpc, "DescribeVpnGateway2")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Did you mean DescribeVpnGateway?"), "{err}");
        let err = check_action(CloudProduct::Vpc, "describevpngateways")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Did you mean DescribeVpnGateways?"), "{err}");
        let err = check_action(CloudProduct::Ram, "ListUser")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Did you mean ListUsers?"), "{err}");
        let err = check_action(CloudProduct::Vpc, "Zzz")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("Did you mean"), "{err}");
    }

    #[test]
    fn help_lists_the_parameters() {
        let h = action_help(CloudProduct::Vpc, "CreateVpnConnection");
        assert!(h.contains("--VpnGatewayId"), "{h}");
        assert!(h.contains("JSON string"), "{h}");
        assert!(h.contains("--Tags.N.Key"), "{h}");
        assert!(h.contains("--waiter"), "{h}");
        assert!(action_help(CloudProduct::Vpc, "NoSuchThing").contains("not an operation"));
    }
}
