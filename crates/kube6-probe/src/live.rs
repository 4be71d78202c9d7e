//! [`Api`] over kube-rs, for a live cluster reached as kubectl reaches it (kubeconfig, context,
//! in-cluster service account; `kube6_verify::live::client` chooses, as for `kube6 verify`).

use kube::Client;
use serde_json::Value;

use crate::cluster::{Api, ApiError};

/// The API of a live cluster.
pub struct KubeApi {
    client: Client,
    /// The client's bound on one answer (`kube6_verify::live::Options::max_response_size`),
    /// for the message when an answer exceeds it.
    max_response_size: u64,
}

impl KubeApi {
    /// `client` as [`kube6_verify::live::client`] builds it, bounded to `max_response_size`
    /// bytes per answer.
    pub fn new(client: Client, max_response_size: u64) -> KubeApi {
        KubeApi {
            client,
            max_response_size,
        }
    }

    async fn send(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<String, ApiError> {
        let error = |code: u16, message: String| ApiError {
            method,
            path: path.to_string(),
            code,
            message,
        };
        let mut builder = http::Request::builder().method(method).uri(path);
        let bytes = match body {
            Some(v) => {
                builder = builder.header("content-type", "application/json");
                serde_json::to_vec(v).map_err(|e| error(0, e.to_string()))?
            }
            None => Vec::new(),
        };
        let request = builder.body(bytes).map_err(|e| error(0, e.to_string()))?;
        self.client
            .request_text(request)
            .await
            .map_err(|e| match e {
                kube::Error::Api(status) => error(
                    status.code,
                    if status.message.is_empty() {
                        format!("HTTP {}", status.code)
                    } else {
                        status.message.clone()
                    },
                ),
                other if kube6_verify::live::is_too_large(&other) => error(
                    0,
                    format!(
                        "the answer is larger than {}, the most kube6 takes of one answer (raise it with --max-response-size)",
                        kube6_fs::size::human(self.max_response_size)
                    ),
                ),
                other => error(0, crate::cluster::chain(&other)),
            })
    }
}

fn json(method: &'static str, path: &str, text: &str) -> Result<Value, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError {
        method,
        path: path.to_string(),
        code: 0,
        message: format!("the answer is not JSON: {e}"),
    })
}

impl Api for KubeApi {
    async fn create(&self, path: &str, object: &Value) -> Result<Value, ApiError> {
        let text = self.send("POST", path, Some(object)).await?;
        json("POST", path, &text)
    }

    async fn get(&self, path: &str) -> Result<Value, ApiError> {
        let text = self.send("GET", path, None).await?;
        json("GET", path, &text)
    }

    async fn delete(&self, path: &str) -> Result<(), ApiError> {
        let with_policy = format!("{path}?propagationPolicy=Background");
        match self.send("DELETE", &with_policy, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn logs(&self, namespace: &str, pod: &str) -> Result<String, ApiError> {
        self.send(
            "GET",
            &format!("/api/v1/namespaces/{namespace}/pods/{pod}/log"),
            None,
        )
        .await
    }
}
