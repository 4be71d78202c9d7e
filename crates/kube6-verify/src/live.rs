//! Reading the snapshot from a live cluster through kube-rs: read-only list requests, paged with
//! `limit` and `continue` as kubectl pages them, parsed into the same lean objects as a dump.

use std::path::{Path, PathBuf};

use http_body_util::Limited;
use kube::Client;
use kube::api::ListParams;
use kube::client::ClientBuilder;
use kube::config::{Config, InClusterError, KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube6_fs::Limit;
use tower_http::map_response_body::MapResponseBodyLayer;

use crate::dump::{self, DumpError};
use crate::snapshot::Snapshot;

/// How much of a kubeconfig, and of each certificate, key or token file it names, kube6 reads.
/// Kubeconfigs with many contexts and embedded certificates are a few hundred kilobytes.
pub const KUBECONFIG_LIMIT: Limit = Limit {
    bytes: 16 << 20,
    what: "a kubeconfig or a file it names",
    raise: None,
};

/// kubectl's default `--chunk-size`.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// The most bytes kube6 takes of one answer of the API server (a list page, an object, a pod's
/// log), unless `--max-response-size` says otherwise. A page of 500 Pods with their
/// managedFields is some megabytes, the largest objects (a CiliumNode of a big node, a
/// ConfigMap) at most the 1.5 MiB etcd takes per object (etcd's default
/// `--max-request-bytes`): 256 MiB leaves room for 50 times that and still bounds memory.
pub const DEFAULT_MAX_RESPONSE_SIZE: u64 = 256 << 20;

/// Where a pod's service-account files are mounted (the kubelet's projected volume;
/// kubernetes/kubernetes pkg/serviceaccount, and kube-rs reads them from there).
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// How much of each service-account file (token, ca.crt, namespace) kube6 accepts: a token is
/// about a kilobyte, a CA bundle a few certificates.
pub const SERVICE_ACCOUNT_LIMIT: Limit = Limit {
    bytes: 4 << 20,
    what: "a service-account file",
    raise: None,
};

/// A resource read: its list path, the kind and apiVersion of its items, and whether a cluster
/// may lack it (the CNI's own resources exist only where that CNI runs).
struct Resource {
    path: &'static str,
    kind: &'static str,
    api_version: &'static str,
    optional: bool,
    /// Read only when the resource of this path was not served (an older version of the same
    /// API, for a cluster that has not the newer one).
    instead_of: Option<&'static str>,
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
        instead_of: None,
    }
}

/// The path of the ServiceCIDR API that went GA in Kubernetes 1.33.
const SERVICE_CIDRS_V1: &str = "/apis/networking.k8s.io/v1/servicecidrs";

/// The resources read.
const RESOURCES: [Resource; 12] = [
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
    // Load-balancer pools (K6V013: which namespaces a pool serves): MetalLB
    // (config/crd/bases/metallb.io_ipaddresspools.yaml) and Cilium LB-IPAM, whose v2alpha1 is
    // served from 1.13 on (pkg/k8s/apis/cilium.io/client/crds).
    resource(
        "/apis/metallb.io/v1beta1/ipaddresspools",
        "IPAddressPool",
        "metallb.io/v1beta1",
        true,
    ),
    resource(
        "/apis/cilium.io/v2alpha1/ciliumloadbalancerippools",
        "CiliumLoadBalancerIPPool",
        "cilium.io/v2alpha1",
        true,
    ),
    // The cluster's service ranges (kubernetes/kubernetes pkg/apis/networking, KEP-1880):
    // networking.k8s.io/v1 from 1.33, v1beta1 in 1.31 and 1.32 where the API is enabled.
    resource(
        SERVICE_CIDRS_V1,
        "ServiceCIDR",
        "networking.k8s.io/v1",
        true,
    ),
    Resource {
        instead_of: Some(SERVICE_CIDRS_V1),
        ..resource(
            "/apis/networking.k8s.io/v1beta1/servicecidrs",
            "ServiceCIDR",
            "networking.k8s.io/v1beta1",
            true,
        )
    },
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
    /// The most bytes taken of one answer of the API server; a larger answer fails with
    /// [`LiveError::TooLarge`] (through [`client`]: a [`kube::Error`] that
    /// [`is_too_large`] recognizes) before more is held in memory.
    pub max_response_size: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            kubeconfig: None,
            context: None,
            page_size: DEFAULT_PAGE_SIZE,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
        }
    }
}

