// Package redis makes an ElastiCache Redis replication group in the
// persistence tier, encrypted at rest (customer-managed key) and in transit,
// with authentication by ElastiCache RBAC and IAM: no password exists
// anywhere, in config, outputs or state. Services authenticate as the
// group's IAM-enabled user with an IAM token, and need elasticache:Connect
// (see ConnectStatement).
//
// It owns the replication group, subnet group, security group, key, users
// and user group. Callers open it with AllowFrom. Entry point: New.
package redis

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/elasticachereplicationgroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/elasticachesubnetgroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/elasticacheuser"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/elasticacheusergroup"

	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/securitygroup"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/naming"
	"github.com/acme/landing-zone/internal/tf"
)

// Port is the Redis port.
const Port = 6379

// Defaults, and the fixed daily snapshot window (UTC), an hour before the
// default maintenance window.
const (
	DefaultEngineVersion     = "7.1"
	DefaultMaintenanceWindow = "sun:05:00-sun:06:00"
	SnapshotWindow           = "03:00-04:00"
)

// maxID is ElastiCache's limit on replication group and user IDs.
const maxID = 40

// Props configures a replication group.
type Props struct {
	// Name identifies the group (fitted to 40 characters). Required.
	Name string
	// NodeType sizes the nodes. Required.
	NodeType string
	// Replicas beside the primary; with one or more it is Multi-AZ with
	// automatic failover. Default: 0, a single node.
	Replicas int
	// EngineVersion of Redis. Default: DefaultEngineVersion (7.1).
	EngineVersion string
	// SnapshotRetentionDays keeps daily snapshots. Default: 0, none.
	SnapshotRetentionDays int
	// SkipFinalSnapshot deletes the group without a final snapshot.
	// Default: false, a final snapshot FinalSnapshotID(Name) is taken on
	// delete.
	SkipFinalSnapshot bool
	// MaintenanceWindow in UTC. Default: DefaultMaintenanceWindow
	// (sun:05:00-sun:06:00).
	MaintenanceWindow string
	// VPC places it, in the subnets of Tier. Required: VPC. Default tier:
	// network.PrivatePersistence.
	VPC  *network.Vpc
	Tier network.Tier
}

// Redis is the created cache.
type Redis struct {
	// ID is the replication group ID; ARN is known at synth time.
	ID, ARN         string
	PrimaryEndpoint *string
	// User is the IAM-authenticated user services connect as; UserARN is
	// what elasticache:Connect is granted on.
	User, UserARN string
	SecurityGroup *securitygroup.Group
	// Replicas beside the primary.
	Replicas int
}

