// Package aurora makes an Aurora cluster (PostgreSQL or MySQL) in the
// persistence tier: encrypted with its own customer-managed key, its master
// password generated and rotated by RDS in Secrets Manager, TLS enforced by
// a cluster parameter group, with Performance Insights, enhanced monitoring
// and log exports to KMS-encrypted log groups with retention.
//
// Services never see the master user: each connects as its own database
// user through IAM database authentication (ConnectStatement grants
// rds-db:connect as that user only). The users are created in the
// database at apply time, before the services start, through the RDS Data
// API with the master secret (SetupScript); rotating the master secret
// changes nothing for them.
//
// It owns the cluster, instances, subnet group, parameter group, security
// group, key, monitoring role, log groups and the user setup. Callers open
// it to their services with AllowFrom; nothing else can reach it. Entry
// point: New.
package aurora

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dbsubnetgroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/rdscluster"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/rdsclusterinstance"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/rdsclusterparametergroup"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/loggroup"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/constructs/securitygroup"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Engines.
const (
	Postgres = "aurora-postgresql"
	MySQL    = "aurora-mysql"
)

// Ports of the engines.
const (
	PostgresPort = 5432
	MySQLPort    = 3306
)

// Defaults of Props.
const (
	DefaultDatabaseName        = "app"
	DefaultBackupRetentionDays = 7
)

// The daily backup window and the weekly maintenance window (UTC), apart
// so that maintenance never runs during a backup.
const (
	BackupWindow      = "03:00-04:00"
	MaintenanceWindow = "sun:04:30-sun:05:30"
)

// MasterUser is the master user's name; its password lives only in the
// RDS-managed secret, and only the user setup uses it.
const MasterUser = "app_admin"

// MonitoringIntervalSeconds is the enhanced monitoring granularity.
const MonitoringIntervalSeconds = 60

// Props configures a cluster.
type Props struct {
	// Name is the cluster identifier. Required.
	Name string
	// Engine is Postgres or MySQL, EngineVersion its version. Required.
	Engine, EngineVersion string
	// InstanceClass and Instances size the cluster; instances are spread
	// across the VPC's AZs in order. Required: both, Instances at least 1.
	InstanceClass string
	Instances     int
	// VPC places the cluster, in the subnets of Tier. Required: VPC.
	// Default tier: network.PrivatePersistence.
	VPC  *network.Vpc
	Tier network.Tier
	// DatabaseName is created at launch. Default: DefaultDatabaseName
	// ("app").
	DatabaseName string
	// BackupRetentionDays keeps automated backups. Default:
	// DefaultBackupRetentionDays (7).
	BackupRetentionDays int
	// DeletionProtection makes AWS refuse to delete the cluster. Default:
	// false.
	DeletionProtection bool
	// SkipFinalSnapshot deletes the cluster without a final snapshot.
	// Default: false, a final snapshot FinalSnapshotID(Name) is taken on
	// delete.
	SkipFinalSnapshot bool
	// KeyStatements are added to the cluster key's policy, e.g. sharing it
	// with the account backups are copied to (backup.SourceKeyStatements).
	// Default: none.
	KeyStatements []iam.Statement
	// LogKey encrypts the exported log groups; LogRetentionDays keeps them.
	// Required.
	LogKey           *kms.Key
	LogRetentionDays int
	// Users are the IAM-authenticated database users to create (UserName
	// of each service that uses the database). Default: none.
	Users []string
	// SetupRole is the role the user setup assumes first: a person's
	// deploy_role. Default: "", the setup runs with the environment's
	// credentials (CI's github-apply). The setup runs where Terraform runs
	// and needs bash and the AWS CLI there.
	SetupRole string
}

// Cluster is the created database.
type Cluster struct {
	ID                       string
	Endpoint, ReaderEndpoint *string
	Port                     int
	// SecretARN is the RDS-managed master secret (ARN only, never a value).
	SecretARN *string
	// Key encrypts storage, the secret and Performance Insights; readers of
	// the secret need kms:Decrypt on it.
	Key           *kms.Key
	SecurityGroup *securitygroup.Group
	DatabaseName  string
	// Instances is the writer plus readers.
	Instances int
	// ARN is the cluster's ARN, known at synth time; ResourceID its
	// resource ID (cluster-...), in the ARNs of rds-db:connect.
	ARN        string
	ResourceID *string
	// UsersReady is the user setup: services that connect must wait for it.
	UsersReady cdktf.ITerraformDependable
	env        awsenv.Env
}

