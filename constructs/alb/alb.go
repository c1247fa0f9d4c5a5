// Package alb makes application load balancers: an internet-facing one in
// the public subnets or an internal one for east-west traffic, each with an
// HTTPS listener on a current TLS policy, access logs and its own security
// group. The public one also redirects HTTP to HTTPS.
//
// It owns the load balancer, its listeners and its security group, and can
// make the access-log bucket (NewLogBucket). It does not own target groups or
// listener rules: services add those (see constructs/ecsservice) and open the
// load balancer's egress to themselves with AllowTo. Entry point: New.
package alb

import (
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lb"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lblistener"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/bucket"
	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/securitygroup"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/guardrails"
	"github.com/acme/landing-zone/internal/iam"
	"github.com/acme/landing-zone/internal/naming"
	"github.com/acme/landing-zone/internal/tf"
)

// TLSPolicy allows TLS 1.3 and 1.2 with forward-secret ciphers only.
const TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// The listener ports: HTTPS, and HTTP on the internet-facing load balancer
// only, where it redirects to HTTPS.
const (
	HTTPSPort = 443
	HTTPPort  = 80
)

// DefaultLogExpireDays keeps access logs for 90 days.
const DefaultLogExpireDays = 90

// Props configures a load balancer.
type Props struct {
	// Name of the load balancer; fitted to AWS's 32-character limit. Required.
	Name string
	// Internal makes an east-west load balancer in private subnets. Default:
	// false, internet-facing.
	Internal bool
	// VPC places it, in the subnets of Tier. Required: VPC. Default tier:
	// network.Public, or network.PrivateApp when Internal.
	VPC  *network.Vpc
	Tier network.Tier
	// AllowedCIDRs may reach an internal load balancer on 443. Default: none
	// (pass at least the VPC range). Ignored when internet-facing, which is
	// open to the internet on 80 and 443 only.
	AllowedCIDRs []string
	// CertificateARN serves HTTPS. Required.
	CertificateARN *string
	// LogBucket receives access logs under LogPrefix. Required: make the
	// bucket with NewLogBucket. Default prefix: none, the bucket's root.
	LogBucket *bucket.Bucket
	LogPrefix string
	// DeletionProtection stops the load balancer being destroyed by a plan.
	// Default: false; turn it on in prod.
	DeletionProtection bool
}

// ALB is the created load balancer.
type ALB struct {
	ARN, DNSName, ZoneID *string
	// ArnSuffix is the LoadBalancer dimension of its CloudWatch metrics.
	ArnSuffix *string
	// HTTPSListenerARN takes the services' listener rules.
	HTTPSListenerARN *string
	SecurityGroup    *securitygroup.Group
	Internal         bool
}

