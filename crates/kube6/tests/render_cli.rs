//! `kube6 render`: exit statuses, --out/--force/--dry-run, refusals, and that the rendered
//! files read back (kube6's own NDP proxy configuration through kube6-ndp's parser).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn layout(name: &str) -> String {
    root()
        .join(format!("crates/kube6-render/tests/layouts/{name}.yaml"))
        .display()
        .to_string()
}

fn kube6(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube6"))
        .current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn writes_files_and_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out_arg = out_dir.display().to_string();
    let ipv6 = layout("ipv6");
    let args = [
        "render",
        ipv6.as_str(),
        "--target",
        "kubeadm",
        "--out",
        &out_arg,
    ];
    let out = kube6(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("kubeadm/init.yaml"));
    let init = out_dir.join("kubeadm/init.yaml");
    let content = std::fs::read_to_string(&init).unwrap();
    assert!(
        content.contains("podSubnet: \"2001:db8:7:1:a::/108\""),
        "{content}"
    );
    assert_eq!(
        std::fs::metadata(&init).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(out_dir.join("host/cp1/sysctl.d/90-kube6.conf").is_file());
    assert!(out_dir.join("host/worker1/ndppd.conf").is_file());
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(out_dir.join("kubeadm"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".kube6-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Again: refused, the file named, --force suggested, nothing changed.
    std::fs::write(&init, "mine\n").unwrap();
    let out = kube6(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("init.yaml") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&init).unwrap(), "mine\n");

    let mut forced = args.to_vec();
    forced.push("--force");
    let out = kube6(&forced);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&init).unwrap(), content);
}

#[test]
fn dry_run_prints_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out_arg = out_dir.display().to_string();
    let file = layout("dual-ipv6-first");
    let out = kube6(&[
        "render",
        &file,
        "--target",
        "k3s",
        "--out",
        &out_arg,
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("k3s/server-cp1.yaml (mode 0600)"),
        "{printed}"
    );
    assert!(printed.contains("cluster-cidr: \"2001:db8:100::/56,10.244.0.0/16\""));
    // Calico peers with the upstream itself (no BIRD next to its own BGP speaker).
    assert!(printed.contains("cni/calico-bgp.yaml") && !printed.contains("bird.conf"));
    assert!(!out_dir.exists());
}

#[test]
fn invalid_plan_is_refused_with_its_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.yaml");
    std::fs::write(
        &input,
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [fd00::/48]\n  services: [fd00:20::/125]\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = kube6(&[
        "render",
        &input.display().to_string(),
        "--target",
        "kubeadm",
        "--out",
        &out_dir.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("error[") && err.contains("writes nothing"),
        "{err}"
    );
    assert!(!out_dir.exists());
}

#[test]
fn kkp_refuses_ipv6_only_and_ipv6_first_with_the_reason() {
    for (file, reason) in [("ipv6", "IPv6-only"), ("dual-ipv6-first", "IPv4 first")] {
        let out = kube6(&["render", &layout(file), "--target", "kkp", "--dry-run"]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let err = text(&out.stderr);
        assert!(
            err.contains("kkp cannot express") && err.contains(reason),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn kubeadm_api_v1beta3_writes_maps() {
    let out = kube6(&[
        "render",
        &layout("ipv6"),
        "--target",
        "kubeadm",
        "--kubeadm-api",
        "v1beta3",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("apiVersion: kubeadm.k8s.io/v1beta3"));
    assert!(
        printed.contains("    node-cidr-mask-size-ipv6: \"117\""),
        "{printed}"
    );
}

#[test]
fn target_checks_what_the_input_distribution_did_not() {
    // Valid for kubeadm, but k0s rejects an IPv6 single-stack service range longer than /108.
    let out = kube6(&[
        "render",
        "examples/kubeadm-ipv6-calico.yaml",
        "--target",
        "k0s",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("<= 108"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn rendered_ndp_proxy_config_is_what_kube6_ndp_proxy_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out_arg = dir.path().join("o").display().to_string();
    let out = kube6(&[
        "render",
        &layout("ipv6"),
        "--target",
        "k0s",
        "--out",
        &out_arg,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for node in ["cp1", "worker1"] {
        let path = dir
            .path()
            .join(format!("o/host/{node}/kube6-ndp-proxy.yaml"));
        let config = kube6_ndp::Config::from_yaml(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(config.validate().is_empty(), "{:?}", config.validate());
        assert_eq!(config.uplink, "eth0");
        assert_eq!(config.prefixes.len(), 1);
        // And the daemon's own check accepts it.
        let check = kube6(&[
            "ndp-proxy",
            "--config",
            &path.display().to_string(),
            "--check",
        ]);
        assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    }
    let plan = kube6(&["plan", &layout("ipv6"), "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let block = plan["nodes"][1]["podCIDRs"][0]
        .as_str()
        .unwrap()
        .to_string();
    let conf = std::fs::read_to_string(dir.path().join("o/host/worker1/ndppd.conf")).unwrap();
    assert!(conf.contains(&format!("rule {block} {{")), "{conf}");
}

/// A write the system refuses is exit 1 (the system is not as the command needs), with one line
/// naming what could not be written and why, and that nothing was.
#[test]
fn a_refused_write_is_exit_1_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out_arg = file.join("out").display().to_string();
    let ipv6 = layout("ipv6");
    let out = kube6(&["render", &ipv6, "--target", "kubeadm", "--out", &out_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let last = text(&out.stderr)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(
        last.starts_with(&format!("kube6: cannot create {out_arg}"))
            && last.ends_with("Not a directory (os error 20); nothing was written"),
        "{last}"
    );
}

/// A plan whose NDP proxy answers for load-balancer pools in watch mode renders a DaemonSet that
/// runs kube6: without `--kube6-image` render is a usage error that says what to give, and
/// writes nothing.
#[test]
fn watch_mode_without_the_kube6_image_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("watch.yaml");
    std::fs::write(
        &plan,
        "apiVersion: kube6.dev/v1alpha1
kind: ClusterNetwork
metadata: {name: watch}
spec:
  distribution: kubeadm
  cni: {name: cilium, version: 1.18.3}
  pods: [{cidr: \"2001:db8:100::/56\", nodeMaskSize: 64}]
  services: [fd00:20::/112]
  nodes: [{name: worker-1, role: controller+worker, addresses: [\"2001:db8:1::2\"]}]
  upstream: {IPv6: {mode: ndp-proxy, uplink: eth0}}
  loadBalancer:
    implementation: cilium
    ndpProxy: watch
    pools: [{addresses: [\"2001:db8:1::ff00/120\"]}]
",
    )
    .unwrap();
    let plan_arg = plan.display().to_string();
    let out_dir = dir.path().join("out");
    let out_arg = out_dir.display().to_string();
    let base = [
        "render",
        plan_arg.as_str(),
        "--target",
        "kubeadm",
        "--out",
        out_arg.as_str(),
    ];
    let out = kube6(&base);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--kube6-image IMAGE"), "{stderr}");
    assert!(!out_dir.exists());
    let mut with_image = base.to_vec();
    with_image.extend(["--kube6-image", "registry.example/kube6:0.1.0"]);
    let out = kube6(&with_image);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let manifest =
        std::fs::read_to_string(out_dir.join("load-balancer/kube6-ndp-proxy-watch.yaml")).unwrap();
    assert!(
        manifest.contains("image: \"registry.example/kube6:0.1.0\"\n"),
        "{manifest}"
    );
}
