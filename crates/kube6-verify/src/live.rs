//! Reading the snapshot from a live cluster through kube-rs: read-only list requests, paged with
//! `limit` and `continue` as kubectl pages them, parsed into the same lean objects as a dump.

use std::path::PathBuf;

use kube::Client;
use kube::api::ListParams;
use kube::config::{Config, InferConfigError, KubeConfigOptions, Kubeconfig, KubeconfigError};

use crate::dump::{self, DumpError};
use crate::snapshot::Snapshot;

/// kubectl's default `--chunk-size`.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// The resources read, with the kind of their items.
const RESOURCES: [(&str, &str); 4] = [
    ("/api/v1/nodes", "Node"),
    ("/api/v1/pods", "Pod"),
    ("/api/v1/services", "Service"),
    ("/apis/discovery.k8s.io/v1/endpointslices", "EndpointSlice"),
];

/// Which cluster to read, as kubectl chooses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// A kubeconfig file; without one, `$KUBECONFIG` (a list of files, merged), then
    /// `~/.kube/config`, then the in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// The context; without one, the kubeconfig's current context.
    pub context: Option<String>,
    /// Objects per list request.
    pub page_size: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            kubeconfig: None,
            context: None,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// Why the cluster could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The kubeconfig file given could not be read or parsed.
    #[error("cannot read the kubeconfig {path}")]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: KubeconfigError,
    },
    /// The kubeconfig was read, but its context, cluster or user cannot be used.
    #[error("cannot use {what}")]
    Config {
        /// "the kubeconfig FILE" or "the kubeconfig context NAME".
        what: String,
        #[source]
        source: KubeconfigError,
    },
    /// No kubeconfig anywhere, and not running inside a cluster.
    #[error("no cluster to read (give --kubeconfig FILE, set KUBECONFIG, or give --dump FILE)")]
    NoCluster(#[source] InferConfigError),
    /// The configuration is complete but no client can be built from it (TLS, proxy).
    #[error("cannot connect to {cluster}")]
    Client {
        cluster: String,
        #[source]
        source: kube::Error,
    },
    /// The API server could not be reached or refused a request.
    #[error("cannot list {path} on {cluster}")]
    Request {
        cluster: String,
        path: String,
        #[source]
        source: kube::Error,
    },
    /// The API server answered with something that is not a list.
    #[error("cannot read the list of {path} from {cluster}")]
    Answer {
        cluster: String,
        path: String,
        #[source]
        source: DumpError,
    },
    #[error("cannot start the I/O runtime")]
    Runtime(#[source] std::io::Error),
}

impl LiveError {
    /// The configuration (kubeconfig, context) is at fault rather than the cluster: a usage
    /// error for the command line.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            LiveError::Kubeconfig { .. }
                | LiveError::Config { .. }
                | LiveError::NoCluster(_)
                | LiveError::Client { .. }
        )
    }
}

/// Reads the cluster; returns the snapshot and the API server's URL.
pub fn read(options: &Options) -> Result<(Snapshot, String), LiveError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(LiveError::Runtime)?;
    runtime.block_on(read_async(options))
}

async fn config(options: &Options) -> Result<Config, LiveError> {
    let kube_options = KubeConfigOptions {
        context: options.context.clone(),
        ..Default::default()
    };
    match &options.kubeconfig {
        Some(path) => {
            let kubeconfig =
                Kubeconfig::read_from(path).map_err(|source| LiveError::Kubeconfig {
                    path: path.clone(),
                    source,
                })?;
            Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                .await
                .map_err(|source| LiveError::Config {
                    what: match &options.context {
                        Some(context) => format!(
                            "the context {context:?} of the kubeconfig {}",
                            path.display()
                        ),
                        None => format!("the kubeconfig {}", path.display()),
                    },
                    source,
                })
        }
        None => match &options.context {
            Some(context) => Config::from_kubeconfig(&kube_options)
                .await
                .map_err(|source| LiveError::Config {
                    what: format!("the kubeconfig context {context:?}"),
                    source,
                }),
            None => Config::infer().await.map_err(LiveError::NoCluster),
        },
    }
}

async fn read_async(options: &Options) -> Result<(Snapshot, String), LiveError> {
    let config = config(options).await?;
    let cluster = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|source| LiveError::Client {
        cluster: cluster.clone(),
        source,
    })?;
    let mut snapshot = Snapshot::default();
    for (path, kind) in RESOURCES {
        let mut token: Option<String> = None;
        loop {
            let params = ListParams {
                limit: Some(options.page_size.max(1)),
                continue_token: token.take(),
                ..Default::default()
            };
            let request =
                kube::core::Request::new(path)
                    .list(&params)
                    .map_err(|e| LiveError::Request {
                        cluster: cluster.clone(),
                        path: path.to_string(),
                        source: kube::Error::BuildRequest(e),
                    })?;
            let text = client
                .request_text(request)
                .await
                .map_err(|source| LiveError::Request {
                    cluster: cluster.clone(),
                    path: path.to_string(),
                    source,
                })?;
            token = dump::parse_page(text.as_bytes(), kind, &mut snapshot).map_err(|source| {
                LiveError::Answer {
                    cluster: cluster.clone(),
                    path: path.to_string(),
                    source,
                }
            })?;
            if token.is_none() {
                break;
            }
        }
    }
    Ok((snapshot, cluster))
}
