//! HTTP tool calls made on behalf of a dialogue script (`tool` nodes): one request with a
//! deadline, secret headers resolved by name from the environment
//! (`SWITCHBOARD_SECRET_<NAME>`, never logged), and the JSON answer handed back to the
//! script. A failing or hanging endpoint becomes an error result the script can branch on.

use std::time::Duration;

use serde::Serialize;

/// A request a script asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolRequest {
    pub id: u64,
    pub method: String,
    pub url: String,
    /// Headers with their values; secret ones hold the secret's name until resolved.
    pub headers: Vec<ToolHeader>,
    pub body: Option<serde_json::Value>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ToolHeader {
    Text {
        name: String,
        value: String,
    },
    /// The value is the environment variable `SWITCHBOARD_SECRET_<secret>` (upper-cased).
    Secret {
        name: String,
        secret: String,
    },
}

/// Runs tool requests with a shared HTTP client.
#[derive(Clone, Default)]
pub struct ToolRunner {
    client: reqwest::Client,
}

impl ToolRunner {
    /// Performs `req`; the error string says what went wrong without leaking secrets.
    pub async fn run(&self, req: &ToolRequest) -> Result<serde_json::Value, String> {
        let method = reqwest::Method::from_bytes(req.method.to_uppercase().as_bytes())
            .map_err(|_| format!("unknown HTTP method {:?}", req.method))?;
        let mut builder = self.client.request(method, &req.url).timeout(req.timeout);
        for header in &req.headers {
            builder = match header {
                ToolHeader::Text { name, value } => builder.header(name, value),
                ToolHeader::Secret { name, secret } => {
                    let var = format!("SWITCHBOARD_SECRET_{}", secret.to_uppercase());
                    let value = std::env::var(&var)
                        .map_err(|_| format!("secret {secret:?} is not configured (set {var})"))?;
                    let mut value = reqwest::header::HeaderValue::from_str(&value)
                        .map_err(|_| format!("secret {secret:?} is not a valid header value"))?;
                    value.set_sensitive(true);
                    builder.header(name, value)
                }
            };
        }
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| describe(&e))?;
        if !status.is_success() {
            return Err(format!("{} answered {status}", host(&req.url)));
        }
        if bytes.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "{} answered with JSON that does not parse: {e}",
                host(&req.url)
            )
        })
    }
}

fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not be reached"
    } else {
        "failed"
    };
    let url = e.url().map(|u| host(u.as_str())).unwrap_or_default();
    format!("request to {url} {what}")
}

/// Scheme and host of a URL, without credentials, path or query (which may carry tokens).
fn host(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "the tool endpoint".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_secret_names_the_variable_not_a_value() {
        let req = ToolRequest {
            id: 1,
            method: "GET".into(),
            url: "http://127.0.0.1:9/".into(),
            headers: vec![ToolHeader::Secret {
                name: "Authorization".into(),
                secret: "crm_token_for_tests".into(),
            }],
            body: None,
            timeout: Duration::from_millis(200),
        };
        let err = ToolRunner::default().run(&req).await.unwrap_err();
        assert!(
            err.contains("SWITCHBOARD_SECRET_CRM_TOKEN_FOR_TESTS"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_an_error_result() {
        let req = ToolRequest {
            id: 2,
            method: "POST".into(),
            url: "http://user:pw@127.0.0.1:9/hook?token=abc".into(),
            headers: vec![],
            body: Some(serde_json::json!({"a": 1})),
            timeout: Duration::from_millis(500),
        };
        let err = ToolRunner::default().run(&req).await.unwrap_err();
        assert!(
            err.contains("127.0.0.1") && !err.contains("pw") && !err.contains("abc"),
            "{err}"
        );
    }
}
