#!/usr/bin/env bash
# Builds the kube6 probe agent image from this repository, pulling nothing: a statically linked
# kube6 binary in an image FROM scratch (deploy/probe/Containerfile), with podman or buildah
# (Debian packages). See docs/probe.md ("The agent image").
#
#   deploy/probe/build.sh [--tag IMAGE] [--profile release|dev] [--builder podman|buildah]
#                                [--push DESTINATION]
#
# --tag      the image name (default localhost/kube6-probe:VERSION, what `kube6 probe` runs
#            when --image is not given)
# --profile  the Cargo profile of the binary (default release)
# --builder  podman or buildah (default: the first one installed)
# --push     after the build, push the image there (e.g. registry.example/kube6-probe:0.1.0);
#            give `kube6 probe --image` that name
#
# The binary is linked with glibc's static C library (`-C target-feature=+crt-static` for the
# host's *-linux-gnu target; libc6-dev ships libc.a). The agent never calls the C library's name
# resolution (its DNS client is hickory-resolver), which is the one part of a static glibc that
# needs shared objects at run time. A binary that still asks for a dynamic loader is refused.
set -euo pipefail
cd "$(dirname "$0")/../.."

tag= profile=release builder= push=
while (($#)); do
  case $1 in
    --tag) tag=${2:?--tag needs an image name}; shift 2 ;;
    --profile) profile=${2:?--profile needs release or dev}; shift 2 ;;
    --builder) builder=${2:?--builder needs podman or buildah}; shift 2 ;;
    --push) push=${2:?--push needs a destination}; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $profile in
  release) profile_dir=release ;;
  dev) profile_dir=debug ;;
  *) echo "build.sh: --profile is release or dev, not $profile" >&2; exit 2 ;;
esac
if [ -z "$builder" ]; then
  for b in podman buildah; do
    if command -v "$b" >/dev/null 2>&1; then builder=$b; break; fi
  done
  [ -n "$builder" ] || { echo "build.sh: neither podman nor buildah is installed (apt-get install podman)" >&2; exit 1; }
fi
case $builder in
  podman | buildah) ;;
  *) echo "build.sh: --builder is podman or buildah, not $builder" >&2; exit 2 ;;
esac

version=$(cargo pkgid -p kube6 | sed 's/.*[#@]//')
tag=${tag:-localhost/kube6-probe:$version}
triple=$(rustc -vV | sed -n 's/^host: //p')
case $triple in
  *-linux-gnu) ;;
  *) echo "build.sh: the host target $triple is not a *-linux-gnu one; build on Linux with glibc" >&2; exit 1 ;;
esac

# --target keeps build scripts and proc macros dynamic (they run here); only kube6 is static.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --locked -p kube6 --bin kube6 --profile "$profile" --target "$triple"
binary=${CARGO_TARGET_DIR:-target}/$triple/$profile_dir/kube6

if readelf -lW "$binary" | grep -q 'program interpreter'; then
  echo "build.sh: $binary is dynamically linked; it would not start in an image FROM scratch" >&2
  readelf -lW "$binary" | grep 'program interpreter' >&2
  exit 1
fi
if readelf -dW "$binary" 2>/dev/null | grep -q '(NEEDED)'; then
  echo "build.sh: $binary needs shared libraries:" >&2
  readelf -dW "$binary" | grep '(NEEDED)' >&2
  exit 1
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$binary" "$context/kube6"
cp deploy/probe/Containerfile "$context/Containerfile"
case $builder in
  podman) podman build --pull=never --build-arg "VERSION=$version" -f "$context/Containerfile" -t "$tag" "$context" ;;
  buildah) buildah build --pull=never --build-arg "VERSION=$version" -f "$context/Containerfile" -t "$tag" "$context" ;;
esac
echo "built $tag"
if [ -n "$push" ]; then
  "$builder" push "$tag" "$push"
  echo "pushed $push; run: kube6 probe --image $push"
fi