// New creates the load balancer, its security group and listeners.
func New(scope constructs.Construct, id string, p Props) *ALB {
	if p.Name == "" || p.VPC == nil || p.CertificateARN == nil || p.LogBucket == nil {
		panic("alb.New: Name, VPC, CertificateARN and LogBucket are required (" + id + ")")
	}
	if p.Tier == "" {
		p.Tier = network.Public
		if p.Internal {
			p.Tier = network.PrivateApp
		}
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	sg := securitygroup.New(s, "sg", securitygroup.Props{Name: SecurityGroupName(p.Name), Description: "Load balancer " + p.Name, VPC: p.VPC})
	if p.Internal {
		for i, c := range p.AllowedCIDRs {
			sg.AllowFromCIDR(peerName(i), c, securitygroup.TCP(HTTPSPort, "HTTPS from inside the network"))
		}
	} else {
		sg.AllowFromCIDR("internet", securitygroup.Anywhere, securitygroup.TCP(HTTPSPort, "HTTPS from the internet"))
		sg.AllowFromCIDR("internet", securitygroup.Anywhere, securitygroup.TCP(HTTPPort, "HTTP from the internet, redirected to HTTPS"))
	}
	lbr := lb.NewLb(s, tf.S("lb"), &lb.LbConfig{
		Name:                     tf.S(naming.Fit(p.Name, 32)),
		Internal:                 tf.B(p.Internal),
		LoadBalancerType:         tf.S("application"),
		SecurityGroups:           tf.Ptrs(sg.ID),
		Subnets:                  p.VPC.SubnetIDs(p.Tier),
		DropInvalidHeaderFields:  tf.B(true),
		EnableDeletionProtection: tf.B(p.DeletionProtection),
		AccessLogs:               &lb.LbAccessLogs{Bucket: tf.S(p.LogBucket.Name), Prefix: tf.S(p.LogPrefix), Enabled: tf.B(true)},
		Tags:                     tf.Name(p.Name),
		// The bucket policy must let the ELB service write before the load
		// balancer checks it.
		DependsOn: &[]cdktf.ITerraformDependable{p.LogBucket.Policy},
	})
	if !p.Internal {
		guardrails.WaiveScan(lbr, "AWS-0053", "the public ALB is the internet entry point by design; it serves HTTPS only (HTTP redirects) and forwards to private tasks")
	}
	a := &ALB{ARN: lbr.Arn(), DNSName: lbr.DnsName(), ZoneID: lbr.ZoneId(), ArnSuffix: lbr.ArnSuffix(), SecurityGroup: sg, Internal: p.Internal}
	https := lblistener.NewLbListener(s, tf.S("https"), &lblistener.LbListenerConfig{
		LoadBalancerArn: a.ARN,
		Port:            tf.N(HTTPSPort),
		Protocol:        tf.S("HTTPS"),
		SslPolicy:       tf.S(TLSPolicy),
		CertificateArn:  p.CertificateARN,
		DefaultAction: &[]*lblistener.LbListenerDefaultAction{{
			Type: tf.S("fixed-response"),
			FixedResponse: &lblistener.LbListenerDefaultActionFixedResponse{
				ContentType: tf.S("text/plain"), MessageBody: tf.S("Not found"), StatusCode: tf.S("404"),
			},
		}},
	})
	a.HTTPSListenerARN = https.Arn()
	if !p.Internal {
		lblistener.NewLbListener(s, tf.S("http"), &lblistener.LbListenerConfig{
			LoadBalancerArn: a.ARN,
			Port:            tf.N(HTTPPort),
			Protocol:        tf.S("HTTP"),
			DefaultAction: &[]*lblistener.LbListenerDefaultAction{{
				Type: tf.S("redirect"),
				Redirect: &lblistener.LbListenerDefaultActionRedirect{
					Protocol: tf.S("HTTPS"), Port: tf.S(strconv.Itoa(HTTPSPort)), StatusCode: tf.S("HTTP_301"),
				},
			}},
		})
	}
	return a
}

// SecurityGroupName is the name of the security group of the load balancer
// name. The guardrails know the public load balancers' groups by it.
func SecurityGroupName(name string) string { return name + "-alb" }

// AllowTo lets the load balancer reach a target group's members on port.
func (a *ALB) AllowTo(peerName string, peer *string, port int) {
	a.SecurityGroup.AllowToGroup(peerName, peer, securitygroup.TCP(port, "Forward to "+peerName))
}

func peerName(i int) string {
	if i == 0 {
		return "vpc"
	}
	return "trusted-" + string(rune('a'+i-1))
}

// LogBucketProps configures an access-log bucket.
type LogBucketProps struct {
	// Name of the bucket. Required. The load balancers that write to it are
	// those of the enclosing stack's account and region (tf.EnvOf).
	Name string
	// ExpireDays deletes logs after this long. Default: 90.
	ExpireDays int
}

// NewLogBucket makes a bucket that load balancers in the account can write
// access logs to. ALB access logs support only SSE-S3 encryption.
func NewLogBucket(scope constructs.Construct, id string, p LogBucketProps) *bucket.Bucket {
	expire := p.ExpireDays
	if expire == 0 {
		expire = DefaultLogExpireDays
	}
	env := tf.EnvOf(scope)
	return bucket.New(scope, id, bucket.Props{
		Name:        p.Name,
		SSES3Reason: "ALB access logs can only be delivered to SSE-S3 buckets",
		ExpireDays:  expire,
		Statements:  []iam.Statement{elbWrite(env.Partition.S3(p.Name+"/*/AWSLogs/"+env.Account+"/*"), env)},
	})
}

// elbWrite lets the regional Elastic Load Balancing service write logs.
// Regions older than August 2022 write as a regional AWS account; newer ones
// as the log delivery service principal.
func elbWrite(objects string, env awsenv.Env) iam.Statement {
	st := iam.Allow("ELBAccessLogs", []string{"s3:PutObject"}, objects)
	if acct, ok := elbAccounts[env.Region]; ok {
		return st.For("AWS", iam.AccountRoot(env.Partition, acct))
	}
	return st.For("Service", "logdelivery.elasticloadbalancing.amazonaws.com")
}

// elbAccounts are the Elastic Load Balancing accounts of the regions that
// predate the log delivery service principal.
var elbAccounts = map[string]string{
	"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980", "us-west-2": "797873946194",
	"af-south-1": "098369216593", "ap-east-1": "754344448648", "ap-southeast-3": "589379963580", "ap-south-1": "718504428378",
	"ap-northeast-3": "383597477331", "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
	"ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928", "eu-west-1": "156460612806",
	"eu-west-2": "652711504416", "eu-south-1": "635631232127", "eu-west-3": "009996457667", "eu-north-1": "897822967062",
	"me-south-1": "076674570225", "sa-east-1": "507241528517", "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
}
