// Package cwagent configures the CloudWatch agent for a kind of EC2 host:
// its config in SSM Parameter Store (memory and disk metrics, and the
// host's log files), the KMS-encrypted log groups those files go to, and
// the permissions an instance needs to run it.
//
// It owns the parameter and the log groups. Hosts install the agent and
// fetch the config at boot (see InstallScript). Entry point: New.
package cwagent

import (
	"encoding/json"
	"path"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ssmparameter"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Namespace of the agent's metrics.
const Namespace = "CWAgent"

// Props configures one host kind's agent, in the account and region of the
// enclosing stack (tf.EnvOf).
type Props struct {
	// Name identifies the host kind, e.g. acme-dev-ecs-host: the parameter
	// is /<Name>/cloudwatch-agent and log groups /ec2/<Name>/<file>.
	// Required.
	Name string
	// Files are the log files to ship. Required.
	Files []string
	// LogKey and RetentionDays configure the log groups. Required.
	LogKey        *kms.Key
	RetentionDays int
}

// Agent is a host kind's agent configuration.
type Agent struct {
	// Parameter is the SSM parameter holding the config.
	Parameter string
	// Statements are what the instance role needs to run the agent.
	Statements []iam.Statement
}

// New creates the config parameter and the log groups.
func New(scope constructs.Construct, id string, p Props) *Agent {
	s := constructs.NewConstruct(scope, tf.S(id))
	a := &Agent{Parameter: "/" + p.Name + "/cloudwatch-agent"}
	var collect []map[string]any
	var streams []string
	for _, f := range p.Files {
		group := "/ec2/" + p.Name + "/" + strings.TrimSuffix(path.Base(f), ".log")
		g := loggroup.New(s, "log-"+path.Base(f), loggroup.Props{Name: group, RetentionDays: p.RetentionDays, Key: p.LogKey})
		collect = append(collect, map[string]any{"file_path": f, "log_group_name": group, "log_stream_name": "{instance_id}"})
		streams = append(streams, g.StreamsARN)
	}
	config, _ := json.Marshal(map[string]any{
		"agent": map[string]any{"metrics_collection_interval": 60},
		"metrics": map[string]any{
			"namespace":         Namespace,
			"append_dimensions": map[string]string{"AutoScalingGroupName": "${aws:AutoScalingGroupName}", "InstanceId": "${aws:InstanceId}"},
			// Also per group, across its instances (and disks), which is
			// what the memory and disk alarms watch: instances come and go.
			"aggregation_dimensions": [][]string{{"AutoScalingGroupName"}},
			"metrics_collected": map[string]any{
				"mem":  map[string]any{"measurement": []string{"mem_used_percent"}},
				"disk": map[string]any{"measurement": []string{"used_percent"}, "resources": []string{"/"}},
			},
		},
		"logs": map[string]any{"logs_collected": map[string]any{"files": map[string]any{"collect_list": collect}}},
	})
	ssmparameter.NewSsmParameter(s, tf.S("config"), &ssmparameter.SsmParameterConfig{
		Name: tf.S(a.Parameter), Type: tf.S("String"), Tier: tf.S("Standard"),
		Description: tf.S("CloudWatch agent config for " + p.Name),
		// The agent's own placeholders look like Terraform interpolations.
		Value: tf.S(strings.ReplaceAll(string(config), "${", "$${")),
		Tags:  tf.Name(a.Parameter),
	})
	a.Statements = []iam.Statement{
		iam.Allow("ReadAgentConfig", []string{"ssm:GetParameter"}, tf.EnvOf(scope).ARN("ssm", "parameter"+a.Parameter)),
		iam.Allow("ShipHostLogs", []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"}, streams...),
		iam.Allow("PutAgentMetrics", []string{"cloudwatch:PutMetricData"}, "*").When("StringEquals", "cloudwatch:namespace", Namespace),
		// The agent tags metrics with instance and group names.
		iam.Allow("DescribeInstance", []string{"ec2:DescribeTags", "ec2:DescribeVolumes"}, "*"),
	}
	return a
}
