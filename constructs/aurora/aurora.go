// Package aurora makes an Aurora cluster (PostgreSQL or MySQL) in the
// persistence tier: encrypted with its own customer-managed key, its master
// password generated and rotated by RDS in Secrets Manager, TLS enforced by
// a cluster parameter group, with Performance Insights, enhanced monitoring
// and log exports to KMS-encrypted log groups with retention.
//
// It owns the cluster, instances, subnet group, parameter group, security
// group, key, monitoring role and log groups. Callers open it to their
// services with AllowFrom; nothing else can reach it. Entry point: New.
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
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/constructs/securitygroup"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// Engines.
const (
	Postgres = "aurora-postgresql"
	MySQL    = "aurora-mysql"
)

// Props configures a cluster.
type Props struct {
	// Name is the cluster identifier. Required.
	Name string
	// Engine is Postgres or MySQL, EngineVersion its version. Required.
	Engine, EngineVersion string
	// InstanceClass and Instances size the cluster; instances are spread
	// across AZs in order. Required: Instances at least 1.
	InstanceClass string
	Instances     int
	// AZs for the instances, and SubnetIDs of the persistence tier. Required.
	AZs       []string
	SubnetIDs *[]*string
	VpcID     *string
	// DatabaseName is created at launch. Default: app.
	DatabaseName string
	// BackupRetentionDays. Default: 7.
	BackupRetentionDays int
	// DeletionProtection blocks deletion, and a final snapshot is taken on
	// delete. Default: false (dev-like: no final snapshot).
	DeletionProtection bool
	// LogKey encrypts the exported log groups; LogRetentionDays keeps them.
	// Required.
	LogKey           *kms.Key
	LogRetentionDays int
	// AccountID and Region build ARNs. Required.
	AccountID, Region string
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
}

// New creates the cluster.
func New(scope constructs.Construct, id string, p Props) *Cluster {
	if p.Name == "" || p.Instances < 1 || len(p.AZs) == 0 || p.LogKey == nil {
		panic("aurora.New: Name, Instances, AZs and LogKey are required (" + id + ")")
	}
	if p.DatabaseName == "" {
		p.DatabaseName = "app"
	}
	if p.BackupRetentionDays == 0 {
		p.BackupRetentionDays = 7
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	c := &Cluster{ID: p.Name, Port: 5432, DatabaseName: p.DatabaseName, Instances: p.Instances}
	if p.Engine == MySQL {
		c.Port = 3306
	}
	c.Key = kms.New(s, "key", kms.Props{Alias: p.Name + "-db", Description: "Encrypts the " + p.Name + " database and its secret", AccountID: p.AccountID, Region: p.Region})
	c.SecurityGroup = securitygroup.New(s, "sg", securitygroup.Props{Name: p.Name + "-db", Description: "Database " + p.Name + ": open only to its services", VpcID: p.VpcID})
	subnets := dbsubnetgroup.NewDbSubnetGroup(s, tf.S("subnets"), &dbsubnetgroup.DbSubnetGroupConfig{
		Name: tf.S(p.Name), SubnetIds: p.SubnetIDs, Description: tf.S("Persistence tier of " + p.Name), Tags: tf.Name(p.Name),
	})
	params := parameterGroup(s, p)
	logs := logGroups(s, p)
	monitoring := monitoringRole(s, p)

	cluster := rdscluster.NewRdsCluster(s, tf.S("cluster"), &rdscluster.RdsClusterConfig{
		ClusterIdentifier:                tf.S(p.Name),
		Engine:                           tf.S(p.Engine),
		EngineVersion:                    tf.S(p.EngineVersion),
		DatabaseName:                     tf.S(p.DatabaseName),
		MasterUsername:                   tf.S("app_admin"),
		ManageMasterUserPassword:         tf.B(true),
		MasterUserSecretKmsKeyId:         c.Key.ARN,
		StorageEncrypted:                 tf.B(true),
		KmsKeyId:                         c.Key.ARN,
		DbSubnetGroupName:                subnets.Name(),
		VpcSecurityGroupIds:              tf.Ptrs(c.SecurityGroup.ID),
		DbClusterParameterGroupName:      params.Name(),
		BackupRetentionPeriod:            tf.N(p.BackupRetentionDays),
		PreferredBackupWindow:            tf.S("03:00-04:00"),
		PreferredMaintenanceWindow:       tf.S("sun:04:30-sun:05:30"),
		DeletionProtection:               tf.B(p.DeletionProtection),
		SkipFinalSnapshot:                tf.B(!p.DeletionProtection),
		FinalSnapshotIdentifier:          finalSnapshot(p),
		CopyTagsToSnapshot:               tf.B(true),
		IamDatabaseAuthenticationEnabled: tf.B(true),
		EnabledCloudwatchLogsExports:     tf.Strs(exports(p.Engine)...),
		Tags:                             tf.Name(p.Name),
		DependsOn:                        &logs,
	})
	for i := range p.Instances {
		rdsclusterinstance.NewRdsClusterInstance(s, tf.S(fmt.Sprintf("instance-%d", i+1)), &rdsclusterinstance.RdsClusterInstanceConfig{
			Identifier:                  tf.S(fmt.Sprintf("%s-%d", p.Name, i+1)),
			ClusterIdentifier:           cluster.Id(),
			Engine:                      tf.S(p.Engine),
			EngineVersion:               tf.S(p.EngineVersion),
			InstanceClass:               tf.S(p.InstanceClass),
			AvailabilityZone:            tf.S(p.AZs[i%len(p.AZs)]),
			DbSubnetGroupName:           subnets.Name(),
			PubliclyAccessible:          tf.B(false),
			AutoMinorVersionUpgrade:     tf.B(true),
			PerformanceInsightsEnabled:  tf.B(true),
			PerformanceInsightsKmsKeyId: c.Key.ARN,
			MonitoringInterval:          tf.N(60),
			MonitoringRoleArn:           monitoring.Arn(),
			PromotionTier:               tf.N(i),
			Tags:                        tf.Name(fmt.Sprintf("%s-%d", p.Name, i+1)),
		})
	}
	c.Endpoint, c.ReaderEndpoint = cluster.Endpoint(), cluster.ReaderEndpoint()
	c.SecretARN = cluster.MasterUserSecret().Get(tf.N(0)).SecretArn()
	return c
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
			AccountID: p.AccountID, Region: p.Region,
		})
		out = append(out, g.Resource)
	}
	return out
}

func monitoringRole(s constructs.Construct, p Props) iamrole.IamRole {
	monitoring := role.New(s, "monitoring-role", role.Props{
		Name: p.Name + "-rds-monitoring", Trust: iam.ServiceTrust("monitoring.rds.amazonaws.com", p.AccountID),
	}).Role
	iamrolepolicyattachment.NewIamRolePolicyAttachment(s, tf.S("monitoring-policy"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
		Role: monitoring.Name(), PolicyArn: tf.S("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
	})
	return monitoring
}

func finalSnapshot(p Props) *string {
	if !p.DeletionProtection {
		return nil
	}
	return tf.S(p.Name + "-final")
}

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