/// Why the cluster could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// A kubeconfig, or a file it names, is not a regular file, too large or not text.
    #[error(transparent)]
    Read(#[from] kube6_fs::ReadError),
    /// The kubeconfig file given could not be parsed.
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
    NoCluster(#[source] InClusterError),
    /// `--context` without any kubeconfig to find it in.
    #[error("no kubeconfig holds the context {0:?} (give --kubeconfig FILE or set KUBECONFIG)")]
    NoKubeconfig(String),
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
    /// An answer of the API server is larger than `--max-response-size`.
    #[error(
        "{what} from {cluster} is larger than {}, the most kube6 takes of one answer: {hint}",
        kube6_fs::size::human(*.limit)
    )]
    TooLarge {
        /// "a list page of /api/v1/pods (500 objects)".
        what: String,
        cluster: String,
        limit: u64,
        /// What to do about it.
        hint: String,
    },
    #[error("cannot start the I/O runtime")]
    Runtime(#[source] std::io::Error),
}

impl LiveError {
    /// The configuration (kubeconfig, context, the files they name, a limit the answers
    /// exceed) is at fault rather than the cluster: a usage error for the command line.
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            LiveError::Read(_)
                | LiveError::Kubeconfig { .. }
                | LiveError::Config { .. }
                | LiveError::NoCluster(_)
                | LiveError::NoKubeconfig(_)
                | LiveError::Client { .. }
                | LiveError::TooLarge { .. }
        )
    }
}

/// The request failed because the answer was larger than the client's
/// [`Options::max_response_size`] (the body stopped at the limit; nothing more was read).
pub fn is_too_large(error: &kube::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Reads the cluster; returns the snapshot and the API server's URL.
pub fn read(options: &Options) -> Result<(Snapshot, String), LiveError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(LiveError::Runtime)?;
    runtime.block_on(read_async(options))
}

/// The kubeconfig files kubectl would read: `--kubeconfig`, else every file listed in
/// `$KUBECONFIG` that exists (client-go skips the others and merges the rest, the first file to
/// set a value winning), else `~/.kube/config` if it exists. Empty: none at all.
fn kubeconfig_paths(options: &Options) -> Vec<PathBuf> {
    if let Some(path) = &options.kubeconfig {
        return vec![path.clone()];
    }
    if let Some(list) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return paths.into_iter().filter(|p| p.exists()).collect();
        }
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".kube").join("config"))
        .filter(|p| p.exists())
        .into_iter()
        .collect()
}

