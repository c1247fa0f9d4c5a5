// Package dns makes an environment's DNS and TLS: a public hosted zone for
// the environment's subdomain, a private zone attached to its VPC, and an
// ACM certificate for both, validated through DNS records in the public zone.
//
// It owns the zones, the certificate and its validation. It does not own the
// delegation from the parent zone (that lives with whoever runs the apex
// domain; see help/dns.md): it outputs the name servers to delegate to.
// Alias records are added through Alias. Entry point: New.
package dns

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmcertificatevalidation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53vpcassociationauthorization"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53zone"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53zoneassociation"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/acme/landing-zone/constructs/network"
	"github.com/acme/landing-zone/constructs/peering"
	"github.com/acme/landing-zone/internal/tf"
)

// Props configures an environment's DNS.
type Props struct {
	// Zone is the environment's public domain, e.g. dev.example.com.
	// Required.
	Zone string
	// VPC gets the private zone "internal.<Zone>". Required.
	VPC *network.Vpc
}

// ValidationTTL is the TTL in seconds of the certificate's validation
// records.
const ValidationTTL = 300

// DNS is the created zones and certificate.
type DNS struct {
	Zone, PrivateZone string
	PublicZoneID      *string
	PrivateZoneID     *string
	NameServers       *[]*string
	// CertificateARN is only known once the certificate is validated, so
	// listeners that use it wait for validation.
	CertificateARN *string
	scope          constructs.Construct
}

// Target is what an alias record points at: a load balancer's DNS name and
// hosted zone.
type Target struct {
	DNSName, ZoneID *string
}

// New creates the zones and the validated certificate.
func New(scope constructs.Construct, id string, p Props) *DNS {
	if p.Zone == "" || p.VPC == nil {
		panic("dns.New: Zone and VPC are required (" + id + ")")
	}
	s := constructs.NewConstruct(scope, tf.S(id))
	d := &DNS{Zone: p.Zone, PrivateZone: "internal." + p.Zone, scope: s}
	public := route53zone.NewRoute53Zone(s, tf.S("public"), &route53zone.Route53ZoneConfig{
		Name:    tf.S(p.Zone),
		Comment: tf.S("Public zone of " + p.Zone + "; delegate to it from the parent zone"),
		Tags:    tf.Name(p.Zone),
	})
	private := route53zone.NewRoute53Zone(s, tf.S("private"), &route53zone.Route53ZoneConfig{
		Name:    tf.S(d.PrivateZone),
		Comment: tf.S("Private zone for east-west names in " + p.Zone),
		Vpc:     &[]*route53zone.Route53ZoneVpc{{VpcId: p.VPC.ID, VpcRegion: tf.S(tf.EnvOf(s).Region)}},
		Tags:    tf.Name(d.PrivateZone),
	})
	d.PublicZoneID, d.PrivateZoneID, d.NameServers = public.ZoneId(), private.ZoneId(), public.NameServers()
	d.certificate(s)
	return d
}

// certificate requests one certificate for the zone, its wildcard and the
// private zone's wildcard, so both load balancers can use it. The apex and
// "*.<zone>" share one validation record; "*.internal.<zone>" needs its own.
func (d *DNS) certificate(s constructs.Construct) {
	wildcard, internal := "*."+d.Zone, "*."+d.PrivateZone
	cert := acmcertificate.NewAcmCertificate(s, tf.S("cert"), &acmcertificate.AcmCertificateConfig{
		DomainName:              tf.S(d.Zone),
		SubjectAlternativeNames: tf.Strs(wildcard, internal),
		ValidationMethod:        tf.S("DNS"),
		Lifecycle:               &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: tf.B(true)},
		Tags:                    tf.Name(d.Zone),
	})
	// Validation record names are only known after the request, and
	// domain_validation_options is a set: pick each entry by domain name,
	// which is known now, rather than by position or for_each.
	options := "aws_acm_certificate." + *cdktf.TerraformStack_Of(s).GetLogicalId(cert) + ".domain_validation_options"
	pick := func(domain, attr string) *string {
		return tf.S(fmt.Sprintf("${one([for o in %s : o.%s if o.domain_name == %q])}", options, attr, domain))
	}
	var fqdns []*string
	for i, domain := range []string{d.Zone, internal} {
		rec := route53record.NewRoute53Record(s, tf.S(fmt.Sprintf("cert-validation-%d", i)), &route53record.Route53RecordConfig{
			ZoneId:         d.PublicZoneID,
			Name:           pick(domain, "resource_record_name"),
			Type:           pick(domain, "resource_record_type"),
			Records:        tf.Ptrs(pick(domain, "resource_record_value")),
			Ttl:            tf.N(ValidationTTL),
			AllowOverwrite: tf.B(true),
		})
		fqdns = append(fqdns, rec.Fqdn())
	}
	v := acmcertificatevalidation.NewAcmCertificateValidation(s, tf.S("cert-validation"), &acmcertificatevalidation.AcmCertificateValidationConfig{
		CertificateArn:        cert.Arn(),
		ValidationRecordFqdns: tf.Ptrs(fqdns...),
	})
	d.CertificateARN = v.CertificateArn()
}

// Alias points <host>.<zone> (public) or <host>.internal.<zone> (private) at
// a load balancer, and returns the name.
func (d *DNS) Alias(id, host string, private bool, to Target) string {
	zoneID, name := d.PublicZoneID, host+"."+d.Zone
	if private {
		zoneID, name = d.PrivateZoneID, host+"."+d.PrivateZone
	}
	route53record.NewRoute53Record(d.scope, tf.S(id), &route53record.Route53RecordConfig{
		ZoneId: zoneID,
		Name:   tf.S(name),
		Type:   tf.S("A"),
		Alias:  &route53record.Route53RecordAlias{Name: to.DNSName, ZoneId: to.ZoneID, EvaluateTargetHealth: tf.B(true)},
	})
	return name
}

// ShareWith attaches the private zone to the VPC at the other end of a
// peering (the management VPC, in another account, in this stack's
// region), so that VPN users resolve internal names: the zone's account
// authorizes, and the other account, through the peering's provider,
// associates.
func (d *DNS) ShareWith(id string, peer *peering.Peering) {
	region := tf.S(tf.EnvOf(d.scope).Region)
	auth := route53vpcassociationauthorization.NewRoute53VpcAssociationAuthorization(d.scope, tf.S(id+"-authorization"), &route53vpcassociationauthorization.Route53VpcAssociationAuthorizationConfig{
		ZoneId: d.PrivateZoneID, VpcId: peer.PeerVPCID, VpcRegion: region,
	})
	route53zoneassociation.NewRoute53ZoneAssociation(d.scope, tf.S(id+"-association"), &route53zoneassociation.Route53ZoneAssociationConfig{
		Provider: peer.Peer,
		ZoneId:   auth.ZoneId(), VpcId: auth.VpcId(), VpcRegion: region,
	})
}
