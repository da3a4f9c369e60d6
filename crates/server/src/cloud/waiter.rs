//! `--waiter expr=<JMESPath> to=<value>`: the call is repeated every
//! `interval` until the expression, evaluated on the answer, gives `to`
//! (compared as text: a string's own text, anything else as JSON), or
//! `timeout` passes. The answer printed is the last one.

use std::time::Instant;

use serde_json::Value;

use super::{Call, Failed, args::WaiterSpec};

/// The expression's result as the text `to=` is compared with.
fn evaluate(expr: &jmespath::Expression<'_>, answer: &Value) -> Result<String, Failed> {
    let found = expr
        .search(answer)
        .map_err(|e| Failed::Usage(anyhow::anyhow!("--waiter expr: {e}")))?;
    Ok(match found.as_string() {
        Some(s) => s.clone(),
        None => serde_json::to_string(&*found).unwrap_or_default(),
    })
}

pub async fn wait(call: &Call, spec: &WaiterSpec) -> Result<(Value, String), Failed> {
    let expr = jmespath::compile(&spec.expr)
        .map_err(|e| Failed::Usage(anyhow::anyhow!("--waiter expr={:?}: {e}", spec.expr)))?;
    let deadline = Instant::now() + spec.timeout;
    loop {
        let (answer, raw) = call.send(&[]).await?;
        let got = evaluate(&expr, &answer)?;
        if got == spec.to {
            return Ok((answer, raw));
        }
        if Instant::now() + spec.interval > deadline {
            return Err(Failed::Usage(anyhow::anyhow!(
                "--waiter: {} is {got}, not {}, after {} s (timeout=…)",
                spec.expr,
                spec.to,
                spec.timeout.as_secs_f64()
            )));
        }
        tokio::time::sleep(spec.interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_compare_as_text() {
        let answer = serde_json::json!({"Status": "active", "Count": 3, "Flag": true, "Gone": null,
            "VpnGateways": {"VpnGateway": [{"Status": "init"}, {"Status": "active"}]}});
        let text = |e: &str| {
            let expr = jmespath::compile(e).unwrap();
            match evaluate(&expr, &answer) {
                Ok(s) => s,
                Err(_) => panic!("{e}"),
            }
        };
        assert_eq!(text("Status"), "active");
        assert_eq!(text("Count"), "3");
        assert_eq!(text("Flag"), "true");
        assert_eq!(text("Missing"), "null");
        assert_eq!(text("VpnGateways.VpnGateway[0].Status"), "init");
        assert_eq!(
            text("length(VpnGateways.VpnGateway[?Status=='active'])"),
            "1"
        );
    }
}
