package tests

import (
	"testing"

	"github.com/acme/landing-zone/constructs/ecscluster"
	"github.com/acme/landing-zone/internal/config"
)

// TestECSExecIsLoggedEncryptedAndOnlyWhereNamed, on every config: an app
// environment whose ecs.exec_groups name groups has ECS Exec on its cluster
// (sessions encrypted with a key of the stack, logged with OVERRIDE to a
// log group of the stack that a KMS key encrypts, with the encryption
// check on) and on every service; one that names none has neither. Who may
// use it is the IAM proof's (TestAccessIsAsIntendedOnEveryConfig and the
// broken cases of TestIAMProofIsNoRubberStamp); that the provider accepts
// the blocks, the offline plan's.
func TestECSExecIsLoggedEncryptedAndOnlyWhereNamed(t *testing.T) {
	for _, f := range propertyConfigs(t) {
		t.Run(f.Name, func(t *testing.T) {
			out := synthOf(t, f)
			on := 0
			for _, name := range f.Cfg.AccountNames() {
				a := f.Cfg.Accounts[name]
				if a.Kind != config.KindApp {
					continue
				}
				s := readStack(t, out, name)
				for id, svc := range s.resources("aws_ecs_service") {
					if got, _ := svc["enable_execute_command"].(bool); got != a.ExecOn() {
						t.Errorf("%s: service %s has enable_execute_command %v, want %v (exec_groups %v)", name, id, svc["enable_execute_command"], a.ExecOn(), a.ECS.ExecGroups)
					}
				}
				for id, c := range s.resources("aws_ecs_cluster") {
					x := first(first(c["configuration"])["execute_command_configuration"])
					if !a.ExecOn() {
						if len(x) != 0 {
							t.Errorf("%s: cluster %s configures ECS Exec with no exec_groups: %v", name, id, x)
						}
						continue
					}
					on++
					if x["logging"] != "OVERRIDE" {
						t.Errorf("%s: ECS Exec logging is %v, want OVERRIDE", name, x["logging"])
					}
					if s.deref(t, x["kms_key_id"])["enable_key_rotation"] != true {
						t.Errorf("%s: the session key is not a rotated key of the stack", name)
					}
					l := first(x["log_configuration"])
					if l["cloud_watch_encryption_enabled"] != true {
						t.Errorf("%s: the session log's encryption check is off: %v", name, l)
					}
					var group map[string]any
					for _, g := range s.resources("aws_cloudwatch_log_group") {
						if g["name"] == l["cloud_watch_log_group_name"] {
							group = g
						}
					}
					if group == nil || l["cloud_watch_log_group_name"] != ecscluster.ExecLogGroupName(f.Cfg.NamePrefix+"-"+name) {
						t.Fatalf("%s: the session log %v is not a log group of the stack", name, l["cloud_watch_log_group_name"])
					}
					if s.deref(t, group["kms_key_id"]) == nil || group["retention_in_days"] != float64(a.ECS.LogRetentionDays) {
						t.Errorf("%s: the session log group is not KMS-encrypted with the environment's retention: %v", name, group)
					}
				}
			}
			t.Logf("%d environments with ECS Exec", on)
		})
	}
}
