// Package vpn makes the OpenVPN server, the landing zone's only public
// server: an Auto Scaling group of exactly one instance in a public subnet
// that takes over a stable Elastic IP at boot, pushes routes to every peered
// VPC, keeps its PKI in a KMS-encrypted, versioned bucket (so a replacement
// instance keeps every certificate; the CA key is kept only there, fetched
// into memory to sign), runs fail2ban and automatic security updates with
// reboots, and is administered through SSM Session Manager, never SSH.
//
// The user data (userdata.sh.tmpl) runs once, at the first boot; what must
// hold on every boot (forwarding and NAT, OpenVPN, fail2ban, the sync and
// CRL timers) are systemd units it installs. __tests__/vpnproof_test.go runs
// it with the real programs.
//
// Users come from the security account's VPN group: every five minutes the
// server issues a profile for each member (s3://<bucket>/profiles/<user>.ovpn,
// readable by that user only), and revokes those who left and ends their
// open sessions. The CRL is renewed daily (CRLDays). The bucket
// policy denies everyone else every read and write of the PKI and the
// profiles, and every upload that does not name the PKI key.
//
// It owns the instance's launch template, group, role, security group,
// Elastic IP, key and bucket. Entry point: New.
package vpn

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"net"
	"net/netip"
	"slices"
	"text/template"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/autoscalinggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eip"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iaminstanceprofile"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/launchtemplate"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/bucket"
	"github.com/acme/landing-zone/constructs/kms"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/role"
	"github.com/acme/landing-zone/constructs/securitygroup"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/tf"
)

// AMIParameter resolves the current Ubuntu 24.04 LTS AMI at launch.
const AMIParameter = "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"

// AllocationTag is the instance tag that carries the Elastic IP's
// allocation ID; the instance reads it from instance metadata.
const AllocationTag = "VpnEipAllocation"

// MetricNamespace holds the server's own metrics; CRLDaysLeftMetric is the
// days until the CRL that OpenVPN verifies clients against expires,
// reported by each renewal (dimension AutoScalingGroupName).
const (
	MetricNamespace   = "LandingZone/VPN"
	CRLDaysLeftMetric = "CRLDaysLeft"
)

// CRLDays is how long each CRL the server generates is valid; it renews
// the CRL daily (lz-vpn-crl.timer). OpenVPN rejects every client once the
// CRL it verifies against expires, so a long validity only buys time to
// notice failed renewals: the CRL alarm fires once renewals have failed
// for CRLAlarmAfterDays.
const (
	CRLDays           = 180
	CRLAlarmAfterDays = 7
)

// RootVolumeGiB sizes the server's encrypted root volume: the OS, OpenVPN
// and the logs, which the CloudWatch agent ships.
const RootVolumeGiB = 16

//go:embed userdata.sh.tmpl
var userDataTemplate string

var userData = template.Must(template.New("vpn").Parse(userDataTemplate))

// Props configures the server.
type Props struct {
	// Name of the server and prefix of its resources. Required.
	Name string
	// VPC places it, in the subnets of Tier; its range is always pushed to
	// clients. Required: VPC. Default tier: network.Public.
	VPC  *network.Vpc
	Tier network.Tier
	// Port is the UDP port. Required.
	Port int
	// AllowedCIDRs may reach the port. Default: none, so nobody can connect.
	AllowedCIDRs []string
	// ClientCIDR hands out client addresses. Required.
	ClientCIDR string
	// Routes are the ranges pushed to clients: the peered VPCs. The server's
	// own VPC is always pushed. Default: none.
	Routes []string
	// InstanceType of the server. Required.
	InstanceType string
	// VPNGroup is the IAM group in the security account whose members get
	// profiles; GroupReaderRole is the role there that may read it, and
	// SecurityAccountID the account whose users may download profiles.
	// Required.
	VPNGroup, GroupReaderRole, SecurityAccountID string
	// AgentParameter names the CloudWatch agent config fetched at boot, and
	// AgentStatements grant what the agent needs. Default: no agent.
	AgentParameter  string
	AgentStatements []iam.Statement
}