/// Reads one kubeconfig with kube6's bounded reader (regular files only, at most
/// [`KUBECONFIG_LIMIT`]) and parses it with kube-rs. Relative file names in it are taken from
/// the kubeconfig's directory, as kubectl does, and every certificate, key and token file it
/// names is checked the same way before kube-rs reads it.
fn load_kubeconfig(path: &Path) -> Result<Kubeconfig, LiveError> {
    let text = kube6_fs::read::text(path, &KUBECONFIG_LIMIT)?;
    let mut config = Kubeconfig::from_yaml(&text.text).map_err(|source| LiveError::Kubeconfig {
        path: path.to_path_buf(),
        source,
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let absolute = |file: &mut Option<String>| -> Result<(), LiveError> {
        if let Some(name) = file.as_mut() {
            let full = dir.join(&*name);
            kube6_fs::read::bytes(&full, &KUBECONFIG_LIMIT)?;
            *name = full.display().to_string();
        }
        Ok(())
    };
    for named in &mut config.clusters {
        if let Some(cluster) = &mut named.cluster {
            absolute(&mut cluster.certificate_authority)?;
        }
    }
    for named in &mut config.auth_infos {
        if let Some(auth) = &mut named.auth_info {
            absolute(&mut auth.client_certificate)?;
            absolute(&mut auth.client_key)?;
            absolute(&mut auth.token_file)?;
            // A credential plugin given by path (not looked up in PATH) is relative to the
            // kubeconfig too (client-go's GetAuthInfoFileReferences); it is run, not read.
            if let Some(exec) = &mut auth.exec
                && let Some(command) = &mut exec.command
                && command.contains('/')
                && Path::new(command.as_str()).is_relative()
            {
                *command = dir.join(&*command).display().to_string();
            }
        }
    }
    Ok(config)
}

/// Checks the service-account files kube-rs reads in a pod (`token`, `ca.crt`, `namespace` in
/// `dir`) with kube6's bounded reader: each must be a regular file (the kubelet's projected
/// volume links them to regular files) of at most [`SERVICE_ACCOUNT_LIMIT`]. A missing file is
/// left to kube-rs, whose error says which one.
pub fn check_service_account(dir: &Path) -> Result<(), LiveError> {
    for name in ["token", "ca.crt", "namespace"] {
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_err() {
            continue;
        }
        kube6_fs::read::bytes(&path, &SERVICE_ACCOUNT_LIMIT)?;
    }
    Ok(())
}

async fn config(options: &Options) -> Result<Config, LiveError> {
    let kube_options = KubeConfigOptions {
        context: options.context.clone(),
        ..Default::default()
    };
    let paths = kubeconfig_paths(options);
    if paths.is_empty() {
        // No kubeconfig: the service account of the pod kube6 runs in, as kubectl does.
        return match &options.context {
            Some(context) => Err(LiveError::NoKubeconfig(context.clone())),
            None => {
                // kube-rs reads these files whole: check each (a regular file, within
                // SERVICE_ACCOUNT_LIMIT) first, as the files a kubeconfig names are checked.
                if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
                    check_service_account(Path::new(SERVICE_ACCOUNT_DIR))?;
                }
                Config::incluster().map_err(LiveError::NoCluster)
            }
        };
    }
    let mut merged: Option<Kubeconfig> = None;
    for path in &paths {
        let next = load_kubeconfig(path)?;
        merged = Some(match merged {
            None => next,
            Some(first) => first.merge(next).map_err(|source| LiveError::Kubeconfig {
                path: path.clone(),
                source,
            })?,
        });
    }
    let kubeconfig = merged.unwrap_or_default();
    let files = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Config::from_custom_kubeconfig(kubeconfig, &kube_options)
        .await
        .map_err(|source| LiveError::Config {
            what: match &options.context {
                Some(context) => format!("the context {context:?} of the kubeconfig {files}"),
                None => format!("the kubeconfig {files}"),
            },
            source,
        })
}

/// A client for the cluster `options` name (kubeconfig, context, in-cluster), as kubectl
/// chooses it, and the API server's URL. `kube6 probe` reaches its cluster the same way.
pub async fn client(options: &Options) -> Result<(Client, String), LiveError> {
    let config = config(options).await?;
    let cluster = config.cluster_url.to_string();
    let builder = ClientBuilder::try_from(config).map_err(|source| LiveError::Client {
        cluster: cluster.clone(),
        source,
    })?;
    // Every answer's body stops at the limit: the collecting code (kube-rs's request_text, and
    // its reading of error Status bodies) gets an error instead of more bytes.
    let limit = usize::try_from(options.max_response_size).unwrap_or(usize::MAX);
    let bounded = MapResponseBodyLayer::new(move |body| Limited::new(body, limit));
    Ok((builder.with_layer(&bounded).build(), cluster))
}

async fn read_async(options: &Options) -> Result<(Snapshot, String), LiveError> {
    let (client, cluster) = client(options).await?;
    let mut snapshot = Snapshot::default();
    // The optional resources the server does not serve (404).
    let mut not_served: Vec<&str> = Vec::new();
    for Resource {
        path,
        kind,
        api_version,
        optional,
        instead_of,
    } in RESOURCES
    {
        if instead_of.is_some_and(|other| !not_served.contains(&other)) {
            continue;
        }
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
                Err(error) if is_too_large(&error) => {
                    let page = options.page_size.max(1);
                    return Err(LiveError::TooLarge {
                        what: format!(
                            "a list page of {path} ({page} object{})",
                            if page == 1 { "" } else { "s" }
                        ),
                        cluster: cluster.clone(),
                        limit: options.max_response_size,
                        hint: if page > 1 {
                            "give a smaller --chunk-size (fewer objects per page) or a larger --max-response-size"
                                .to_string()
                        } else {
                            "one object is that large: give a larger --max-response-size"
                                .to_string()
                        },
                    });
                }
                // The CNI's resources are absent where another CNI runs (404), and credentials
                // made for the core resources may not read them (403): verify goes on without.
                Err(kube::Error::Api(status))
                    if optional && (status.code == 404 || status.code == 403) =>
                {
                    if status.code == 404 {
                        not_served.push(path);
                    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn kubeconfig(ca: &str, key: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters:\n- name: k\n  cluster:\n    server: https://[2001:db8::1]:6443\n    certificate-authority: {ca}\n\
             users:\n- name: u\n  user:\n    client-key: {key}\n    client-certificate: certs/u.crt\n\
             contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
        )
    }

    #[test]
    fn relative_files_are_taken_from_the_kubeconfig_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("certs")).unwrap();
        for f in ["certs/ca.crt", "certs/u.crt", "certs/u.key"] {
            std::fs::write(dir.path().join(f), "-----BEGIN CERTIFICATE-----\n").unwrap();
        }
        let path = dir.path().join("config");
        std::fs::write(&path, kubeconfig("certs/ca.crt", "certs/u.key")).unwrap();
        let config = load_kubeconfig(&path).unwrap();
        let ca = config.clusters[0]
            .cluster
            .as_ref()
            .unwrap()
            .certificate_authority
            .clone()
            .unwrap();
        assert_eq!(ca, dir.path().join("certs/ca.crt").display().to_string());
    }

    #[test]
    fn devices_and_fifos_are_refused_where_a_kubeconfig_or_its_files_belong() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("certs")).unwrap();
        std::fs::write(dir.path().join("certs/u.crt"), "x").unwrap();
        std::fs::write(dir.path().join("certs/ca.crt"), "x").unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, kubeconfig("certs/ca.crt", "/dev/zero")).unwrap();
        let err = load_kubeconfig(&path).unwrap_err();
        assert!(err.is_configuration());
        assert_eq!(
            err.to_string(),
            "/dev/zero is a character device; kube6 reads regular files (or standard input, as -)"
        );
        let err = load_kubeconfig(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(err, LiveError::Read(_)), "{err}");
        let big = dir.path().join("big");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(KUBECONFIG_LIMIT.bytes + 1).unwrap();
        let err = load_kubeconfig(&big).unwrap_err();
        assert!(err.to_string().contains("larger than 16 MiB"), "{err}");
    }

    /// The pod's service-account files are read as a kubeconfig's: regular files, bounded.
    #[test]
    fn service_account_files_are_bounded_and_regular() {
        let dir = tempfile::tempdir().unwrap();
        check_service_account(dir.path()).unwrap();
        std::fs::write(dir.path().join("namespace"), "kube6-system").unwrap();
        std::fs::write(dir.path().join("ca.crt"), "-----BEGIN CERTIFICATE-----\n").unwrap();
        std::fs::write(dir.path().join("token"), "eyJhbGciOiJSUzI1NiJ9.e30.sig").unwrap();
        check_service_account(dir.path()).unwrap();

        let token = dir.path().join("token");
        std::fs::File::create(&token)
            .unwrap()
            .set_len(SERVICE_ACCOUNT_LIMIT.bytes + 1)
            .unwrap();
        let err = check_service_account(dir.path()).unwrap_err();
        assert!(err.is_configuration());
        assert_eq!(
            err.to_string(),
            format!(
                "{} is larger than 4 MiB, the most kube6 reads of a service-account file",
                token.display()
            )
        );
        std::fs::remove_file(&token).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &token).unwrap();
        let err = check_service_account(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} is a symbolic link to a character device; kube6 reads regular files (or standard input, as -)",
                token.display()
            )
        );
    }
}
