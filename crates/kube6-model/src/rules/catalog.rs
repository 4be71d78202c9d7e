//! Every rule kube6 checks, with its stable id, severity and the component that enforces it.
//! Diagnostics are made from these entries only, so `kube6 rules` and docs/rules.md list
//! everything kube6 can say.

use crate::diagnostic::{Component, Severity};

/// An upstream file whose behaviour a rule encodes: a repository and a path in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Source {
    /// `owner/name` on GitHub.
    pub repo: &'static str,
    /// The file (or, for a whole package, the directory) in that repository.
    pub path: &'static str,
}

impl Source {
    /// `repo:path`, as docs/rules.md shows it.
    pub fn label(&self) -> String {
        format!("{}:{}", self.repo, self.path)
    }
}

/// A rule's fixed metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    pub enforced_by: Component,
    /// What the rule checks, in one sentence.
    pub summary: &'static str,
    /// When it applies (distribution, CNI, or "always").
    pub applies_to: &'static str,
    /// The upstream code the rule encodes. Empty only for kube6's own cross-checks, which no
    /// component makes (their summary says why kube6 checks them anyway).
    pub sources: &'static [Source],
}

const KUBERNETES: &str = "kubernetes/kubernetes";
const K0S: &str = "k0sproject/k0s";
const K3S: &str = "k3s-io/k3s";
const KKP: &str = "kubermatic/kubermatic";
const CALICO: &str = "projectcalico/calico";
const CILIUM: &str = "cilium/cilium";
const FLANNEL: &str = "flannel-io/flannel";
const KUBE_ROUTER: &str = "cloudnativelabs/kube-router";
const METALLB: &str = "metallb/metallb";
const INGRESS_NGINX: &str = "kubernetes/ingress-nginx";
const TRAEFIK_CHART: &str = "traefik/traefik-helm-chart";
const RKE2: &str = "rancher/rke2";
const KKP_DOCS: &str = "kubermatic/docs";
const KUBE_VIP: &str = "kube-vip/kube-vip";
const KUBE_VIP_CLOUD_PROVIDER: &str = "kube-vip/kube-vip-cloud-provider";

const KUBE_APISERVER_VALIDATION: &str = "cmd/kube-apiserver/app/options/validation.go";
const KUBE_FEATURES: &str = "pkg/features/kube_features.go";
const KCM_CORE: &str = "cmd/kube-controller-manager/app/core.go";
const KCM_OPTIONS: &str = "cmd/kube-controller-manager/app/options/nodeipamcontroller.go";
const NODE_IPAM: &str = "pkg/controller/nodeipam/node_ipam_controller.go";
const CIDRSET: &str = "pkg/controller/nodeipam/ipam/cidrset/cidr_set.go";
const RANGE_ALLOCATOR: &str = "pkg/controller/nodeipam/ipam/range_allocator.go";
const KUBEADM_VALIDATION: &str = "cmd/kubeadm/app/apis/kubeadm/validation/validation.go";
const KUBEADM_CONSTANTS: &str = "cmd/kubeadm/app/constants/constants.go";
const KUBEADM_MANIFESTS: &str = "cmd/kubeadm/app/phases/controlplane/manifests.go";
const NODE_IP_PARSER: &str = "staging/src/k8s.io/component-helpers/node/util/ips.go";
const KUBE_PROXY_VALIDATION: &str = "pkg/proxy/apis/config/validation/validation.go";
const KUBE_PROXY_CONVERSION: &str = "pkg/proxy/apis/config/v1alpha1/conversion.go";
const KUBE_ROUTER_SVCIP: &str = "pkg/svcip/validator.go";
const BITMAP_ALLOCATOR: &str = "pkg/registry/core/service/ipallocator/bitmap.go";
const IPADDRESS_ALLOCATOR: &str = "pkg/registry/core/service/ipallocator/ipallocator.go";
const K0S_NETWORK: &str = "pkg/apis/k0s/v1beta1/network.go";
const K3S_SERVER: &str = "pkg/cli/server/server.go";
const K3S_AGENT: &str = "pkg/agent/run.go";
const K3S_NET: &str = "pkg/util/net.go";
const KKP_VALIDATION: &str = "pkg/validation/cluster.go";
const CALICO_IPPOOL: &str = "libcalico-go/lib/clientv3/ippool.go";
const COREDNS: &str = "coredns/coredns";
const COREDNS_DNS64_SETUP: &str = "plugin/dns64/setup.go";
const NODELOCALDNS: &str = "cluster/addons/dns/nodelocaldns/nodelocaldns.yaml";
const RKE2_CHARTS: &str = "rancher/rke2-charts";
const CALICO_IPPOOL_CRD: &str = "api/config/crd/projectcalico.org_ippools.yaml";
const CAPI: &str = "kubernetes-sigs/cluster-api";
const WEBSITE: &str = "kubernetes/website";
const ENHANCEMENTS: &str = "kubernetes/enhancements";
const K3S_DOCS: &str = "k3s-io/docs";
const CORE_VALIDATION: &str = "pkg/apis/core/validation/validation.go";
const DEFAULT_SERVICE_CIDR: &str =
    "pkg/controlplane/controller/defaultservicecidr/default_servicecidr_controller.go";
const RECONFIGURE_SERVICE_CIDR: &str =
    "content/en/docs/tasks/network/reconfigure-default-service-ip-ranges.md";
const EXTEND_SERVICE_CIDR: &str = "content/en/docs/tasks/network/extend-service-ip-ranges.md";
const KUBEADM_RECONFIGURE: &str =
    "content/en/docs/tasks/administer-cluster/kubeadm/kubeadm-reconfigure.md";
const DUAL_STACK_KEP: &str = "keps/sig-network/563-dual-stack/README.md";
const KCP_WEBHOOK: &str = "controlplane/kubeadm/internal/webhooks/kubeadm_control_plane.go";
const K3S_BOOTSTRAP: &str = "pkg/cluster/bootstrap.go";
const K3S_NETWORK_DOCS: &str = "docs/networking/basic-network-options.md";
const K0S_IPV6_DOCS: &str = "docs/networking/single-stack-ipv6.md";
const METALLB_CONFIG: &str = "internal/config/config.go";
const METALLB_VALIDATION: &str = "internal/config/validation.go";
const METALLB_ALLOCATOR: &str = "internal/allocator/allocator.go";
const CILIUM_L2_DOC: &str = "Documentation/network/l2-announcements.rst";
const CILIUM_L2_ANNOUNCER: &str = "pkg/l2announcer/l2announcer.go";
const CILIUM_LB_IPAM_DOC: &str = "Documentation/network/lb-ipam.rst";
const K3S_SERVICELB: &str = "pkg/cloudprovider/servicelb.go";
const KKP_DUAL_STACK_DOC: &str =
    "content/kubermatic/main/tutorials-howtos/networking/dual-stack/_index.en.md";

/// `[(REPO, PATH), ...]` as a `&'static [Source]`.
macro_rules! sources {
    ($(($repo:expr, $path:expr)),* $(,)?) => {
        &[$(Source { repo: $repo, path: $path }),*]
    };
}

macro_rules! rules {
    ($($name:ident = $id:literal, $sev:ident, $comp:ident, $applies:literal, [$($src:tt)*], $summary:literal;)*) => {
        $(
            #[doc = $summary]
            pub const $name: RuleInfo = RuleInfo {
                id: $id,
                severity: Severity::$sev,
                enforced_by: Component::$comp,
                summary: $summary,
                applies_to: $applies,
                sources: sources!($($src)*),
            };
        )*
        /// Every rule, in id order.
        pub const ALL: &[RuleInfo] = &[$($name),*];
    };
}