// Server is the created VPN server.
type Server struct {
	PublicIP      *string
	Bucket        *bucket.Bucket
	SecurityGroup *securitygroup.Group
	// ASGName names the single-instance group, for alarms.
	ASGName string
}

// New creates the server.
func New(scope constructs.Construct, id string, p Props) *Server {
	if p.Name == "" || p.VPC == nil || p.Port == 0 || p.VPNGroup == "" || p.GroupReaderRole == "" {
		panic("vpn.New: Name, VPC, Port, VPNGroup and GroupReaderRole are required (" + id + ")")
	}
	if p.Tier == "" {
		p.Tier = network.Public
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	env := tf.EnvOf(s)
	srv := &Server{ASGName: p.Name}
	name := BucketName(p.Name, env.Account)
	key := kms.New(s, "key", kms.Props{
		Alias: KeyAlias(p.Name), Description: "Encrypts the OpenVPN PKI and the users' profiles",
		Statements: []iam.Statement{profileDecrypt(name, env.Region, p.SecurityAccountID)},
	})
	srv.Bucket = bucket.New(s, "pki", bucket.Props{
		Name: name, Key: key,
		Statements: bucketStatements(env.Partition, name, *key.ARN, env.Role(p.Name), p.SecurityAccountID),
	})
	srv.SecurityGroup = securitygroup.New(s, "sg", securitygroup.Props{Name: p.Name, Description: "OpenVPN server: the VPN port only", VPC: p.VPC})
	// Rules are named by range; earlier versions numbered them (peer), so
	// that removing a range renamed and replaced the rules after it.
	srv.SecurityGroup.AllowFromCIDRs("", p.AllowedCIDRs, securitygroup.UDP(p.Port, "OpenVPN clients"), peer)
	srv.SecurityGroup.AllowToInternet(securitygroup.TCP(443, "Package mirrors and AWS APIs"),
		"the VPN server calls AWS APIs (EC2, S3, STS) and fetches the CloudWatch agent over HTTPS")
	srv.SecurityGroup.AllowToInternet(securitygroup.TCP(80, "Ubuntu package mirrors"),
		"Ubuntu's package mirrors serve over HTTP; packages are verified by their GPG-signed indexes")
	srv.SecurityGroup.AllowToCIDRs("vpc-", append([]string{p.VPC.CIDR}, p.Routes...), securitygroup.AllTraffic("VPN clients into the VPCs"),
		func(i int) string { return "vpc-" + peer(i) })
	ip := eip.NewEip(s, tf.S("eip"), &eip.EipConfig{Domain: tf.S("vpc"), Tags: tf.Name(p.Name)})
	srv.PublicIP = ip.PublicIp()
	profile := instanceProfile(s, p, key, srv.Bucket, ip.AllocationId())
	lt := launchtemplate.NewLaunchTemplate(s, tf.S("lt"), &launchtemplate.LaunchTemplateConfig{
		Name:               tf.S(p.Name),
		ImageId:            tf.S(AMIParameter),
		InstanceType:       tf.S(p.InstanceType),
		IamInstanceProfile: &launchtemplate.LaunchTemplateIamInstanceProfile{Arn: profile.Arn()},
		NetworkInterfaces: &[]*launchtemplate.LaunchTemplateNetworkInterfaces{{
			DeviceIndex: tf.N(0), AssociatePublicIpAddress: tf.S("true"), SecurityGroups: tf.Ptrs(srv.SecurityGroup.ID),
		}},
		// IMDSv2 only; instance tags in metadata carry the EIP allocation.
		MetadataOptions: &launchtemplate.LaunchTemplateMetadataOptions{
			HttpEndpoint: tf.S("enabled"), HttpTokens: tf.S("required"), HttpPutResponseHopLimit: tf.N(1), InstanceMetadataTags: tf.S("enabled"),
		},
		BlockDeviceMappings: &[]*launchtemplate.LaunchTemplateBlockDeviceMappings{{
			DeviceName: tf.S("/dev/sda1"),
			Ebs: &launchtemplate.LaunchTemplateBlockDeviceMappingsEbs{
				VolumeSize: tf.N(RootVolumeGiB), VolumeType: tf.S("gp3"), Encrypted: tf.S("true"), DeleteOnTermination: tf.S("true"),
			},
		}},
		// Detailed monitoring publishes status checks per Auto Scaling group.
		Monitoring:           &launchtemplate.LaunchTemplateMonitoring{Enabled: tf.B(true)},
		UserData:             tf.S(base64.StdEncoding.EncodeToString([]byte(RenderUserData(p, env.Region, srv.Bucket.Name)))),
		UpdateDefaultVersion: tf.B(true),
		TagSpecifications: &[]*launchtemplate.LaunchTemplateTagSpecifications{
			{ResourceType: tf.S("instance"), Tags: &map[string]*string{"Name": tf.S(p.Name), AllocationTag: ip.AllocationId()}},
			{ResourceType: tf.S("volume"), Tags: tf.Name(p.Name)},
		},
		Tags: tf.Name(p.Name),
	})
	autoscalinggroup.NewAutoscalingGroup(s, tf.S("asg"), &autoscalinggroup.AutoscalingGroupConfig{
		Name:              tf.S(p.Name),
		MinSize:           tf.N(1),
		MaxSize:           tf.N(1),
		DesiredCapacity:   tf.N(1),
		VpcZoneIdentifier: p.VPC.SubnetIDs(p.Tier),
		LaunchTemplate:    &autoscalinggroup.AutoscalingGroupLaunchTemplate{Id: lt.Id(), Version: cdktf.Token_AsString(lt.LatestVersion(), nil)},
		HealthCheckType:   tf.S("EC2"),
		// A new launch template version (new routes, new AMI) replaces the
		// instance; the PKI comes back from the bucket.
		InstanceRefresh: &autoscalinggroup.AutoscalingGroupInstanceRefresh{Strategy: tf.S("Rolling")},
	})
	return srv
}

// instanceProfile grants exactly what the server does: take over its own
// Elastic IP, keep its PKI and profiles in its bucket, read the VPN group
// through the security account's reader role, and be reached by SSM.
func instanceProfile(s constructs.Construct, p Props, key *kms.Key, b *bucket.Bucket, allocation *string) iaminstanceprofile.IamInstanceProfile {
	env := tf.EnvOf(s)
	statements := append([]iam.Statement{
		iam.Allow("TakeOverElasticIP", []string{"ec2:AssociateAddress"}, env.ARN("ec2", "elastic-ip/"+*allocation)),
		iam.Allow("OnlyOntoTheVPNServer", []string{"ec2:AssociateAddress"}, env.ARN("ec2", "instance/*")).
			When("StringEquals", "ec2:ResourceTag/Name", p.Name),
		iam.Allow("ListBucket", []string{"s3:ListBucket"}, b.ARN),
		iam.Allow("KeepPKI", []string{"s3:GetObject", "s3:PutObject"}, b.ARN+"/pki/*"),
		iam.Allow("PublishProfiles", []string{"s3:PutObject", "s3:DeleteObject"}, b.ARN+"/profiles/*"),
		// DescribeKey: the server names the key by its ARN in every upload.
		iam.Allow("UsePKIKey", []string{"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"}, *key.ARN),
		iam.Allow("ReadVPNGroup", []string{"sts:AssumeRole"}, p.GroupReaderRole),
		// The CRL renewal reports the days the CRL has left.
		iam.Allow("ReportCRL", []string{"cloudwatch:PutMetricData"}, "*").When("StringEquals", "cloudwatch:namespace", MetricNamespace),
	}, p.AgentStatements...)
	server := role.New(s, "role", role.Props{
		Name: p.Name, Trust: iam.Policy(iam.Statement{Effect: "Allow", Action: []string{"sts:AssumeRole"}}.For("Service", "ec2.amazonaws.com")),
		Statements: statements, PolicyName: "openvpn", PolicyID: "policy",
	}).Role
	name := server.Name()
	iamrolepolicyattachment.NewIamRolePolicyAttachment(s, tf.S("ssm"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
		Role: name, PolicyArn: tf.S(env.Partition.ManagedPolicy("AmazonSSMManagedInstanceCore")),
	})
	return iaminstanceprofile.NewIamInstanceProfile(s, tf.S("profile"), &iaminstanceprofile.IamInstanceProfileConfig{Name: tf.S(p.Name), Role: name})
}

// BucketName is the PKI and profile bucket of a server.
func BucketName(server, accountID string) string { return server + "-pki-" + accountID }

// KeyAlias is the PKI key's alias, without "alias/".
func KeyAlias(server string) string { return server + "-pki" }

// ProfileKey is a user's profile in the bucket.
func ProfileKey(user string) string { return "profiles/" + user + ".ovpn" }

// PKIKey is the PKI backup in the bucket: everything but the CA key,
// which is kept apart as CAKey (help/vpn.md, "The CA key").
const PKIKey = "pki/pki.tar.gz"

// CAKey is the CA's private key in the bucket, its only copy at rest.
const CAKey = "pki/ca.key"

// DownloadOwnProfile is the identity-side grant for VPN users in the
// security account: each may read only the profile named after them, and
// decrypt it with the PKI key through S3, with MFA.
func DownloadOwnProfile(bucketName, region, sharedAccountID string) []iam.Statement {
	shared := awsenv.New(sharedAccountID, region)
	return []iam.Statement{
		iam.Allow("DownloadOwnVPNProfile", []string{"s3:GetObject"}, shared.Partition.S3(bucketName+"/"+ProfileKey("$${aws:username}"))).WithMFA(),
		decryptThroughS3(iam.Allow("DecryptOwnVPNProfile", []string{"kms:Decrypt"}, shared.ARN("kms", "key/*")), bucketName, region).WithMFA(),
	}
}

// decryptThroughS3 limits a KMS grant to S3 decrypting objects of one
// bucket (with S3 Bucket Keys, the encryption context is the bucket's ARN).
func decryptThroughS3(st iam.Statement, bucketName, region string) iam.Statement {
	return st.When("StringEquals", "kms:ViaService", "s3."+region+".amazonaws.com").
		When("StringEquals", "kms:EncryptionContext:aws:s3:arn", awsenv.PartitionOf(region).S3(bucketName))
}

// profileDecrypt is the key policy's side of DownloadOwnProfile: the
// security account's principals may decrypt through S3 for this bucket
// only (its IAM policies then decide who; the bucket policy, which
// profiles).
func profileDecrypt(bucketName, region, securityAccount string) iam.Statement {
	return decryptThroughS3(iam.Allow("SecurityUsersDecryptProfiles", []string{"kms:Decrypt"}, "*").
		For("AWS", iam.AccountRoot(awsenv.PartitionOf(region), securityAccount)), bucketName, region)
}

// Object reads and writes that the bucket policy denies.
var (
	objectReads  = []string{"s3:GetObject", "s3:GetObjectAttributes", "s3:GetObjectVersion", "s3:GetObjectVersionAttributes"}
	objectWrites = []string{"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject", "s3:RestoreObject"}
)

// bucketStatements let each IAM user of the security account read only
// their own profile, with MFA, and deny everyone (administrators of this
// account included) every other read and write of the PKI and profiles,
// but the server's; every write must name the PKI key, so that nothing in
// the bucket is encrypted with SSE-S3 or the account's aws/s3 key, which
// anyone allowed to read an object could use. "$${" keeps Terraform from
// reading the IAM policy variable as an interpolation.
func bucketStatements(partition awsenv.Partition, bucketName, keyARN, serverRole, securityAccount string) []iam.Statement {
	arn := partition.S3(bucketName)
	users := partition.IAM(securityAccount, "user/*")
	own := arn + "/" + ProfileKey("$${aws:username}")
	return []iam.Statement{
		iam.Allow("UsersReadOwnProfile", []string{"s3:GetObject"}, own).For("AWS", iam.AccountRoot(partition, securityAccount)).WithMFA(),
		iam.Deny("DenyPKIButServer", append(slices.Clone(objectReads), objectWrites...), arn+"/pki/*").For("AWS", "*").
			When("ArnNotEquals", "aws:PrincipalArn", serverRole),
		iam.Deny("DenyProfileWritesButServer", objectWrites, arn+"/profiles/*").For("AWS", "*").
			When("ArnNotEquals", "aws:PrincipalArn", serverRole),
		iam.Deny("DenyProfilesButSecurityUsers", objectReads, arn+"/profiles/*").For("AWS", "*").
			When("ArnNotLike", "aws:PrincipalArn", users),
		iam.DenyExcept("DenyUsersButOwnProfile", objectReads, own).For("AWS", "*").
			When("ArnLike", "aws:PrincipalArn", users),
		iam.Deny("DenyWritesWithoutPKIKey", []string{"s3:PutObject"}, arn+"/*").For("AWS", "*").
			When("StringNotEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id", keyARN),
	}
}

// peer is the name earlier versions gave the i-th range's rule.
func peer(i int) string { return string(rune('a' + i)) }

// Route is a pushed route in OpenVPN's network/mask form.
type Route struct{ Network, Mask string }

// RenderUserData renders the boot script of the server p in region, whose
// PKI and profiles are in bucketName. It reads only the VPC's range. It is
// plain Go, so it is deterministic and tested.
func RenderUserData(p Props, region, bucketName string) string {
	client := netip.MustParsePrefix(p.ClientCIDR)
	routes := []Route{route(p.VPC.CIDR)}
	for _, r := range p.Routes {
		routes = append(routes, route(r))
	}
	vpc := netip.MustParsePrefix(p.VPC.CIDR)
	dns := vpc.Addr().Next().Next() // the VPC resolver is the range's base + 2
	var b bytes.Buffer
	err := userData.Execute(&b, map[string]any{
		"Name": p.Name, "Region": region, "Bucket": bucketName, "Port": p.Port,
		"ClientCIDR": p.ClientCIDR, "ClientNetwork": client.Addr().String(), "ClientMask": mask(client),
		"Routes": routes, "DNS": dns.String(), "AllocationTag": AllocationTag,
		"VPNGroup": p.VPNGroup, "GroupReaderRole": p.GroupReaderRole, "AgentParameter": p.AgentParameter,
		"PKIKeyAlias": "alias/" + KeyAlias(p.Name),
		"CRLDays":     CRLDays, "MetricNamespace": MetricNamespace, "CRLMetric": CRLDaysLeftMetric,
	})
	if err != nil {
		panic("vpn: user data template: " + err.Error())
	}
	return b.String()
}

func route(c string) Route {
	p := netip.MustParsePrefix(c)
	return Route{p.Addr().String(), mask(p)}
}

func mask(p netip.Prefix) string {
	return net.IP(net.CIDRMask(p.Bits(), 32)).String()
}

// GroupReaderProps configures the role in the security account that lets
// the VPN server read the VPN group's members.
type GroupReaderProps struct {
	// Name of the role (GroupReaderRole's last part). Required.
	Name string
	// ServerRoleARN is the VPN server's instance role. Required.
	ServerRoleARN string
	// GroupARN is the VPN users group. Required.
	GroupARN string
}

// NewGroupReader makes, in the security account, the role the VPN server
// assumes to list the VPN group: iam:GetGroup on that group only.
func NewGroupReader(scope constructs.Construct, id string, p GroupReaderProps) {
	role.New(scope, id, role.Props{
		Name:              p.Name,
		Trust:             iam.Policy(iam.Statement{Effect: "Allow", Action: []string{"sts:AssumeRole"}}.For("AWS", p.ServerRoleARN)),
		MaxSessionSeconds: 3600,
		Statements:        []iam.Statement{iam.Allow("ReadVPNGroup", []string{"iam:GetGroup"}, p.GroupARN)},
		PolicyName:        "read-vpn-group",
	})
}
