#!/usr/bin/env bash
# Security scan of every synthesized stack with Trivy (make scan).
#
# Trivy cannot read nested blocks from Terraform JSON, so the real (online)
# stacks are synthesized as JSON, rewritten as HCL with the AWS provider's
# schema (cmd/tfhcl), and scanned. Accepted findings are recorded in code on
# the resource they concern (guardrails.WaiveScan) and become inline
# ignores on that resource alone; they are listed below. Any other HIGH or
# CRITICAL finding fails the scan.
set -euo pipefail
cd "$(dirname "$0")/.."

trivy=${TRIVY:-.tools/bin/trivy}
work=.tmp/scan
rm -rf "$work"
mkdir -p "$work/schema"

echo "scan: synthesizing every stack"
go build -o "$work/landing-zone" .
CDKTF_OUTDIR="$work/json" "$work/landing-zone"

echo "scan: reading the AWS provider schema"
printf 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = ">= 5.84, < 6.0" }\n  }\n}\n' > "$work/schema/main.tf"
mirror=${TF_PROVIDER_MIRROR:-/opt/tf-plugins}
if [ -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
  sed "s#/opt/tf-plugins#$mirror#" __tests__/testdata/terraform.rc > "$work/terraform.rc"
  export TF_CLI_CONFIG_FILE=$PWD/$work/terraform.rc
fi
(cd "$work/schema" && terraform init -input=false -no-color >/dev/null && terraform providers schema -json > ../aws-schema.json)

echo "scan: accepted findings (guardrails.WaiveScan, next to each resource)"
go run ./cmd/tfhcl "$work/aws-schema.json" "$work/json/stacks" "$work/hcl" | sed 's/^/  /'

echo "scan: trivy config (HIGH and CRITICAL fail the scan)"
"$trivy" config --skip-check-update --quiet --severity HIGH,CRITICAL --exit-code 1 "$work/hcl"
echo "scan: 0 HIGH or CRITICAL findings in $(ls "$work/hcl" | wc -l) stacks"
