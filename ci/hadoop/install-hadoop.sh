#!/usr/bin/env bash
# Installs Apache Hadoop's streaming and client jars (version pinned in pom.xml) from Maven
# Central into $CACHE_DIR/hadoop-<version>/lib, outside the repo, and prints that directory.
# A complete install (marked by lib/.complete) is reused as it is.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's:.*<hadoop.version>\(.*\)</hadoop.version>.*:\1:p' "$here/pom.xml")
[ -n "$version" ] || { echo "install-hadoop: no hadoop.version in $here/pom.xml" >&2; exit 1; }
cache=${CACHE_DIR:-$HOME/.cache/mapreduce-k8s}
home=$cache/hadoop-$version

if [ ! -f "$home/lib/.complete" ]; then
  # Java 17 and Maven come from Debian's packages when the machine lacks them.
  if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "install-hadoop: installing Java 17 and Maven with apt-get" >&2
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        openjdk-17-jdk-headless maven >&2
    else
      echo "install-hadoop: java and mvn are needed (Debian: openjdk-17-jdk-headless maven)" >&2
      exit 1
    fi
  fi
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.hadoop-$version.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "install-hadoop: fetching Hadoop $version jars with Maven into $home" >&2
  mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$tmp/lib" >&2
  ls "$tmp/lib/hadoop-streaming-$version.jar" >/dev/null
  touch "$tmp/lib/.complete"
  rm -rf "$home"
  mv "$tmp" "$home"
  trap - EXIT
fi
echo "$home/lib"