// New creates the cluster.
func New(scope constructs.Construct, id string, p Props) *Cluster {
	if p.Name == "" || p.Instances < 1 || p.VPC == nil || p.LogKey == nil {
		panic("aurora.New: Name, Instances, VPC and LogKey are required (" + id + ")")
	}
	if p.DatabaseName == "" {
		p.DatabaseName = DefaultDatabaseName
	}
	if p.BackupRetentionDays == 0 {
		p.BackupRetentionDays = DefaultBackupRetentionDays
	}
	if p.Tier == "" {
		p.Tier = network.PrivatePersistence
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	env := tf.EnvOf(s)
	c := &Cluster{
		ID: p.Name, Port: PostgresPort, DatabaseName: p.DatabaseName, Instances: p.Instances,
		ARN: ClusterARN(env, p.Name), env: env,
	}
	if p.Engine == MySQL {
		c.Port = MySQLPort
	}
	c.Key = kms.New(s, "key", kms.Props{Alias: p.Name + "-db", Description: "Encrypts the " + p.Name + " database and its secret", Statements: p.KeyStatements})
	c.SecurityGroup = securitygroup.New(s, "sg", securitygroup.Props{Name: p.Name + "-db", Description: "Database " + p.Name + ": open only to its services", VPC: p.VPC})
	subnets := dbsubnetgroup.NewDbSubnetGroup(s, tf.S("subnets"), &dbsubnetgroup.DbSubnetGroupConfig{
		Name: tf.S(p.Name), SubnetIds: p.VPC.SubnetIDs(p.Tier), Description: tf.S("Persistence tier of " + p.Name), Tags: tf.Name(p.Name),
	})
	params := parameterGroup(s, p)
	logs := logGroups(s, p)
	monitoring := monitoringRole(s, p)

	cluster := rdscluster.NewRdsCluster(s, tf.S("cluster"), &rdscluster.RdsClusterConfig{
		ClusterIdentifier:                tf.S(p.Name),
		Engine:                           tf.S(p.Engine),
		EngineVersion:                    tf.S(p.EngineVersion),
		DatabaseName:                     tf.S(p.DatabaseName),
		MasterUsername:                   tf.S(MasterUser),
		ManageMasterUserPassword:         tf.B(true),
		MasterUserSecretKmsKeyId:         c.Key.ARN,
		StorageEncrypted:                 tf.B(true),
		KmsKeyId:                         c.Key.ARN,
		DbSubnetGroupName:                subnets.Name(),
		VpcSecurityGroupIds:              tf.Ptrs(c.SecurityGroup.ID),
		DbClusterParameterGroupName:      params.Name(),
		BackupRetentionPeriod:            tf.N(p.BackupRetentionDays),
		PreferredBackupWindow:            tf.S(BackupWindow),
		PreferredMaintenanceWindow:       tf.S(MaintenanceWindow),
		DeletionProtection:               tf.B(p.DeletionProtection),
		SkipFinalSnapshot:                tf.B(p.SkipFinalSnapshot),
		FinalSnapshotIdentifier:          finalSnapshot(p),
		CopyTagsToSnapshot:               tf.B(true),
		IamDatabaseAuthenticationEnabled: tf.B(true),
		// The Data API creates the services' users (SetupScript).
		EnableHttpEndpoint:           tf.B(true),
		EnabledCloudwatchLogsExports: tf.Strs(exports(p.Engine)...),
		Tags:                         tf.Name(p.Name),
		DependsOn:                    &logs,
	})
	var instances []cdktf.ITerraformDependable
	azs := p.VPC.AZs
	for i := range p.Instances {
		instance := rdsclusterinstance.NewRdsClusterInstance(s, tf.S(fmt.Sprintf("instance-%d", i+1)), &rdsclusterinstance.RdsClusterInstanceConfig{
			Identifier:                  tf.S(fmt.Sprintf("%s-%d", p.Name, i+1)),
			ClusterIdentifier:           cluster.Id(),
			Engine:                      tf.S(p.Engine),
			EngineVersion:               tf.S(p.EngineVersion),
			InstanceClass:               tf.S(p.InstanceClass),
			AvailabilityZone:            tf.S(azs[i%len(azs)]),
			DbSubnetGroupName:           subnets.Name(),
			PubliclyAccessible:          tf.B(false),
			AutoMinorVersionUpgrade:     tf.B(true),
			PerformanceInsightsEnabled:  tf.B(true),
			PerformanceInsightsKmsKeyId: c.Key.ARN,
			MonitoringInterval:          tf.N(MonitoringIntervalSeconds),
			MonitoringRoleArn:           monitoring.Arn(),
			PromotionTier:               tf.N(i),
			Tags:                        tf.Name(fmt.Sprintf("%s-%d", p.Name, i+1)),
		})
		instances = append(instances, instance)
	}
	c.Endpoint, c.ReaderEndpoint = cluster.Endpoint(), cluster.ReaderEndpoint()
	c.SecretARN = cluster.MasterUserSecret().Get(tf.N(0)).SecretArn()
	c.ResourceID = cluster.ClusterResourceId()
	if len(p.Users) > 0 {
		c.UsersReady = userSetup(s, p, c, instances)
	}
	return c
}

// UserName is the database user of a service: "svc_" and its name, with
// underscores for hyphens (at most 28 characters, within MySQL's 32).
func UserName(service string) string { return "svc_" + strings.ReplaceAll(service, "-", "_") }

// ClusterARN is the ARN of the cluster name in env, known without the
// cluster (the user setup run by hand, `landing-zone db-users`).
func ClusterARN(env awsenv.Env, name string) string { return env.ARN("rds", "cluster:"+name) }

// ConnectStatement lets a task role connect as one database user through
// IAM database authentication, and as no other (not the master user, not
// another service's user).
func (c *Cluster) ConnectStatement(user string) iam.Statement {
	return iam.Allow("ConnectAsOwnDatabaseUser", []string{"rds-db:connect"},
		c.env.ARN("rds-db", "dbuser:"+*c.ResourceID+"/"+user))
}

// ReadSecretStatements let a role read the master secret, which RDS
// encrypts with the cluster's key: what the user setup's role needs, and
// nothing a service should have.
func (c *Cluster) ReadSecretStatements() []iam.Statement {
	return []iam.Statement{
		iam.Allow("ReadDatabaseMasterSecret", []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"}, *c.SecretARN),
		iam.Allow("DecryptDatabaseMasterSecret", []string{"kms:Decrypt"}, *c.Key.ARN).
			When("StringEquals", "kms:ViaService", "secretsmanager."+c.env.Region+".amazonaws.com"),
	}
}

// userSetup creates the users when the cluster's instances are up, before
// the services that wait for UsersReady, and again when the list changes.
func userSetup(s constructs.Construct, p Props, c *Cluster, instances []cdktf.ITerraformDependable) cdktf.ITerraformDependable {
	users := map[string]any{"users": strings.Join(p.Users, ","), "engine": p.Engine}
	return cdktf.NewDataResource(s, tf.S("users"), &cdktf.DataConfig{
		TriggersReplace: &users,
		DependsOn:       &instances,
		Provisioners: &[]any{&cdktf.LocalExecProvisioner{
			Type:        tf.S("local-exec"),
			Interpreter: tf.Strs("bash", "-c"),
			Command:     tf.S(terraformLiteral(SetupScript(p.Engine, c.env.Region, p.Name, c.ARN, p.DatabaseName, p.Users, p.SetupRole))),
			Environment: &map[string]*string{"SECRET_ARN": c.SecretARN},
		}},
	})
}

// terraformLiteral escapes Terraform's template sequences.
func terraformLiteral(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
}

// SetupScript is the bash script that creates the IAM-authenticated users
// through the RDS Data API with the master secret ($SECRET_ARN, or looked
// up): idempotent, so it may run again at any time (`landing-zone db-users
// ENV` prints it). With role set it first assumes that role.
func SetupScript(engine, region, clusterID, clusterARN, database string, users []string, role string) string {
	var b strings.Builder
	b.WriteString("set -euo pipefail\n")
	if role != "" {
		fmt.Fprintf(&b, "read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN < <(aws sts assume-role --role-arn %s --role-session-name landing-zone-db-users --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)\n", role)
		b.WriteString("export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN\n")
	}
	fmt.Fprintf(&b, "secret=\"$(printenv SECRET_ARN || aws rds describe-db-clusters --region %s --db-cluster-identifier %s --query 'DBClusters[0].MasterUserSecret.SecretArn' --output text)\"\n", region, clusterID)
	fmt.Fprintf(&b, "sql() { aws rds-data execute-statement --region %s --resource-arn %s --secret-arn \"$secret\" --database %s --sql \"$1\" --output text > /dev/null; }\n", region, clusterARN, database)
	for _, u := range users {
		if engine == MySQL {
			fmt.Fprintf(&b, "sql \"CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'\"\n", u)
			fmt.Fprintf(&b, "sql \"GRANT ALL PRIVILEGES ON %s.* TO '%s'@'%%'\"\n", database, u)
			continue
		}
		// CREATE USER has no IF NOT EXISTS in PostgreSQL: a user that
		// exists is fine, any other error is not.
		fmt.Fprintf(&b, "if ! out=$(sql \"CREATE USER %s\" 2>&1); then grep -q 'already exists' <<<\"$out\" || { echo \"$out\" >&2; exit 1; }; fi\n", u)
		fmt.Fprintf(&b, "sql \"GRANT rds_iam TO %s\"\n", u)
		fmt.Fprintf(&b, "sql \"GRANT CONNECT, TEMPORARY ON DATABASE %s TO %s\"\n", database, u)
		fmt.Fprintf(&b, "sql \"GRANT USAGE, CREATE ON SCHEMA public TO %s\"\n", u)
	}
	return b.String()
}

// AllowFrom lets members of a client group connect to the database port:
// ingress here, and the client's egress to this group.
func (c *Cluster) AllowFrom(peerName string, client *securitygroup.Group) {
	securitygroup.Connect(client, peerName, c.SecurityGroup, c.SecurityGroup.Name, securitygroup.TCP(c.Port, "Database clients: "+peerName))
}

// AllowFromCIDR opens the database port to an address range (operators on
// the VPN, whose traffic leaves the VPN server's subnets).
func (c *Cluster) AllowFromCIDR(peerName, cidr string) {
	c.SecurityGroup.AllowFromCIDR(peerName, cidr, securitygroup.TCP(c.Port, "Database clients: "+peerName))
}

// parameterGroup enforces TLS for every connection.
func parameterGroup(s constructs.Construct, p Props) rdsclusterparametergroup.RdsClusterParameterGroup {
	family, param, value := "aurora-postgresql"+major(p.EngineVersion), "rds.force_ssl", "1"
	if p.Engine == MySQL {
		family, param, value = "aurora-mysql"+mysqlMajor(p.EngineVersion), "require_secure_transport", "ON"
	}
	return rdsclusterparametergroup.NewRdsClusterParameterGroup(s, tf.S("params"), &rdsclusterparametergroup.RdsClusterParameterGroupConfig{
		Name:        tf.S(p.Name + "-tls"),
		Family:      tf.S(family),
		Description: tf.S("TLS-only connections for " + p.Name),
		Parameter: &[]*rdsclusterparametergroup.RdsClusterParameterGroupParameter{
			{Name: tf.S(param), Value: tf.S(value), ApplyMethod: tf.S("pending-reboot")},
		},
		Tags: tf.Name(p.Name + "-tls"),
	})
}

// logGroups pre-creates the groups RDS exports to, so that they are
// encrypted and expire instead of being auto-created without either.
func logGroups(s constructs.Construct, p Props) []cdktf.ITerraformDependable {
	var out []cdktf.ITerraformDependable
	for _, e := range exports(p.Engine) {
		g := loggroup.New(s, "log-"+e, loggroup.Props{
			Name: "/aws/rds/cluster/" + p.Name + "/" + e, RetentionDays: p.LogRetentionDays, Key: p.LogKey,
		})
		out = append(out, g.Resource)
	}
	return out
}

func monitoringRole(s constructs.Construct, p Props) iamrole.IamRole {
	env := tf.EnvOf(s)
	monitoring := role.New(s, "monitoring-role", role.Props{
		Name: p.Name + "-rds-monitoring", Trust: iam.ServiceTrust("monitoring.rds.amazonaws.com", env.Account),
	}).Role
	iamrolepolicyattachment.NewIamRolePolicyAttachment(s, tf.S("monitoring-policy"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
		Role: monitoring.Name(), PolicyArn: tf.S(env.Partition.ManagedPolicy("service-role/AmazonRDSEnhancedMonitoringRole")),
	})
	return monitoring
}

func finalSnapshot(p Props) *string {
	if p.SkipFinalSnapshot {
		return nil
	}
	return tf.S(FinalSnapshotID(p.Name))
}

// FinalSnapshotID names the snapshot taken when the cluster (or a Redis
// group) named name is deleted.
func FinalSnapshotID(name string) string { return name + "-final" }

func exports(engine string) []string {
	if engine == MySQL {
		return []string{"audit", "error", "slowquery"}
	}
	return []string{"postgresql"}
}

// major turns "16.4" into "16", the parameter group family suffix.
func major(version string) string { return strings.SplitN(version, ".", 2)[0] }

// mysqlMajor turns "8.0.mysql_aurora.3.08.0" into "8.0".
func mysqlMajor(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}