rules! {
    // Input.
    UNKNOWN_FIELD = "K6W900", Warning, Kube6, "always", [],
        "A field the format does not define (often a typo); it is ignored.";
    NODE_NAME_INVALID = "K6E910", Error, KubeApiserver, "always", [(KUBERNETES, "pkg/apis/core/validation/validation.go")],
        "A node name is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters): the API server refuses the Node, and kube6 would not know where to put its files.";
    NODE_NAME_DUPLICATE = "K6E911", Error, Kube6, "always", [],
        "Two nodes have the same name: the second kubelet would register as the first one's Node, and their per-node files would overwrite each other.";
    HOST_BITS_SET = "K6W001", Warning, Kube6, "always", [(KUBERNETES, "pkg/apis/networking/validation/validation.go")],
        "A CIDR has host bits set; components use the network address, and strict validators (ServiceCIDR API, Calico) reject it.";
    CIDR_INVALID = "K6E001", Error, Kube6, "always",
        [(KUBERNETES, KUBEADM_VALIDATION), (KUBERNETES, KCM_CORE), (K3S, K3S_SERVER), (K0S, K0S_NETWORK), (KKP, KKP_VALIDATION)],
        "A pod or service range is not a valid CIDR, or a comma-separated list has an empty entry (kubeadm, kube-controller-manager and k3s refuse both).";
    ADDRESS_INVALID = "K6E002", Error, Kube6, "always", [(K3S, K3S_NET), (K3S, K3S_SERVER), (KUBERNETES, KUBEADM_VALIDATION)],
        "A node, API or DNS address is not a valid IP address (k3s refuses a bad or empty node-ip or cluster-dns entry).";
    TOO_MANY_RANGES = "K6E003", Error, KubeApiserver, "always",
        [(KUBERNETES, KUBE_APISERVER_VALIDATION), (KUBERNETES, KCM_CORE), (KUBERNETES, KUBEADM_VALIDATION)],
        "More than two pod or service ranges, or two of the same family: Kubernetes takes at most one per family.";
    NO_POD_RANGE = "K6W004", Warning, KubeControllerManager, "kubeadm", [(KUBERNETES, NODE_IPAM)],
        "No pod range: kube-controller-manager allocates no node CIDRs, so the CNI must do its own IPAM.";
    FAMILY_SETS_DIFFER = "K6W005", Warning, Kube6, "kubeadm, kube6", [(KUBERNETES, KUBE_APISERVER_VALIDATION), (KUBERNETES, KUBEADM_VALIDATION)],
        "Pods and services do not cover the same families: kubeadm and kube-apiserver accept it (a dual-stack pod network with single-stack services is supported), but Services of a family no pod has get no endpoints; k3s and KKP refuse it (K6E050, K6E062).";
    PRIMARY_ORDER_DIFFERS = "K6W006", Warning, Kube6, "kubeadm, kube6", [(KUBERNETES, KUBE_APISERVER_VALIDATION), (KUBERNETES, KCM_CORE)],
        "The pod ranges and the service ranges list their families in different orders: kubeadm, kube-apiserver and kube-controller-manager accept it, but components disagree on the primary family (k3s refuses it, K6E050).";
    PRIMARY_FAMILY_CONFLICT = "K6E007", Error, Kube6, "kube6", [],
        "An explicit primary family (kube6 primaryFamily) disagrees with the order of the ranges, so it is not clear which one is meant.";
    PRIMARY_FAMILY_INVALID = "K6E008", Error, Kube6, "always", [(K0S, K0S_NETWORK)],
        "The primary family is neither IPv4 nor IPv6 (k0s refuses other primaryAddressFamily values).";
    VERSION_UNREADABLE = "K6W009", Warning, Kube6, "always", [],
        "A distribution, Kubernetes or CNI version kube6 cannot read; defaults and rules of the newest release kube6 knows apply.";

    // kube-apiserver.
    SERVICE_RANGE_TOO_LARGE = "K6E010", Error, KubeApiserver, "Kubernetes before 1.34, or its service-allocator gates off",
        [(KUBERNETES, KUBE_APISERVER_VALIDATION), (KUBERNETES, KUBE_FEATURES)],
        "A service range has more than 20 host bits (IPv4 larger than /12, IPv6 larger than /108) while kube-apiserver still limits it: before Kubernetes 1.34, or with MultiCIDRServiceAllocator or DisableAllocatorDualWrite off.";
    SERVICE_RANGE_TOO_SMALL = "K6E011", Error, KubeApiserver, "always", [(KUBERNETES, KUBE_APISERVER_VALIDATION)],
        "The primary service range has fewer than 8 addresses.";
    ADVERTISE_FAMILY = "K6E012", Error, KubeApiserver, "unless the endpoint reconciler is off (k0s with an externalAddress)",
        [(KUBERNETES, KUBE_APISERVER_VALIDATION), (K0S, "cmd/controller/controller.go"), (K3S, K3S_SERVER)],
        "The API server's advertise address (for k3s: --advertise-address, else the first node-external-ip or node-ip) is not in the family of the primary service range.";
    KUBELET_NODE_IP = "K6E014", Error, Kubelet, "always", [(KUBERNETES, NODE_IP_PARSER)],
        "A node's --node-ip is more than two addresses, two of the same family, or an unspecified address in a pair.";
    SERVICE_RANGE_CLAMPED = "K6W013", Warning, Kube6, "bitmap ClusterIP allocator (Kubernetes before 1.34)",
        [(KUBERNETES, BITMAP_ALLOCATOR), (KUBERNETES, KUBE_FEATURES)],
        "An IPv6 service range between /108 and /111 with the bitmap ClusterIP allocator: it uses only the first 65,536 addresses.";

    // kube-controller-manager.
    NODE_MASK_SHORTER_THAN_RANGE = "K6E020", Error, KubeControllerManager, "pod ranges allocated by kube-controller-manager", [(KUBERNETES, NODE_IPAM)],
        "The node mask is shorter than the pod range's prefix: no node block fits.";
    NODE_MASK_IPV6_TOO_FAR = "K6E021", Error, KubeControllerManager, "pod ranges allocated by kube-controller-manager", [(KUBERNETES, CIDRSET)],
        "The IPv6 node mask is more than 16 bits longer than the pod range's prefix (cidrset's bitmap limit).";
    LEGACY_MASK_DUAL_STACK = "K6E022", Error, KubeControllerManager, "dual-stack", [(KUBERNETES, KCM_CORE)],
        "--node-cidr-mask-size is set on a dual-stack cluster; only the per-family flags are allowed.";
    LEGACY_MASK_WITH_FAMILY_MASK = "K6E023", Error, KubeControllerManager, "single-stack", [(KUBERNETES, KCM_CORE)],
        "--node-cidr-mask-size is set together with --node-cidr-mask-size-ipv4/-ipv6.";
    MASK_FLAG_WRONG_FAMILY = "K6E024", Error, KubeControllerManager, "single-stack", [(KUBERNETES, KCM_CORE)],
        "A per-family node-mask flag is set for the family the single-stack cluster does not use.";
    MASK_INVALID = "K6E025", Error, KubeControllerManager, "always", [(KUBERNETES, KCM_OPTIONS), (KUBERNETES, KUBEADM_VALIDATION)],
        "A node mask is not an integer between 0 and the family's address width (kube-controller-manager reads 0 as the default; kubeadm also refuses a mask flag that is not an integer).";
    MASK_LEAVES_ONE_NODE = "K6W026", Warning, Kube6, "always", [],
        "The node mask equals the pod range's prefix: the whole range goes to one node.";

    // kubeadm.
    KUBEADM_SUBNET_TOO_SMALL = "K6E030", Error, Kubeadm, "kubeadm", [(KUBERNETES, KUBEADM_VALIDATION), (KUBERNETES, KUBEADM_CONSTANTS)],
        "A subnet is below kubeadm's minimum (10 addresses for services, 14 for pods).";
    KUBEADM_NODE_MASK_RANGE = "K6E031", Error, Kubeadm, "kubeadm", [(KUBERNETES, KUBEADM_VALIDATION), (KUBERNETES, KUBEADM_CONSTANTS)],
        "kubeadm requires pod prefix <= node mask <= pod prefix + 16 for each family.";
    KUBEADM_LEGACY_MASK_IGNORED = "K6W032", Warning, Kubeadm, "kubeadm", [(KUBERNETES, KUBEADM_VALIDATION)],
        "kubeadm checks node masks against -ipv4/-ipv6 flags (default 24/64) and ignores --node-cidr-mask-size, which kube-controller-manager uses.";
    DNS_DOMAIN_INVALID = "K6E033", Error, Kubeadm, "kubeadm", [(KUBERNETES, KUBEADM_VALIDATION)],
        "kubeadm refuses a cluster domain (networking.dnsDomain) that is not a DNS-1123 subdomain.";
    KUBE_PROXY_CLUSTER_CIDR = "K6W034", Warning, KubeProxy, "always", [(KUBERNETES, KUBE_PROXY_VALIDATION)],
        "kube-proxy's clusterCIDR differs from the pod ranges: kube-proxy accepts it, but decides what to masquerade from it.";

    // k0s.
    K0S_SINGLE_STACK_GATE = "K6E040", Error, K0s, "k0s", [(K0S, K0S_NETWORK), (K0S, "pkg/featuregate/features.go")],
        "IPv6 single-stack needs the IPv6SingleStack feature gate (`k0s controller --feature-gates=IPv6SingleStack=true`).";
    K0S_SERVICE_PREFIX = "K6E041", Error, K0s, "k0s", [(K0S, K0S_NETWORK)],
        "k0s refuses an IPv6 serviceCIDR longer than /108 (so only /108 also passes kube-apiserver's limit before 1.34) and a dual-stack IPv6serviceCIDR shorter than /108.";
    K0S_DUAL_STACK_CALICO_MODE = "K6E042", Error, K0s, "k0s", [(K0S, K0S_NETWORK)],
        "k0s allows dual-stack with Calico only in `bird` mode.";
    K0S_DUAL_STACK_SLOTS = "K6E043", Error, K0s, "k0s", [(K0S, K0S_NETWORK)],
        "In k0s dual-stack, podCIDR/serviceCIDR must be IPv4 and dualStack.IPv6podCIDR/IPv6serviceCIDR IPv6, and both IPv6 ranges are required.";
    K0S_PRIMARY_DERIVED = "K6W044", Warning, K0s, "k0s", [(K0S, "pkg/apis/k0s/v1beta1/clusterconfig_types.go")],
        "IPv6 single-stack k0s derives IPv4 as its primary family (from primaryAddressFamily or the API address) where Calico, kube-router without a router-id or the API endpoint reconciler read it.";
    K0S_DNS_TOO_NARROW = "K6E045", Error, K0s, "k0s", [(K0S, K0S_NETWORK)],
        "k0s cannot compute the cluster DNS address: the service range is too narrow.";
    K0S_DUAL_STACK_NODE_IPS = "K6E046", Error, K0s, "k0s", [(K0S, "pkg/component/worker/kubelet.go")],
        "k0s dual-stack needs every node's name to resolve to both families (or an explicit --node-ip pair).";
    K0S_FAMILY_MISMATCH = "K6E047", Error, K0s, "k0s", [(K0S, K0S_NETWORK)],
        "k0s requires podCIDR and serviceCIDR to be of the same family.";

    // k3s / RKE2.
    K3S_CIDR_FAMILIES = "K6E050", Error, K3s, "k3s, rke2", [(K3S, K3S_AGENT)],
        "k3s requires cluster-cidr and service-cidr to share the IP version, including which family comes first.";
    K3S_NODE_IP_FAMILIES = "K6E051", Error, K3s, "k3s, rke2", [(K3S, K3S_AGENT)],
        "k3s requires node-ip to cover the families of cluster-cidr.";
    K3S_NODE_IP_ORDER = "K6W052", Warning, K3s, "k3s, rke2", [(K3S, K3S_NET)],
        "IPv6-primary cluster without an IPv6-first node-ip: the kubelet prefers IPv4.";
    CLUSTER_DNS_OUTSIDE = "K6W053", Warning, Kube6, "always", [(KUBERNETES, KUBEADM_CONSTANTS)],
        "A cluster DNS IP is outside the service ranges or in the wrong family order: the kubelet accepts it (NodeLocal DNSCache uses a link-local address on purpose), but no CoreDNS Service can have it.";

    // KKP.
    KKP_IPV6_ONLY = "K6E060", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP does not support IPv6-only clusters (ipFamily is IPv4 or IPv4+IPv6).";
    KKP_PRIMARY_IPV4 = "K6E061", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP requires the first CIDR to be IPv4 and the second IPv6.";
    KKP_COUNTS = "K6E062", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP requires as many pod CIDRs as service CIDRs, at most two each.";
    KKP_IP_FAMILY = "K6E063", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP's ipFamily does not match the number of pod CIDRs.";
    KKP_NODE_MASK = "K6E064", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP requires the node mask to be strictly longer than the pod CIDR's prefix.";
    KKP_DNS_DOMAIN = "K6E065", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP requires dnsDomain to be cluster.local.";
    KKP_DATACENTER_IPV6 = "K6W067", Warning, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "Dual-stack on OpenStack or vSphere needs IPv6 enabled in the KKP datacenter.";

    // CNIs.
    CANAL_DUAL_STACK_VERSION = "K6E066", Error, Canal, "canal", [(KKP, KKP_VALIDATION)],
        "Dual-stack with Canal needs Canal 3.22 or later.";
    CALICO_BLOCK_SIZE = "K6E070", Error, Calico, "calico, canal", [(CALICO, CALICO_IPPOOL)],
        "A Calico block size is outside 20-32 (IPv4) or 116-128 (IPv6).";
    CALICO_POOL_SMALLER_THAN_BLOCK = "K6E071", Error, Calico, "calico, canal", [(CALICO, CALICO_IPPOOL)],
        "An enabled Calico pool is smaller than its block size (a disabled pool is exempt).";
    CALICO_IPIP_IPV6 = "K6E072", Error, Calico, "calico, canal", [(CALICO, CALICO_IPPOOL), (CALICO, CALICO_IPPOOL_CRD)],
        "IP-in-IP is not supported on an IPv6 pool.";
    CALICO_VXLAN_AND_IPIP = "K6E073", Error, Calico, "calico, canal", [(CALICO, CALICO_IPPOOL), (CALICO, CALICO_IPPOOL_CRD)],
        "A pool cannot enable both VXLAN and IP-in-IP.";
    CALICO_IPV6_VXLAN_VERSION = "K6E074", Error, Calico, "calico", [(CALICO, "libcalico-go/lib/validator/v3/validator.go")],
        "IPv6 over VXLAN needs Calico 3.23 or later; older versions need BGP (bird) for IPv6.";
    CALICO_POOL_OUTSIDE = "K6W075", Warning, Calico, "calico, canal", [(CALICO, CALICO_IPPOOL)],
        "An enabled workload Calico pool is not inside the pod range of its family (pods get addresses the plan does not show).";
    CALICO_BLOCK_VS_NODE_MASK = "K6I076", Info, Calico, "calico", [(CALICO, CALICO_IPPOOL)],
        "Calico IPAM hands out blocks of its own size, not the kube-controller-manager node blocks.";
    FLANNEL_NETWORK_TOO_SMALL = "K6E080", Error, Flannel, "flannel, canal", [(FLANNEL, "pkg/subnet/config.go")],
        "Flannel needs an IPv4 network of /28 or larger and an IPv6 network of /124 or larger, with room for four subnets.";
    CILIUM_MASK_TOO_FAR = "K6E085", Error, Cilium, "cilium", [(CILIUM, "pkg/ipam/cidrset/cidr_set.go")],
        "A Cilium cluster-pool mask is longer than the address (32 for IPv4, 128 for IPv6), or an IPv6 mask is more than 16 bits longer than its pool.";
    CILIUM_POOL_OUTSIDE = "K6W086", Warning, Cilium, "cilium", [(CILIUM, "install/kubernetes/cilium/values.yaml")],
        "Cilium's cluster-pool allocates from its own pool list, which is not the pod range (by default 10.0.0.0/8 and fd00::/104).";
    CILIUM_IPV6_DISABLED = "K6E087", Error, Cilium, "cilium", [(CILIUM, "install/kubernetes/cilium/values.yaml")],
        "IPv6 pod ranges with Cilium's ipv6.enabled false.";
    KUBE_ROUTER_ROUTER_ID = "K6E090", Error, KubeRouter, "kube-router", [(KUBE_ROUTER, "pkg/options/options.go")],
        "kube-router on an IPv6-only cluster needs --router-id (k0s sets `generate`).";
    KUBE_ROUTER_CONFORMANCE = "K6I091", Info, KubeRouter, "kube-router", [(K0S, "docs/dual-stack.md")],
        "kube-router on IPv6 single-stack does not pass the Kubernetes network conformance tests (k0s documentation).";

    // What a target distribution cannot express (render and `--target`).
    KKP_CNI = "K6E201", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP installs Cilium or Canal, or none (cniPlugin.type none) for a CNI you bring; it cannot install Calico, flannel or kube-router.";
    K0S_IPV6_FIRST_KUBE_ROUTER = "K6E202", Error, K0s, "k0s", [(K0S, "pkg/component/controller/kuberouter.go")],
        "k0s configures kube-router, kube-proxy and the kubelet for IPv4-first dual-stack only; an IPv6-first cluster with kube-router needs rawArgs on each (k0sproject/k0s#7321).";
    KUBEADM_CONTROL_PLANE_ENDPOINT = "K6E203", Error, Kubeadm, "kubeadm", [(KUBERNETES, "cmd/kubeadm/app/cmd/phases/join/preflight.go")],
        "Two or more control-plane nodes without a control-plane endpoint: kubeadm refuses to join a control-plane node to a cluster without one.";
    KKP_EXPOSE_STRATEGY = "K6E204", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP's exposeStrategy is NodePort, LoadBalancer or Tunneling.";
    KKP_VERSION = "K6E222", Error, Kkp, "kkp", [(KKP, "pkg/crd/k8c.io/kubermatic.k8c.io_clusters.yaml")],
        "A KKP Cluster needs spec.version (the CRD requires it and no webhook fills it in).";

    // The highly available API endpoint.
    API_ENDPOINT_FAMILY = "K6E205", Error, Kube6, "always", [],
        "The API endpoint (or one of its virtual IPs) is of a family the cluster does not have, two virtual IPs share a family, or none is of the primary family.";
    API_ENDPOINT_SECONDARY = "K6W206", Warning, Kube6, "dual-stack", [],
        "The API endpoint is an address of the secondary family: components that take the primary family from it (k0s) or reach it from single-family nodes disagree with the plan.";

    // CNI configuration, as read from the CNI's own files.
    CILIUM_TUNNEL_UNDERLAY = "K6E210", Error, Cilium, "cilium", [(CILIUM, "pkg/node/address.go")],
        "Cilium in tunnel mode (its default) tunnels over IPv4; on an IPv6-only cluster the agent stops (\"external IPv4 node address could not be derived\"). Use native routing, or underlayProtocol ipv6 from Cilium 1.18.";
    CILIUM_NATIVE_ROUTING_CIDR = "K6E211", Error, Cilium, "cilium", [(CILIUM, "install/kubernetes/cilium/templates/cilium-configmap.yaml")],
        "Cilium in native routing mode with masquerading on needs the native-routing CIDR of that family (ipv4NativeRoutingCIDR/ipv6NativeRoutingCIDR).";
    CILIUM_NATIVE_ROUTES = "K6W212", Warning, Cilium, "cilium", [(CILIUM, "install/kubernetes/cilium/values.yaml")],
        "Cilium in native routing mode, but nothing routes the other nodes' pod CIDRs: no autoDirectNodeRoutes, no BGP control plane, no routed or BGP upstream.";
    CNI_IPAM_FAMILY = "K6E213", Error, Calico, "calico, canal, flannel, kube-router", [(CALICO, "cni-plugin/pkg/ipamplugin/ipam_plugin.go")],
        "The CNI configuration's IPAM does not hand out addresses of a cluster family (host-local without usePodCidr/usePodCidrIPv6, calico-ipam with assign_ipv4/assign_ipv6 off): pods get no address of it.";
    CALICO_FELIX_IPV6 = "K6E214", Error, Calico, "calico, canal", [(CALICO, "felix/config/config_params.go")],
        "FELIX_IPV6SUPPORT is false on a cluster with IPv6 pods: Felix programs no IPv6 routes or policy.";
    FLANNEL_FAMILY_SWITCH = "K6E215", Error, Flannel, "flannel, canal", [(FLANNEL, "pkg/subnet/config.go")],
        "net-conf.json's EnableIPv4/EnableIPv6 do not match the cluster's families (IPv6 pods need EnableIPv6 with IPv6Network; an IPv6-only cluster needs EnableIPv4: false).";
    FLANNEL_NETWORK_MISMATCH = "K6E216", Error, Flannel, "flannel, canal", [(FLANNEL, "pkg/subnet/kube/kube.go")],
        "net-conf.json's Network or IPv6Network does not contain the pod range: flanneld refuses the nodes' podCIDRs (\"subnet ... doesn't contain ... PodCIDR\").";
    MASQUERADE_ROUTED = "K6W217", Warning, Kube6, "IPv6 pod ranges", [],
        "The CNI masquerades pod traffic of a family the plan routes (routed, NDP proxy or BGP upstream): pods leave with the node's address, not their own.";
    KUBE_ROUTER_FAMILY = "K6E218", Error, KubeRouter, "kube-router", [(KUBE_ROUTER, "pkg/options/options.go"), (KUBE_ROUTER, KUBE_ROUTER_SVCIP)],
        "kube-router's --enable-ipv4/--enable-ipv6 do not match the cluster's families, or --service-cluster-ip-range has a range of a family kube-router runs without: kube-router stops, or gives pods of that family no routes or policy.";
    K0S_POD_CIDR_ORDER = "K6I219", Info, K0s, "k0s", [(K0S, K0S_NETWORK)],
        "k0s before v1.36.1 passes kube-controller-manager the IPv6 pod range first in dual-stack, whatever the primary family: nodes carry their IPv6 podCIDR first.";
    NDP_PROXY_FLOATING_BLOCKS = "K6I220", Info, Kube6, "calico, cilium", [],
        "The CNI's own IPAM (Calico blocks, Cilium cluster-pool) places pods outside kube-controller-manager's node blocks: the NDP proxy answers for the whole pool where the node routes the address.";

    // LoadBalancer Services and ingress (rules/load_balancer.rs).
    LB_POOL_INVALID = "K6E400", Error, Kube6, "load-balancer pools", [(METALLB, METALLB_CONFIG)],
        "A load-balancer pool address is neither a CIDR nor a FIRST-LAST range of one family, or a pool name is not a DNS-1123 subdomain.";
    LB_POOL_OVERLAP = "K6E401", Error, Kube6, "load-balancer pools", [(METALLB, METALLB_CONFIG), (METALLB, METALLB_VALIDATION)],
        "A load-balancer pool overlaps another pool (MetalLB refuses the whole configuration), a pod or service range, or holds a node or API address. MetalLB accepts the last three (only v0.15.0 refused node IPs; v0.15.1 reverted it), then hands those addresses to Services and answers ARP/NDP for them against their owners.";
    LB_POOL_FOREIGN_FAMILY = "K6W402", Warning, Kube6, "load-balancer pools", [],
        "A load-balancer pool holds addresses of a family the cluster does not have: no Service can ask for them.";
    LB_NO_PRIMARY_POOL = "K6E403", Error, Kube6, "metallb, cilium, kube-vip", [(METALLB, METALLB_ALLOCATOR), (CILIUM, CILIUM_LB_IPAM_DOC)],
        "No load-balancer pool holds addresses of the primary family: every SingleStack LoadBalancer Service (the default) stays pending.";
    LB_NO_SECONDARY_POOL = "K6W404", Warning, Kube6, "dual-stack, metallb, cilium, kube-vip", [(METALLB, METALLB_ALLOCATOR), (CILIUM, CILIUM_LB_IPAM_DOC)],
        "No load-balancer pool holds addresses of the secondary family: dual-stack LoadBalancer Services get one address or stay pending.";
    METALLB_SPLIT_POOLS = "K6W405", Warning, Metallb, "dual-stack, metallb", [(METALLB, METALLB_ALLOCATOR), (METALLB, "internal/allocator/allocation.go")],
        "MetalLB gives a dual-stack Service both addresses from one pool, and no pool holds both families: RequireDualStack Services stay pending, PreferDualStack ones get one family.";
    LB_L2_OFF_LINK = "K6W406", Warning, Kube6, "IPv6 pools in l2 mode", [(METALLB, "internal/layer2/announcer.go"), (CILIUM, CILIUM_L2_DOC)],
        "An IPv6 pool in L2 mode is outside the nodes' on-link /64: the upstream router sends no neighbor solicitation for it, so the NDP answer never comes.";
    LB_BGP_NO_PEER = "K6E407", Error, Kube6, "pools in bgp mode", [(METALLB, "api/v1beta2/bgppeer_types.go")],
        "A pool in BGP mode has no BGP peer of its family (MetalLB from v0.15.0 keeps each session to its own family unless the BGPPeer sets dualStackAddressFamily), so its addresses are announced to nobody.";
    METALLB_NATIVE_BGP_IPV6 = "K6W408", Warning, Metallb, "metallb, IPv6 pools in bgp mode", [(METALLB, METALLB_VALIDATION)],
        "MetalLB's native BGP mode refuses IPv6 pools with a BGP advertisement; IPv6 over BGP needs the FRR or FRR-K8s mode.";
    CILIUM_L2_NO_NDP = "K6E409", Error, Cilium, "cilium, IPv6 pools in l2 mode", [(CILIUM, CILIUM_L2_DOC), (CILIUM, CILIUM_L2_ANNOUNCER)],
        "Cilium's L2 announcements answer NDP only from 1.19: before, nothing answers neighbor solicitations for IPv6 load-balancer addresses.";
    CILIUM_L2_MLD = "K6W410", Warning, Cilium, "cilium, IPv6 pools in l2 mode", [(CILIUM, CILIUM_L2_ANNOUNCER)],
        "Cilium before 1.19.6 does not join the solicited-node groups of L2-announced IPv6 addresses: switches or bridges with MLD snooping never deliver the router's solicitations.";
    CILIUM_LB_VERSION = "K6E411", Error, Cilium, "cilium", [(CILIUM, CILIUM_LB_IPAM_DOC), (CILIUM, CILIUM_L2_DOC)],
        "Cilium has LB-IPAM from 1.13 and L2 announcements from 1.14.";
    CILIUM_LB_CNI = "K6E412", Error, Kube6, "cilium load balancing", [(CILIUM, CILIUM_LB_IPAM_DOC)],
        "Cilium LB-IPAM is the load-balancer implementation, but Cilium is not the CNI.";
    SERVICELB_POOLS = "K6W413", Warning, K3s, "servicelb", [(K3S, K3S_SERVICELB)],
        "ServiceLB allocates from no pool: a LoadBalancer Service's addresses are the IPs of the nodes that run its svclb pods.";
    SERVICELB_NODE_FAMILY = "K6W414", Warning, K3s, "servicelb", [(K3S, K3S_SERVICELB)],
        "ServiceLB gives a Service the node IPs of its families (ExternalIPs when any node has one): a cluster family no node has an address of gets no load-balancer address.";
    SERVICELB_DISTRIBUTION = "K6E415", Error, Kube6, "servicelb", [(K3S, K3S_SERVICELB), (RKE2, "pkg/cli/cmds/server.go")],
        "ServiceLB is part of k3s and RKE2 (enable-servicelb); other distributions do not have it.";
    INGRESS_NGINX_SINGLE_STACK = "K6W416", Warning, IngressNginx, "ingress-nginx", [(INGRESS_NGINX, "charts/ingress-nginx/values.yaml")],
        "The ingress-nginx chart's Service asks for SingleStack IPv4: on an IPv6-only cluster the API server refuses it, on a dual-stack one it gets no IPv6 address, unless the values set controller.service.ipFamilyPolicy and ipFamilies.";
    TRAEFIK_SINGLE_STACK = "K6I417", Info, Traefik, "traefik, dual-stack", [(TRAEFIK_CHART, "traefik/values.yaml"), (K3S, "manifests/traefik.yaml")],
        "The Traefik chart's Service is SingleStack (the cluster's primary family) unless its values ask for PreferDualStack; k3s's bundled chart does, others do not.";
    INGRESS_NO_LB = "K6W418", Warning, Kube6, "ingress", [],
        "The ingress controller's Service is of type LoadBalancer but nothing hands out load-balancer addresses: it stays pending.";
    KKP_PROVIDER_NO_LB = "K6W419", Warning, Kkp, "kkp", [(KKP_DOCS, KKP_DUAL_STACK_DOC)],
        "LoadBalancer Services stay pending: the KKP provider has no cloud load balancer (DigitalOcean and Equinix Metal none at all; vSphere and bring-your-own need an addon such as MetalLB).";
    KKP_PROVIDER_IPV4_LB = "K6W420", Warning, Kkp, "kkp, dual-stack", [(KKP_DOCS, KKP_DUAL_STACK_DOC)],
        "The provider's cloud controller (AWS, Azure, GCP) makes IPv4 load balancers only: expose Services over IPv6 with NodePort, or run MetalLB.";
    KKP_HETZNER_LB_ANNOTATION = "K6I421", Info, Kkp, "kkp on hetzner", [(KKP_DOCS, KKP_DUAL_STACK_DOC)],
        "Hetzner load balancers need a load-balancer.hetzner.cloud/network-zone or /location annotation on every LoadBalancer Service, else they stay pending.";
    KKP_OPENSTACK_IPV6_LB = "K6W422", Warning, Kkp, "kkp on openstack, dual-stack", [(KKP_DOCS, KKP_DUAL_STACK_DOC)],
        "The OpenStack cloud controller makes IPv6 load balancers from the release for Kubernetes 1.25 on; older clusters get IPv4 ones only.";
    LB_POOLS_UNUSED = "K6W423", Warning, Kube6, "load-balancer pools", [],
        "Pools are declared, but the implementation (cloud, none) allocates from no pool: they are not used.";
    CILIUM_L2_KUBE_PROXY = "K6E430", Error, Cilium, "cilium, pools in l2 mode", [(CILIUM, CILIUM_L2_DOC), (CILIUM, "Documentation/network/kubernetes/kubeproxy-free.rst")],
        "Cilium's L2 announcements need kube-proxy replacement: with kubeProxyReplacement off (or, on KKP, a proxyMode other than ebpf) the announced addresses are answered but nothing takes their traffic.";
    KUBE_VIP_MIXED_MODES = "K6W431", Warning, Kube6, "kube-vip", [(KUBE_VIP, "pkg/kubevip/config_envvar.go"), (KUBE_VIP_CLOUD_PROVIDER, "pkg/provider/loadBalancer.go")],
        "kube-vip pools in both l2 and bgp mode: one kube-vip announces every Service the same way (vip_arp or bgp_enable), and its cloud provider keeps one address list per namespace, so pools of the other mode are announced the wrong way.";
    LB_NDP_PROXY_WATCH_UNUSED = "K6W440", Warning, Kube6, "spec.loadBalancer.ndpProxy: watch", [(CILIUM, CILIUM_L2_ANNOUNCER)],
        "ndpProxy: watch asks kube6's NDP proxy to answer for load-balancer addresses on the announcing node only, but it answers for no pool here: the IPv6 upstream is not ndp-proxy, the implementation answers NDP itself (MetalLB, kube-vip, Cilium from 1.19) or takes no pools, or no pool holds IPv6 addresses in l2 mode (bgp pools are announced, not solicited). Nothing watch-mode is rendered.";
    // Carving a delegated prefix (spec.prefix, kube6 plan --prefix).
    PREFIX_INVALID = "K6E700", Error, Kube6, "spec.prefix, --prefix", [],
        "The prefix to carve is not an IPv6 CIDR, or a count or size asked of it is not a usable number.";
    PREFIX_TOO_SMALL = "K6E701", Error, Kube6, "spec.prefix, --prefix", [(KUBERNETES, CIDRSET), (KUBERNETES, KUBE_APISERVER_VALIDATION)],
        "The prefix cannot hold what is asked of it (node subnets, a pod range for the nodes and pods per node, a service range, load-balancer pools) within the components' limits, around the ranges the input fixes.";
    PREFIX_ON_LINK = "K6W702", Warning, Kube6, "spec.prefix, --prefix", [],
        "Pods and services are carved inside the nodes' own /64 (the prefix is a single /64, or longer): the upstream router solicits each of their addresses on the link, so each node must answer for them (NDP proxy, kube6 ndp-proxy) unless the upstream routes the prefix to the nodes.";
    PREFIX_CARVED = "K6I703", Info, Kube6, "spec.prefix, --prefix", [],
        "A range carved from the prefix, with why it has this place and size.";
    PREFIX_BLOCK_BELOW_MAX_PODS = "K6W704", Warning, Kubelet, "spec.prefix, --prefix", [(KUBERNETES, "pkg/kubelet/apis/config/v1beta1/defaults.go")],
        "The node blocks carved for the pods per node asked hold fewer pod addresses than the kubelet's maxPods: a node that runs more pods than that gets no address for them.";
    PREFIX_RENUMBERED = "K6I705", Info, Kube6, "spec.prefix with --prefix or --previous-prefix", [],
        "The prefix changed: ranges and addresses the input fixes inside the old prefix keep their place in the new one, carved ranges are carved again; the plan's renumbering lists each before and after.";
    PREFIX_RENUMBER_DOES_NOT_FIT = "K6E706", Error, Kube6, "spec.prefix with --prefix or --previous-prefix", [],
        "A range or address the input fixes inside the old prefix lies beyond the end of the new, smaller prefix.";
    PREFIX_FIXED_OUTSIDE = "K6I707", Info, Kube6, "spec.prefix, --prefix", [],
        "A range the input fixes lies outside the prefix: it is kept as it is and nothing is carved for it.";
    PREFIX_PODS_ABOVE_MAX_PODS = "K6W708", Warning, Kubelet, "spec.prefix, --prefix", [(KUBERNETES, "pkg/kubelet/apis/config/v1beta1/defaults.go")],
        "More pods per node are asked of the carving than the kubelet's maxPods: the node blocks hold them, but the kubelet admits no more than maxPods pods.";
    PREFIX_POOLS_NOT_CARVED = "K6W709", Warning, Kube6, "spec.prefix, --prefix with loadBalancerPools", [],
        "Load-balancer pools are asked of the carving, but none is carved: the implementation takes no pool (ServiceLB uses the nodes' addresses, a cloud controller the provider's, none nothing), or spec.loadBalancer.pools already declares the cluster's IPv6 pools.";

    // Cross-checks.
    RANGES_OVERLAP = "K6W100", Warning, Kube6, "always", [(KUBERNETES, RANGE_ALLOCATOR)],
        "Pod and service ranges overlap: kube-controller-manager accepts it and skips the node blocks the service range covers, but CNIs with their own IPAM do not.";
    NODE_IN_RANGE = "K6W101", Warning, Kube6, "always", [],
        "A node or API address lies inside a pod or service range: every component accepts it, but a pod or ClusterIP that gets that address breaks traffic to the node.";
    SPECIAL_RANGE = "K6E102", Error, Kube6, "always", [],
        "A range overlaps loopback, link-local, multicast, unspecified, broadcast, \"this network\" or IPv4-mapped space: no component refuses it, but Linux does not route pod or service traffic there.";
    SPECIAL_RANGE_WARNING = "K6W103", Warning, Kube6, "always", [(KUBERNETES, KUBE_APISERVER_VALIDATION)],
        "A range overlaps a deprecated (site-local), documentation, reserved (240.0.0.0/4, class E), NAT64, Teredo or discard-only range: components and Linux accept it, but networks outside the cluster may drop or reroute it.";
    NODE_FAMILY_ORDER = "K6W104", Warning, Kube6, "always", [],
        "A node's first IP is not of the primary family, or it lacks an IP of a cluster family.";
    CAPACITY = "K6E105", Error, Kube6, "always", [(KUBERNETES, CIDRSET)],
        "The pod range and node mask give fewer node blocks than the spec declares nodes: the extra nodes get no pod CIDR.";
    ULA_NO_EGRESS = "K6W106", Warning, Kube6, "IPv6 pod ranges", [],
        "A ULA (fc00::/7) pod range with no masquerade/NAT66 or NAT64: pods cannot reach the internet over IPv6.";
    GLOBAL_NOT_ROUTED = "K6W107", Warning, Kube6, "IPv6 pod ranges", [],
        "A global pod range with no declared way upstream (routed, NDP proxy or BGP): the upstream will not deliver replies.";
    NDP_PROXY_STATIC_LIMIT = "K6I108", Info, Kube6, "IPv6 pod ranges", [],
        "The NDP proxy answers for the pod range on the uplink; it needs the range inside the uplink's on-link prefix.";
    IPV6_ONLY_NO_NAT64 = "K6I109", Info, Kube6, "IPv6 single-stack", [],
        "An IPv6-only cluster without NAT64: pods cannot reach IPv4-only services (registries, APIs).";

    // Found by porting the components' own validation tests (issue 18).
    K0S_PROVIDER = "K6E300", Error, K0s, "k0s", [(K0S, K0S_NETWORK)],
        "k0s refuses a network provider other than kuberouter, calico or custom (and an empty one).";
    K0S_KUBE_PROXY_MODE = "K6E301", Error, K0s, "k0s", [(K0S, "pkg/apis/k0s/v1beta1/kubeproxy.go")],
        "k0s refuses a kubeProxy.mode other than iptables, ipvs, userspace or nftables, unless kube-proxy is disabled.";
    K0S_CALICO_MODE = "K6E302", Error, K0s, "k0s", [(K0S, "pkg/apis/k0s/v1beta1/calico.go")],
        "k0s refuses a calico.mode other than bird, vxlan or ipip.";
    K0S_CLUSTER_DOMAIN = "K6E303", Error, K0s, "k0s", [(K0S, K0S_NETWORK)],
        "k0s refuses a clusterDomain that is not a DNS name (govalidator IsDNSName: letters of either case, digits, '_' and '-').";
    CLUSTER_DOMAIN_NOT_DNS1123 = "K6W304", Warning, Kube6, "k0s, k3s, rke2, kube6", [(KUBERNETES, KUBEADM_VALIDATION)],
        "The cluster domain is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.'): k0s and k3s accept it, kubeadm refuses it (K6E033).";
    KKP_PROXY_MODE = "K6E305", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP refuses a proxyMode other than ipvs, iptables, ebpf or nftables, and ebpf with Canal or without Konnectivity.";
    KKP_CNI_TYPE = "K6E306", Error, Kkp, "kkp", [(KKP, KKP_VALIDATION)],
        "KKP refuses a cniPlugin.type other than canal, cilium or none.";
    KUBE_PROXY_MODE = "K6E307", Error, KubeProxy, "kube-proxy", [(KUBERNETES, KUBE_PROXY_VALIDATION), (KUBERNETES, KUBE_FEATURES)],
        "kube-proxy refuses the proxy mode on Linux: only iptables, ipvs and nftables (from 1.29 with its gate, on by default from 1.31); userspace was removed in 1.26.";
    KUBEADM_SERVICE_SUBNET_TOO_LARGE = "K6E308", Error, Kubeadm, "kubeadm", [(KUBERNETES, KUBEADM_VALIDATION), (KUBERNETES, KUBEADM_CONSTANTS)],
        "kubeadm refuses a service subnet with more than 20 host bits (IPv4 larger than /12, IPv6 larger than /108), whatever the Kubernetes version.";
    SERVICE_RANGE_SIZE_VERSION = "K6W309", Warning, KubeApiserver, "unknown Kubernetes version",
        [(KUBERNETES, KUBE_APISERVER_VALIDATION), (KUBERNETES, KUBE_FEATURES)],
        "A service range has more than 20 host bits and the input does not say which Kubernetes runs: kube-apiserver refuses it before 1.34 and accepts it from 1.34 on.";
    SERVICE_RANGE_IPV6_TOO_LARGE = "K6E310", Error, KubeApiserver, "always",
        [(KUBERNETES, IPADDRESS_ALLOCATOR), (KUBERNETES, KUBE_APISERVER_VALIDATION)],
        "An IPv6 service range shorter than /64: the ClusterIP allocator of Kubernetes 1.34 and later refuses it, and earlier kube-apiservers refuse anything shorter than /108.";
    KUBELET_NODE_IP_IGNORED = "K6W311", Warning, Kubelet, "kubelet --node-ip (kubeadm)", [(KUBERNETES, NODE_IP_PARSER)],
        "A --node-ip entry that is not an IP address (or is empty): the kubelet ignores it and uses the other entries; kube6 warns because it is almost always a typo.";
    K3S_DNS_RANGE_TOO_SMALL = "K6E312", Error, K3s, "k3s, rke2 without cluster-dns", [(K3S, K3S_SERVER)],
        "Without cluster-dns, k3s takes the 10th address of each service range as a cluster DNS IP and refuses to start when a range has fewer than 11 addresses.";
    CALICO_POOL_NOT_MASKED = "K6E313", Error, Calico, "calico, canal", [(CALICO, CALICO_IPPOOL)],
        "A Calico IPPool CIDR has host bits set (\"IPPool CIDR is not strictly masked\").";
    CALICO_POOL_LINK_LOCAL = "K6E314", Error, Calico, "calico, canal", [(CALICO, CALICO_IPPOOL)],
        "A Calico IPPool overlaps the link-local range (169.254.0.0/16 or fe80::/10).";
    CALICO_POOLS_OVERLAP = "K6E315", Error, Calico, "calico, canal", [(CALICO, CALICO_IPPOOL)],
        "Two Calico IPPools overlap (Calico refuses to create the second).";
    CALICO_POOL_ENUM = "K6E316", Error, Calico, "calico, canal", [(CALICO, CALICO_IPPOOL_CRD)],
        "A Calico IPPool's ipipMode or vxlanMode is not Never, Always or CrossSubnet (case matters), or its allowedUses are unknown or combine LoadBalancer with Workload, Tunnel or encapsulation.";
    CILIUM_POOL_LIST = "K6E317", Error, Cilium, "cilium", [(CILIUM, "pkg/ipam/allocator/clusterpool/cidralloc/cidralloc.go"), (CILIUM, "pkg/ipam/cidrset/cidr_set.go"), (CILIUM, "operator/option/config.go")],
        "A Cilium cluster-pool list holds an entry that is not a CIDR (the operator splits the list on spaces, so `a,b` is one entry), a CIDR of the other family, two CIDRs that collide, or a pool longer than the node mask (no node block fits).";
    SERVICE_RANGE_TAKES_ALL_BLOCKS = "K6E318", Error, KubeControllerManager, "pod ranges allocated by kube-controller-manager", [(KUBERNETES, RANGE_ALLOCATOR), (KUBERNETES, NODE_IPAM)],
        "A service range covers every node block of a pod range: kube-controller-manager marks them all used and no node gets a pod CIDR (its cloud IPAM allocator refuses to start).";
    ALLOCATE_WITHOUT_POD_RANGE = "K6E319", Error, KubeControllerManager, "--allocate-node-cidrs=true", [(KUBERNETES, NODE_IPAM)],
        "--allocate-node-cidrs is true but there is no pod range: kube-controller-manager refuses to start (\"Must specify --cluster-cidr if --allocate-node-cidrs is set\").";
    K0S_API_ADDRESS_ANY = "K6E320", Error, K0s, "k0s", [(K0S, "pkg/apis/k0s/v1beta1/api.go")],
        "k0s refuses spec.api.address 0.0.0.0 or :: (\"invalid INADDR_ANY\"): the API server must advertise a real address.";
    KUBE_PROXY_CLUSTER_CIDR_INVALID = "K6E321", Error, KubeProxy, "kube-proxy in detectLocalMode ClusterCIDR (the default)",
        [(KUBERNETES, KUBE_PROXY_VALIDATION), (KUBERNETES, KUBE_PROXY_CONVERSION)],
        "kube-proxy's clusterCIDR is not one CIDR or a dual-stack pair (an entry that is not a CIDR, an empty entry from a stray comma, more than two, or two of one family): kube-proxy refuses to start.";
    KUBE_PROXY_DETECT_LOCAL_MODE = "K6E322", Error, KubeProxy, "kube-proxy", [(KUBERNETES, KUBE_PROXY_VALIDATION)],
        "kube-proxy's detectLocalMode is not ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix or empty: kube-proxy refuses to start.";
    KUBE_ROUTER_SERVICE_RANGES = "K6E323", Error, KubeRouter, "kube-router", [(KUBE_ROUTER, KUBE_ROUTER_SVCIP), (KUBE_ROUTER, "pkg/options/options.go")],
        "kube-router's --service-cluster-ip-range has an entry that is not a CIDR (an empty one from a stray comma included) or more than two entries: kube-router refuses to start.";
    KUBE_ROUTER_SERVICE_RANGE_DIFFERS = "K6W324", Warning, Kube6, "kube-router", [(KUBE_ROUTER, KUBE_ROUTER_SVCIP)],
        "kube-router's --service-cluster-ip-range is not the cluster's service range of that family: kube-router accepts any range, but its network policies and service routes then cover the wrong addresses.";
    RKE2_CNI = "K6E325", Error, Rke2, "rke2", [(RKE2, "pkg/cli/cmds/server.go"), (RKE2, "pkg/cli/types.go")],
        "RKE2's cni list is not one of none, calico, canal, cilium, flannel, optionally after multus (exact, lower-case values; an empty entry from a stray comma counts as a value): RKE2 refuses to start.";
    CILIUM_ENUM = "K6E326", Error, Cilium, "cilium", [(CILIUM, "pkg/option/config.go"), (CILIUM, "pkg/datapath/tunnel/tunnel.go")],
        "Cilium's routing mode is not native or tunnel, or its underlay protocol is not ipv4 or ipv6: the agent refuses to start.";
    KUBEADM_EXTRA_ARGS_OVERRIDE = "K6W327", Warning, Kubeadm, "kubeadm", [(KUBERNETES, KUBEADM_MANIFESTS), (KUBERNETES, KUBEADM_VALIDATION)],
        "controllerManager.extraArgs cluster-cidr or apiServer.extraArgs service-cluster-ip-range differs from networking.podSubnet/serviceSubnet: kubeadm accepts it, but the component runs with the extraArgs value while kubeadm validated (and kube-proxy and CoreDNS follow) the networking one.";

    // Egress: DNS64/NAT64, CoreDNS, NodeLocal DNSCache (issue 15).
    DNS_FORWARDER_FAMILY = "K6E500", Error, Kube6, "CoreDNS forwarders", [(COREDNS, "plugin/forward/setup.go")],
        "CoreDNS forwards to a resolver of a family the cluster does not have: CoreDNS accepts any address, but its pods have addresses of the cluster's families only, so every name outside the cluster fails to resolve.";
    NODELOCAL_DNS_FAMILY = "K6E501", Error, Kube6, "NodeLocal DNSCache", [(KUBERNETES, NODELOCALDNS), (RKE2_CHARTS, "packages/rke2-coredns/generated-changes/patch/values.yaml.patch")],
        "NodeLocal DNSCache listens on an IPv4 link-local address (the default 169.254.20.10) in an IPv6-only cluster: the kubelet writes it into every pod's resolv.conf, and IPv6-only pods cannot reach it.";
    DNS64_TRANSLATE_ALL = "K6W502", Warning, CoreDns, "CoreDNS dns64", [(COREDNS, COREDNS_DNS64_SETUP)],
        "The dns64 plugin has translate_all: it replaces the real AAAA records of dual-stack names with synthesized ones, so destinations reachable over IPv6 are sent through NAT64 (slower, stateful, IPv4-only at the far end).";
    DNS64_PREFIX_INVALID = "K6E503", Error, CoreDns, "CoreDNS dns64", [(COREDNS, COREDNS_DNS64_SETUP)],
        "The dns64 plugin's prefix is not an IPv6 prefix whose length is a multiple of 8 from /32 to /96: CoreDNS refuses to start (\"invalid prefix length\").";
    DNS64_PREFIX_MISMATCH = "K6W504", Warning, Kube6, "CoreDNS dns64 with spec.nat64", [(COREDNS, COREDNS_DNS64_SETUP)],
        "The dns64 plugin synthesizes addresses in another prefix than the cluster's NAT64 (spec.nat64.prefix; the plugin's default is 64:ff9b::/96): connections to synthesized addresses go where no NAT64 translates them.";
    NAT64_PREFIX_LENGTH = "K6E505", Error, Kube6, "spec.nat64", [],
        "The NAT64 prefix is not IPv6 or its length is not one RFC 6052 defines (/32, /40, /48, /56, /64, /96): NAT64 gateways (TAYGA, Jool), DNS64 and RFC 7050 discovery embed IPv4 addresses only at those lengths.";
    NAT64_POOL4_INVALID = "K6E507", Error, Kube6, "spec.nat64.gateway", [],
        "The NAT64 gateway's pool4 is not an IPv4 prefix of /31 or shorter: TAYGA refuses its dynamic-pool otherwise (tayga.conf(5): the lowest address of the pool is reserved).";
    HYBRID_LAYOUT = "K6I508", Info, Kube6, "IPv6 single-stack with dual-stack nodes", [],
        "The hybrid layout: an IPv6-only cluster whose nodes also have IPv4 addresses. Pods and Services use IPv6 only; the container runtime (image pulls), the kubelet and other node traffic to IPv4-only hosts use the nodes' IPv4, so each node must keep its IPv4 default route (kube6 host check --plan requires it).";
    DNS64_ALLOW_IPV4 = "K6W506", Warning, CoreDns, "CoreDNS dns64 in dual-stack clusters", [(COREDNS, COREDNS_DNS64_SETUP)],
        "The dns64 plugin has allow_ipv4 in a cluster that has IPv4: dual-stack pods asking over IPv4 get synthesized AAAA records and reach IPv4 hosts through NAT64 instead of directly.";
    // Changes to a running cluster (`kube6 diff`): each rule is one component's behaviour when
    // the network of a running cluster changes. Errors: the change is refused or unsafe
    // (exit 1); warnings: it needs steps; notes: it is allowed live.
    NODE_POD_CIDRS_KEPT = "K6W601", Warning, KubeApiserver, "kube6 diff: a pod family added or a pod range changed, node blocks from kube-controller-manager",
        [(KUBERNETES, CORE_VALIDATION), (KUBERNETES, RANGE_ALLOCATOR)],
        "A Node's podCIDRs never change once set (\"node updates may not change podCIDR except from \\\"\\\" to valid\"): existing nodes get a block of a new family or range only after they are drained, deleted and registered again.";
    NODE_BLOCKS_OUTSIDE_POD_RANGE = "K6E602", Error, KubeControllerManager, "kube6 diff: a pod range changed or shrunk",
        [(KUBERNETES, RANGE_ALLOCATOR)],
        "The proposed pod range no longer holds node blocks that nodes already have: kube-controller-manager marks every existing block as used when it starts and fails on a block outside its --cluster-cidr (\"CIDR out of range ... will keep crashing controller-manager\").";
    PRIMARY_FAMILY_CHANGED = "K6E603", Error, KubeApiserver, "kube6 diff: the primary family changes",
        [(ENHANCEMENTS, DUAL_STACK_KEP), (KUBERNETES, DEFAULT_SERVICE_CIDR), (WEBSITE, RECONFIGURE_SERVICE_CIDR)],
        "The primary family cannot change in place: every Service keeps its primary family and first cluster IP, the `kubernetes` Service keeps its address, and the default ServiceCIDR is only ever upgraded from single- to dual-stack with the same first range.";
    SERVICE_RANGE_REPLACED = "K6E604", Error, KubeApiserver, "kube6 diff: a service range changed or shrunk",
        [(KUBERNETES, DEFAULT_SERVICE_CIDR), (WEBSITE, RECONFIGURE_SERVICE_CIDR), (KUBERNETES, CORE_VALIDATION)],
        "A service range replaced or shrunk: Services keep their cluster IPs (spec.clusterIP is immutable), the `kubernetes` Service keeps its address, and from Kubernetes 1.33 the default ServiceCIDR keeps the old range; every Service outside the new range must be recreated.";
    SERVICE_RANGE_EXTENDED_SERVICECIDR = "K6I605", Info, KubeApiserver, "kube6 diff: a service range extended, Kubernetes 1.33 or later",
        [(KUBERNETES, KUBE_FEATURES), (WEBSITE, EXTEND_SERVICE_CIDR)],
        "A service range extended from Kubernetes 1.33 (ServiceCIDR API GA, MultiCIDRServiceAllocator on): a ServiceCIDR object adds the addresses live, without restarting kube-apiserver.";
    SERVICE_RANGE_EXTENDED_FLAG = "K6W606", Warning, KubeApiserver, "kube6 diff: a service range extended before Kubernetes 1.33",
        [(KUBERNETES, KUBE_FEATURES), (KUBERNETES, BITMAP_ALLOCATOR)],
        "A service range extended before Kubernetes 1.33 (no ServiceCIDR API): every kube-apiserver must restart with the larger --service-cluster-ip-range, which must keep the same network address so that the `kubernetes` Service keeps the first address.";
    FAMILY_ADDED = "K6W607", Warning, KubeApiserver, "kube6 diff: a secondary family added, the primary kept",
        [(KUBERNETES, DEFAULT_SERVICE_CIDR), (WEBSITE, RECONFIGURE_SERVICE_CIDR), (ENHANCEMENTS, DUAL_STACK_KEP)],
        "A secondary family added while the primary stays: kube-apiserver, kube-controller-manager, kube-proxy and the CNI restart with both families (the default ServiceCIDR is upgraded to dual-stack), and existing Services gain the family only when set to PreferDualStack or RequireDualStack.";
    FAMILY_REMOVED = "K6E608", Error, KubeApiserver, "kube6 diff: the secondary family removed",
        [(KUBERNETES, DEFAULT_SERVICE_CIDR), (WEBSITE, RECONFIGURE_SERVICE_CIDR), (KUBERNETES, CORE_VALIDATION)],
        "The secondary family removed: pods and Services holding its addresses lose them, nodes keep their podCIDRs of it, and from Kubernetes 1.33 the default ServiceCIDR stays dual-stack (going back to one range is refused) until it is deleted and recreated.";
    CLUSTER_API_NETWORK_IMMUTABLE = "K6E609", Error, ClusterApi, "kube6 diff --cluster-api: a kubeadm cluster managed by Cluster API",
        [(CAPI, KCP_WEBHOOK)],
        "Cluster API's KubeadmControlPlane webhook refuses any edit of kubeadmConfigSpec.clusterConfiguration.networking (pod and service subnets, DNS domain) or controlPlaneEndpoint on a running control plane (\"cannot be modified\").";
    KUBEADM_MANUAL_RECONFIGURE = "K6W610", Warning, Kubeadm, "kube6 diff: kubeadm",
        [(WEBSITE, KUBEADM_RECONFIGURE), (KUBERNETES, KUBEADM_VALIDATION)],
        "kubeadm has no command that changes the network of a running cluster: the kubeadm-config ConfigMap, every control-plane node's static Pod manifests, the kube-proxy ConfigMap and the kubelets' configuration are edited by hand, in order.";
    KKP_NETWORK_IMMUTABLE = "K6E611", Error, Kkp, "kube6 diff: kkp",
        [(KKP, KKP_VALIDATION)],
        "KKP's Cluster webhook refuses changes to spec.clusterNetwork ipFamily, pods.cidrBlocks, services.cidrBlocks, dnsDomain and nodeLocalDNSCacheEnabled once set, and to proxyMode without the unsafe-cni-migration label.";
    KKP_CNI_IMMUTABLE = "K6E612", Error, Kkp, "kube6 diff: kkp, another CNI",
        [(KKP, KKP_VALIDATION)],
        "KKP's Cluster webhook refuses another spec.cniPlugin.type unless the Cluster carries the unsafe-cni-migration label.";
    K0S_DUAL_STACK_NEEDS_IPV6_PRIMARY = "K6E613", Error, K0s, "kube6 diff: k0s, IPv6 single-stack to dual-stack",
        [(K0S, K0S_IPV6_DOCS), (K0S, "pkg/component/controller/kuberouter.go")],
        "k0s migrates an IPv6 single-stack cluster to dual-stack only while IPv6 stays the primary family, and with kube-router only from v1.36.1 (before, kube-router, kube-controller-manager and the kubelet assume IPv4 first).";
    K3S_REJOIN_LOSES_DATA = "K6E614", Error, K3s, "kube6 diff: k3s, rke2, nodes that must rejoin",
        [(K3S_DOCS, K3S_NETWORK_DOCS), (K3S, K3S_AGENT)],
        "k3s and RKE2 support dual-stack only from cluster creation; a node that must get new podCIDRs is deleted and rejoined, and everything it stores locally (local-path volumes, emptyDir, its embedded etcd member) is lost.";
    K3S_CRITICAL_CONFIG = "K6W615", Warning, K3s, "kube6 diff: k3s, rke2 servers",
        [(K3S, K3S_BOOTSTRAP)],
        "cluster-cidr, service-cidr, cluster-dns and cluster-domain are critical configuration: every k3s/RKE2 server must get the same values, or a server refuses to join (\"critical configuration value mismatch\").";
    CALICO_POOL_REPLACED = "K6W616", Warning, Calico, "kube6 diff: calico, canal, a pod range changed",
        [(CALICO, CALICO_IPPOOL)],
        "A Calico IPPool's CIDR and block size cannot be modified (\"IPPool CIDR cannot be modified\"), so a pool never moves to another range or family: a new pool is created, the old one disabled, its pods restarted, then it is deleted.";
    NODE_MASK_CHANGED = "K6W617", Warning, KubeControllerManager, "kube6 diff: the node mask changes",
        [(KUBERNETES, RANGE_ALLOCATOR), (KUBERNETES, CORE_VALIDATION)],
        "A new node mask applies only to nodes registered afterwards: existing nodes keep their blocks until they are drained, deleted and registered again.";
    CNI_REPLACED = "K6E618", Error, Kube6, "kube6 diff: another CNI", [],
        "Replacing the CNI of a running cluster takes every pod off the network until it is recreated under the new plugin: downtime for the whole cluster, and the old plugin's interfaces, routes and rules must be removed from every node.";
    DNS_ADDRESS_CHANGED = "K6W619", Warning, KubeApiserver, "kube6 diff: the cluster DNS address changes",
        [(KUBERNETES, CORE_VALIDATION)],
        "The cluster DNS address changes: kube-dns keeps its cluster IP (spec.clusterIP is immutable), so a Service with the new address is created next to it, every kubelet gets the new clusterDNS, and pods pick it up only when recreated.";
    API_ENDPOINT_CHANGED = "K6W620", Warning, Kube6, "kube6 diff: the API endpoint changes", [],
        "The API endpoint changes: the API server's serving certificate must hold the new name or address before anything uses it, and every kubeconfig (kubelets, kube-proxy, admins, joining nodes) must be switched to it.";
    NODE_ADDRESSES_CHANGED = "K6W621", Warning, Kubelet, "kube6 diff: a node's addresses change",
        [(KUBERNETES, NODE_IP_PARSER)],
        "A node's addresses change: its kubelet restarts with the new --node-ip, and its hostNetwork pods keep the old addresses until they are recreated.";
    ADDRESSES_IN_USE_OUTSIDE = "K6E622", Error, KubeApiserver, "kube6 diff with a live cluster",
        [(KUBERNETES, CORE_VALIDATION), (KUBERNETES, DEFAULT_SERVICE_CIDR)],
        "Services of the running cluster have cluster IPs outside the proposed service ranges: they keep them (spec.clusterIP is immutable) and must be deleted and recreated, which changes their addresses.";
    DISTRIBUTION_REPLACED = "K6E623", Error, Kube6, "kube6 diff: another distribution", [],
        "The proposed configuration is for another distribution: moving a running cluster between distributions is a reinstall, not a network change.";
    POD_RANGE_EXTENDED = "K6W624", Warning, KubeControllerManager, "kube6 diff: a pod range extended",
        [(KUBERNETES, RANGE_ALLOCATOR), (KUBERNETES, KCM_CORE)],
        "A pod range extended (the new range holds the old one): kube-controller-manager, kube-proxy (clusterCIDR) and the CNI restart with the larger range; nodes keep their blocks, which stay inside it.";
    LB_POOL_CHANGED = "K6W625", Warning, Metallb, "kube6 diff: the load-balancer pool addresses change (a renumbered prefix)",
        [(METALLB, "controller/service.go")],
        "The load-balancer pools' addresses change: once the pools are applied, a Service whose address lies in no pool loses it and gets a new one from the new pools (MetalLB: \"current IP not allowed by config, clearing\"), so DNS records, firewall rules and clients that use the old address must follow; a Service that asks for an old address (spec.loadBalancerIP, metallb.io/loadBalancerIPs) gets none until it is changed.";
}