// New creates the replication group and its RBAC users.
func New(scope constructs.Construct, id string, p Props) *Redis {
	if p.Name == "" || p.NodeType == "" || p.VPC == nil {
		panic("redis.New: Name, NodeType and VPC are required (" + id + ")")
	}
	if p.EngineVersion == "" {
		p.EngineVersion = DefaultEngineVersion
	}
	if p.MaintenanceWindow == "" {
		p.MaintenanceWindow = DefaultMaintenanceWindow
	}
	if p.Tier == "" {
		p.Tier = network.PrivatePersistence
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	env := tf.EnvOf(s)
	groupID := naming.Fit(p.Name, maxID)
	r := &Redis{
		ID:       groupID,
		ARN:      env.ARN("elasticache", "replicationgroup:"+groupID),
		User:     naming.Fit(p.Name+"-app", maxID),
		Replicas: p.Replicas,
	}
	r.UserARN = env.ARN("elasticache", "user:"+r.User)
	key := kms.New(s, "key", kms.Props{Alias: p.Name + "-redis", Description: "Encrypts the " + p.Name + " Redis data"})
	r.SecurityGroup = securitygroup.New(s, "sg", securitygroup.Props{Name: p.Name + "-redis", Description: "Redis " + p.Name + ": open only to its services", VPC: p.VPC})
	subnets := elasticachesubnetgroup.NewElasticacheSubnetGroup(s, tf.S("subnets"), &elasticachesubnetgroup.ElasticacheSubnetGroupConfig{
		Name: tf.S(groupID), SubnetIds: p.VPC.SubnetIDs(p.Tier), Description: tf.S("Persistence tier of " + p.Name), Tags: tf.Name(groupID),
	})
	users := r.users(s, p)
	ha := p.Replicas > 0
	group := elasticachereplicationgroup.NewElasticacheReplicationGroup(s, tf.S("group"), &elasticachereplicationgroup.ElasticacheReplicationGroupConfig{
		ReplicationGroupId:       tf.S(groupID),
		Description:              tf.S("Redis for " + p.Name),
		Engine:                   tf.S("redis"),
		EngineVersion:            tf.S(p.EngineVersion),
		NodeType:                 tf.S(p.NodeType),
		NumCacheClusters:         tf.N(1 + p.Replicas),
		Port:                     tf.N(Port),
		SubnetGroupName:          subnets.Name(),
		SecurityGroupIds:         tf.Ptrs(r.SecurityGroup.ID),
		AtRestEncryptionEnabled:  tf.S("true"),
		KmsKeyId:                 key.ARN,
		TransitEncryptionEnabled: tf.B(true),
		UserGroupIds:             tf.Ptrs(users.Id()),
		AutomaticFailoverEnabled: tf.B(ha),
		MultiAzEnabled:           tf.B(ha),
		SnapshotRetentionLimit:   tf.N(p.SnapshotRetentionDays),
		SnapshotWindow:           tf.S(SnapshotWindow),
		MaintenanceWindow:        tf.S(p.MaintenanceWindow),
		AutoMinorVersionUpgrade:  tf.S("true"),
		FinalSnapshotIdentifier:  finalSnapshot(p, groupID),
		Tags:                     tf.Name(groupID),
	})
	r.PrimaryEndpoint = group.PrimaryEndpointAddress()
	return r
}

// FinalSnapshotID names the snapshot taken when the group with this ID is
// deleted.
func FinalSnapshotID(groupID string) string { return groupID + "-final" }

func finalSnapshot(p Props, groupID string) *string {
	if p.SkipFinalSnapshot {
		return nil
	}
	return tf.S(FinalSnapshotID(groupID))
}

// users makes the RBAC user group. ElastiCache requires a user named
// "default" in every group; ours is switched off, so the only way in is the
// IAM-authenticated application user.
func (r *Redis) users(s constructs.Construct, p Props) elasticacheusergroup.ElasticacheUserGroup {
	off := elasticacheuser.NewElasticacheUser(s, tf.S("default-user"), &elasticacheuser.ElasticacheUserConfig{
		UserId:             tf.S(naming.Fit(p.Name+"-default", maxID)),
		UserName:           tf.S("default"),
		Engine:             tf.S("REDIS"),
		AccessString:       tf.S("off -@all"),
		AuthenticationMode: &elasticacheuser.ElasticacheUserAuthenticationMode{Type: tf.S("no-password-required")},
	})
	// IAM authentication requires the user ID and name to be equal.
	app := elasticacheuser.NewElasticacheUser(s, tf.S("app-user"), &elasticacheuser.ElasticacheUserConfig{
		UserId:             tf.S(r.User),
		UserName:           tf.S(r.User),
		Engine:             tf.S("REDIS"),
		AccessString:       tf.S("on ~* +@all -@dangerous"),
		AuthenticationMode: &elasticacheuser.ElasticacheUserAuthenticationMode{Type: tf.S("iam")},
	})
	return elasticacheusergroup.NewElasticacheUserGroup(s, tf.S("user-group"), &elasticacheusergroup.ElasticacheUserGroupConfig{
		UserGroupId: tf.S(naming.Fit(p.Name+"-users", maxID)),
		Engine:      tf.S("REDIS"),
		UserIds:     tf.Ptrs(off.UserId(), app.UserId()),
	})
}

// AllowFrom lets members of a client group connect to the Redis port:
// ingress here, and the client's egress to this group.
func (r *Redis) AllowFrom(peerName string, client *securitygroup.Group) {
	securitygroup.Connect(client, peerName, r.SecurityGroup, r.SecurityGroup.Name, securitygroup.TCP(Port, "Redis clients: "+peerName))
}

// AllowFromCIDR opens the Redis port to an address range (operators on
// the VPN, whose traffic leaves the VPN server's subnets).
func (r *Redis) AllowFromCIDR(peerName, cidr string) {
	r.SecurityGroup.AllowFromCIDR(peerName, cidr, securitygroup.TCP(Port, "Redis clients: "+peerName))
}

// ConnectStatement grants IAM authentication as the application user, on
// this replication group only.
func (r *Redis) ConnectStatement() iam.Statement {
	return iam.Allow("RedisConnect", []string{"elasticache:Connect"}, r.ARN, r.UserARN)
}
