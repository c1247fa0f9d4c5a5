#!/usr/bin/env bash
# Installs the programs the host proof runs (__tests__/hostproof_test.go)
# from Debian's packages, as .ci/run's first step after `make deps`:
# quiet, idempotent, and instant when they are all there (dpkg, no apt).
#
# Versions are pinned to those the proof last ran with on Debian 12; when
# the archive has moved on (a security update replaces a version), the
# current one is installed with a warning, and the pins should be updated
# after a green run. They are not Ubuntu 24.04's (the VPN server's):
# README, "Tests", lists where they differ.
#
# Packages are installed without starting their services (policy-rc.d):
# the proof runs the programs itself, in namespaces, and must not leave a
# fail2ban or OpenVPN running on the machine.
set -euo pipefail

pins=(
  shellcheck=0.9.0-1
  fail2ban=1.0.2-2
  openvpn=2.6.14-0+deb12u2
  easy-rsa=3.1.0-1
  iptables=1.8.9-2
  iproute2=6.1.0-3
  jq=1.6-2.1+deb12u3
  netcat-openbsd=1.219-1
)

missing=()
for pin in "${pins[@]}"; do
  pkg=${pin%%=*} want=${pin#*=}
  have=$(dpkg-query -W -f '${Status} ${Version}' "$pkg" 2>/dev/null || true)
  case $have in
    "install ok installed $want") ;;
    "install ok installed "*) echo "host proof: $pkg ${have##* } is installed; the proof was last run with $want" >&2 ;;
    *) missing+=("$pin") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "host proof: installing ${missing[*]} needs root (the proof itself does too)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
install=()
for pin in "${missing[@]}"; do
  pkg=${pin%%=*} want=${pin#*=}
  if apt-cache madison "$pkg" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$want"; then
    install+=("$pin")
  else
    echo "host proof: $pkg $want is no longer in the archive; installing its current version" >&2
    install+=("$pkg")
  fi
done
# No service starts during the install; restore whatever policy was there.
policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ]; then
  saved=$(mktemp)
  cp -p "$policy" "$saved"
fi
restore() { if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi; }
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' > "$policy"
chmod 755 "$policy"
echo "host proof: apt-get install ${install[*]}"
log=$(mktemp)
if ! apt-get install -y -qq --no-install-recommends "${install[@]}" > "$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
rm -f "$log"