/// Whether a rule judges a change to a running cluster (`kube6 diff`, ids 6xx) rather than one
/// configuration: such rules fire from `kube6 diff`, never from `kube6 validate`.
pub fn is_change_rule(id: &str) -> bool {
    id.get(3..4) == Some("6")
}

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static RuleInfo> {
    ALL.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// Rules whose severity changed when kube6 was checked against the components' own validation
/// code and tests (issue 18): the number stayed, the letter changed. `(old id, new id, why)`.
pub const SEVERITY_CHANGES: &[(&str, &str, &str)] = &[
    (
        "K6E005",
        "K6W005",
        "kubeadm and kube-apiserver accept pods and services of different families",
    ),
    (
        "K6E006",
        "K6W006",
        "kubeadm, kube-apiserver and kube-controller-manager accept pod and service lists in different family orders",
    ),
    (
        "K6E034",
        "K6W034",
        "kube-proxy accepts a clusterCIDR that differs from the pod ranges",
    ),
    (
        "K6E053",
        "K6W053",
        "the kubelet accepts any clusterDNS address (NodeLocal DNSCache uses one outside the service range)",
    ),
    (
        "K6E100",
        "K6W100",
        "kube-controller-manager accepts overlapping pod and service ranges and skips the overlap",
    ),
    (
        "K6E101",
        "K6W101",
        "no component refuses a node address inside a pod or service range",
    ),
];

/// docs/rules.md: every rule as a table, generated from this catalog (`kube6 rules --markdown`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# kube6 rules\n\n\
         Generated by `kube6 rules --markdown`; do not edit by hand (a test fails when this file is stale).\n\n\
         Each diagnostic names the rule's id, the field path with line and column, the component that\n\
         enforces it (`kube6` for cross-checks no single component makes) and a hint with the fix.\n\
         Ids are stable: `K6E` errors make `kube6 validate` exit 1, `K6W` warnings and `K6I` notes do not.\n\n\
         A rule is an error when the component named under \"enforced by\" refuses the setting, or when\n\
         the cluster cannot work with it (the rule says why). Where every component accepts a setting and\n\
         kube6 still has a reason to point at it, the rule is a warning that says which component accepts\n\
         it. Every rule names the upstream code it encodes; the components' own validation tests are\n\
         ported row by row in `crates/kube6-model/tests/upstream/`.\n\n\
         Severities changed by that check keep their number and change their letter:\n\n",
    );
    for (old, new, why) in SEVERITY_CHANGES {
        out.push_str(&format!("- {old} is now {new}: {why}.\n"));
    }
    out.push_str(
        "\n| id | severity | enforced by | applies to | what it checks | upstream source |\n\
         |---|---|---|---|---|---|\n",
    );
    let mut rules: Vec<&RuleInfo> = ALL.iter().collect();
    rules.sort_by_key(|r| (r.id[3..].to_string(), r.id));
    for rule in rules {
        let sources = if rule.sources.is_empty() {
            "kube6 cross-check".to_string()
        } else {
            rule.sources
                .iter()
                .map(|s| format!("`{}`", s.label()))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            rule.id,
            rule.severity,
            rule.enforced_by,
            rule.applies_to,
            rule.summary.replace('|', "\\|"),
            sources
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_match_severity() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule ids");
        for rule in ALL {
            let letter = match rule.severity {
                Severity::Error => 'E',
                Severity::Warning => 'W',
                Severity::Info => 'I',
            };
            assert_eq!(
                rule.id.chars().nth(2),
                Some(letter),
                "{} severity letter",
                rule.id
            );
        }
    }

    #[test]
    fn every_component_rule_names_its_upstream_source() {
        for rule in ALL {
            if rule.enforced_by != Component::Kube6 {
                assert!(
                    !rule.sources.is_empty(),
                    "{} names no upstream source",
                    rule.id
                );
            }
            for source in rule.sources {
                assert!(
                    source.repo.contains('/') && !source.path.is_empty(),
                    "{}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn severity_changes_name_existing_rules() {
        for (old, new, _) in SEVERITY_CHANGES {
            assert!(find(old).is_none(), "{old} still exists");
            assert!(find(new).is_some(), "{new} is missing");
            assert_eq!(old[3..], new[3..], "{old} -> {new} keeps its number");
        }
    }
}
