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

/// A resource read: its list path, the kind and apiVersion of its items, and whether a cluster
/// may lack it (the CNI's own resources exist only where that CNI runs).
struct Resource {
    path: &'static str,
    kind: &'static str,
    api_version: &'static str,
    optional: bool,
}

const fn resource(
    path: &'static str,
    kind: &'static str,
    api_version: &'static str,
    optional: bool,
) -> Resource {
    Resource {
        path,
        kind,
        api_version,
        optional,
    }
}

/// The resources read.
const RESOURCES: [Resource; 8] = [
    resource("/api/v1/nodes", "Node", "v1", false),
    resource("/api/v1/pods", "Pod", "v1", false),
    resource("/api/v1/services", "Service", "v1", false),
    resource(
        "/apis/discovery.k8s.io/v1/endpointslices",
        "EndpointSlice",
        "discovery.k8s.io/v1",
        false,
    ),
    // Calico IPAM (projectcalico/calico libcalico-go/config/crd).
    resource(
        "/apis/crd.projectcalico.org/v1/ippools",
        "IPPool",
        "crd.projectcalico.org/v1",
        true,
    ),
    resource(
        "/apis/crd.projectcalico.org/v1/ipamblocks",
        "IPAMBlock",
        "crd.projectcalico.org/v1",
        true,
    ),
    // Cilium IPAM (cilium/cilium pkg/k8s/apis/cilium.io/client/crds).
    resource(
        "/apis/cilium.io/v2/ciliumnodes",
        "CiliumNode",
        "cilium.io/v2",
        true,
    ),
    resource(
        "/apis/cilium.io/v2alpha1/ciliumpodippools",
        "CiliumPodIPPool",
        "cilium.io/v2alpha1",
        true,
    ),
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

/// A client for the cluster `options` name (kubeconfig, context, in-cluster), as kubectl
/// chooses it, and the API server's URL. `kube6 probe` reaches its cluster the same way.
pub async fn client(options: &Options) -> Result<(Client, String), LiveError> {
    let config = config(options).await?;
    let cluster = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|source| LiveError::Client {
        cluster: cluster.clone(),
        source,
    })?;
    Ok((client, cluster))
}

async fn read_async(options: &Options) -> Result<(Snapshot, String), LiveError> {
    let (client, cluster) = client(options).await?;
    let mut snapshot = Snapshot::default();
    for Resource {
        path,
        kind,
        api_version,
        optional,
    } in RESOURCES
    {
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
            let text = match client.request_text(request).await {
                Ok(text) => text,
                // The CNI's resources are absent where another CNI runs (404), and credentials
                // made for the core resources may not read them (403): verify goes on without.
                Err(kube::Error::Api(status))
                    if optional && (status.code == 404 || status.code == 403) =>
                {
                    break;
                }
                Err(source) => {
                    return Err(LiveError::Request {
                        cluster: cluster.clone(),
                        path: path.to_string(),
                        source,
                    });
                }
            };
            token = dump::parse_page(text.as_bytes(), kind, api_version, &mut snapshot).map_err(
                |source| LiveError::Answer {
                    cluster: cluster.clone(),
                    path: path.to_string(),
                    source,
                },
            )?;
            if token.is_none() {
                break;
            }
        }
    }
    Ok((snapshot, cluster))
}
