package access

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"

	"github.com/acme/landing-zone/constructs/audit"
	"github.com/acme/landing-zone/constructs/centrallogs"
	"github.com/acme/landing-zone/constructs/crossaccount"
	"github.com/acme/landing-zone/constructs/logarchive"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
)

// vpnPKIBackup is the PKI's backup in the VPN bucket (vpn.PKIKey).
const vpnPKIBackup = "pki/pki.tar.gz"

// vpnServer is the VPN server's name (vpnNames in stacks).
func (p *prover) vpnServer() string { return p.cfg.NamePrefix + "-openvpn" }

// vpnBucket is the VPN server's PKI and profile bucket, or "".
func (p *prover) vpnBucket() string {
	name := p.vpnServer() + "-pki-" + p.account(p.shared).ID
	if p.u.Buckets[name] == nil {
		return ""
	}
	return name
}

// vpnScript is the VPN server's rendered user data.
func (p *prover) vpnScript() string {
	st := p.u.stacks.Stack(p.shared)
	for _, name := range slices.Sorted(maps.Keys(st.Resources["aws_launch_template"])) {
		lt := st.Resources["aws_launch_template"][name]
		if str(lt["name"]) == p.vpnServer() {
			b, _ := base64.StdEncoding.DecodeString(str(lt["user_data"]))
			return string(b)
		}
	}
	return ""
}

// awsS3Key is the account's AWS managed key aws/s3, which S3 uses for
// "--sse aws:kms" without a key ID; its policy (as AWS makes it) lets
// every principal of the account use it through S3.
func (p *prover) awsS3Key(accountID string) string {
	arn := KeyARN(p.cfg.Region, accountID, "aws-managed-aws-s3")
	if p.u.Keys[arn] == nil {
		id := "key policy of aws/s3 (" + p.accountName(accountID) + ", as AWS makes it)"
		p.u.Policies[id] = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Sid": "AllowThroughS3ForTheAccount", "Effect": "Allow", "Principal": map[string]any{"AWS": "*"},
			"Action":    []any{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"},
			"Resource":  "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"kms:CallerAccount": accountID, "kms:ViaService": "s3." + p.cfg.Region + ".amazonaws.com"}},
		}}}
		p.u.Keys[arn] = &Key{ARN: arn, AccountID: accountID, Where: "AWS managed", Aliases: []string{"alias/aws/s3"}, Policy: id}
		p.u.ResourcePolicy[arn] = id
	}
	return arn
}

// encryptingKey is the key an upload encrypts with: the bucket's default
// without --sse, none for AES256, aws/s3 for aws:kms without a key ID.
func (p *prover) encryptingKey(c s3Command, b *Bucket) string {
	switch {
	case c.SSE == "AES256":
		return ""
	case c.SSE == "aws:kms" && c.KMSKey == "":
		return p.awsS3Key(b.AccountID)
	case c.SSE == "aws:kms":
		return c.KMSKey
	}
	return b.Key
}

// vpnQuestions: the VPN server keeps its PKI and publishes profiles as its
// user data does; each VPN user downloads their own profile with MFA and
// nothing else; nobody else (CI, read-only and admin roles of the account,
// other users, outsiders) reads the PKI or a profile.
func (p *prover) vpnQuestions() {
	bucket := p.vpnBucket()
	stacks := []string{p.shared, p.security}
	q := func(name string, want bool, steps ...*Step) *Question {
		return p.add(&Question{Group: "VPN", Stacks: stacks, Name: name, Want: want, Steps: steps})
	}
	if bucket == "" {
		q("the VPN server keeps its PKI in its bucket", true).Problem = "no bucket " + p.vpnServer() + "-pki-<id> in " + p.shared
		return
	}
	b := p.u.Buckets[bucket]
	sh := p.account(p.shared)
	server := p.session(ci.RoleARN(awsenv.Commercial, sh.ID, p.vpnServer()), false)
	server.Label = "VPN server"
	script := p.vpnScript()
	keyARN := func(alias string) string {
		if k := p.u.KeyByAlias(sh.ID, alias); k != nil {
			return k.ARN
		}
		return "UNRESOLVED(" + alias + ")"
	}
	cmds := s3Commands(script, bucket, keyARN)
	user := "alice"
	if users := p.vpnUsers(); len(users) > 0 {
		user = users[0]
	}
	object := func(key string) string {
		return "arn:aws:s3:::" + bucket + "/" + strings.ReplaceAll(key, "$user", user)
	}
	// The key each kind of object is stored with, from its uploads, and
	// the PKI's objects (pki/pki.tar.gz at least).
	stored := map[string]string{}
	pki := []string{vpnPKIBackup}
	for _, c := range cmds {
		if c.Verb == "put" {
			stored[strings.SplitN(c.Key, "/", 2)[0]] = p.encryptingKey(c, b)
			if strings.HasPrefix(c.Key, "pki/") && !slices.Contains(pki, c.Key) {
				pki = append(pki, c.Key)
			}
		}
	}
	kmsStep := func(pr *Principal, action, key string) []*Step {
		if key == "" {
			return nil
		}
		ctx := viaS3(p.cfg.Region, bucket)
		ctx["kms:CallerAccount"] = pr.AccountID
		return []*Step{p.step(pr, action, key, ctx)}
	}
	read := func(pr *Principal, key string) []*Step {
		kind := strings.SplitN(key, "/", 2)[0]
		return append([]*Step{p.step(pr, "s3:GetObject", object(key), nil)}, kmsStep(pr, "kms:Decrypt", stored[kind])...)
	}
	if len(cmds) == 0 {
		q("the VPN server's user data copies its PKI to and from its bucket", true).Problem = "no `aws s3 cp` of s3://" + bucket + " in its user data"
	}
	for _, c := range cmds {
		switch c.Verb {
		case "get":
			q("the VPN server restores "+c.Key+" ("+c.Line+")", true, read(server, c.Key)...)
		case "put":
			ctx := map[string]any{}
			if c.SSE != "" {
				ctx["s3:x-amz-server-side-encryption"] = c.SSE
			}
			if c.KMSKey != "" {
				ctx["s3:x-amz-server-side-encryption-aws-kms-key-id"] = c.KMSKey
			}
			q("the VPN server uploads "+c.Key+" ("+c.Line+")", true,
				append([]*Step{p.step(server, "s3:PutObject", object(c.Key), ctx)}, kmsStep(server, "kms:GenerateDataKey", p.encryptingKey(c, b))...)...)
		case "delete":
			q("the VPN server removes "+c.Key+" ("+c.Line+")", true, p.step(server, "s3:DeleteObject", object(c.Key), nil))
		}
	}
	q("the VPN server uploads a profile with SSE-S3", false,
		p.step(server, "s3:PutObject", object("profiles/$user.ovpn"), map[string]any{"s3:x-amz-server-side-encryption": "AES256"}))
	q("the VPN server uploads the PKI with the account's aws/s3 key", false,
		p.step(server, "s3:PutObject", object(vpnPKIBackup), map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"}))
	sec := p.account(p.security)
	reader := ci.RoleARN(awsenv.Commercial, sec.ID, p.cfg.NamePrefix+"-vpn-group-reader")
	q("the VPN server reads the "+config.VPNGroupName+" group through "+p.cfg.NamePrefix+"-vpn-group-reader", true,
		p.step(server, "sts:AssumeRole", reader, nil),
		p.step(p.session(reader, false), "iam:GetGroup", "arn:aws:iam::"+sec.ID+":group/"+config.VPNGroupName, nil))

	for _, u := range p.vpnUsers() {
		pr := p.user(u, p.cfg.Baseline.Users[u].Groups, true)
		q(u+" downloads their own VPN profile with MFA", true, read(pr, "profiles/"+u+".ovpn")...)
		q(u+" downloads their own VPN profile without MFA", false, read(p.user(u, p.cfg.Baseline.Users[u].Groups, false), "profiles/"+u+".ovpn")...)
		q(u+" downloads another user's VPN profile", false, read(pr, "profiles/someone-else.ovpn")...)
		for _, k := range pki {
			q(u+" reads the VPN PKI ("+k+")", false, read(pr, k)...)
		}
	}
	// Everyone else the account's policies might let read objects.
	others := []*Principal{p.session(ci.RoleARN(awsenv.Commercial, sh.ID, ci.PlanRole), false), p.session(ci.RoleARN(awsenv.Commercial, sh.ID, ci.ApplyRole), false)}
	for _, access := range []string{config.AccessReadOnly, config.AccessFullAccess, config.AccessDev, config.AccessVPN} {
		if arn := crossaccount.RoleARN(awsenv.Commercial, sh.ID, access); p.u.Roles[arn] != nil {
			others = append(others, p.session(arn, true))
		}
	}
	for _, app := range p.apps() {
		if arn := ci.RoleARN(awsenv.Commercial, sh.ID, ci.PeeringRole(p.cfg, app, true)); p.u.Roles[arn] != nil {
			others = append(others, p.session(arn, false))
		}
	}
	others = append(others, p.outsider())
	for _, pr := range others {
		q(pr.Label+" reads a VPN profile", false, read(pr, "profiles/$user.ovpn")...)
		for _, k := range pki {
			q(pr.Label+" reads the VPN PKI ("+k+")", false, read(pr, k)...)
		}
		q(pr.Label+" overwrites the VPN PKI", false, p.step(pr, "s3:PutObject", object(vpnPKIBackup),
			map[string]any{"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": b.Key}))
	}
}

// vpnUsers are the configured users in the VPN group, sorted.
func (p *prover) vpnUsers() []string {
	var out []string
	for _, u := range slices.Sorted(maps.Keys(p.cfg.Baseline.Users)) {
		if p.cfg.Baseline.Users[u] != nil && slices.Contains(p.cfg.Baseline.Users[u].Groups, config.VPNGroupName) {
			out = append(out, u)
		}
	}
	return out
}

// logQuestions: each account's trail and recorder deliver into the logs
// account under that account's own prefix and no other; the app accounts
// (and no other) subscribe to the central log destination; no app
// account's administrator deletes or overwrites the archive.
func (p *prover) logQuestions() {
	logs := p.account(p.logs)
	names := logarchive.NamesFor(p.cfg.NamePrefix, p.logs, awsenv.New(logs.ID, p.cfg.Region))
	key := p.u.KeyByAlias(logs.ID, "alias/"+names.KeyAlias)
	stacks := p.accountStacks()
	q := func(stack, name string, want bool, steps ...*Step) *Question {
		return p.add(&Question{Group: "logs", Stacks: []string{p.logs, stack}, Name: name, Want: want, Steps: steps})
	}
	if key == nil {
		q(p.logs, "the log archive is encrypted with its key", true).Problem = "no key alias/" + names.KeyAlias + " in " + p.logs
		return
	}
	for i, stack := range stacks {
		id := p.account(stack).ID
		other := p.account(stacks[(i+1)%len(stacks)]).ID
		trail := audit.TrailARN(awsenv.New(id, p.cfg.Region), p.cfg.NamePrefix+"-"+stack)
		ct := p.service("cloudtrail.amazonaws.com", map[string]any{"aws:SourceArn": trail, "aws:SourceAccount": id})
		ct.Label = "CloudTrail (" + stack + "'s trail)"
		acl := map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"}
		tbucket := "arn:aws:s3:::" + names.TrailBucket
		path := func(acct string) string {
			return tbucket + "/AWSLogs/" + acct + "/CloudTrail/" + p.cfg.Region + "/2025/01/01/log.json.gz"
		}
		q(stack, "CloudTrail of "+stack+" delivers into "+names.TrailBucket+"/AWSLogs/"+id+"/", true,
			p.step(ct, "s3:GetBucketAcl", tbucket, nil),
			p.step(ct, "s3:PutObject", path(id), acl),
			p.step(ct, "kms:GenerateDataKey", key.ARN, map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": trail}))
		q(stack, "CloudTrail of "+stack+" writes under another account's prefix ("+other+")", false, p.step(ct, "s3:PutObject", path(other), acl))
		cf := p.service("config.amazonaws.com", map[string]any{"aws:SourceAccount": id})
		cf.Label = "AWS Config (" + stack + ")"
		cbucket := "arn:aws:s3:::" + names.ConfigBucket
		cpath := func(acct string) string {
			return cbucket + "/AWSLogs/" + acct + "/Config/" + p.cfg.Region + "/2025/1/1/x.json.gz"
		}
		q(stack, "AWS Config of "+stack+" delivers into "+names.ConfigBucket+"/AWSLogs/"+id+"/Config/", true,
			p.step(cf, "s3:GetBucketAcl", cbucket, nil),
			p.step(cf, "s3:PutObject", cpath(id), acl),
			p.step(cf, "kms:GenerateDataKey", key.ARN, nil))
		q(stack, "AWS Config of "+stack+" writes under another account's prefix ("+other+")", false, p.step(cf, "s3:PutObject", cpath(other), acl))
	}
	if p.cfg.Monitoring.CentralLogs {
		dest := centrallogs.DestinationARN(awsenv.New(logs.ID, p.cfg.Region), p.cfg.NamePrefix+"-app-logs")
		for _, stack := range stacks {
			a := p.account(stack)
			if stack == p.logs {
				continue // the destination's own account
			}
			pr := p.session(ci.RoleARN(awsenv.Commercial, a.ID, ci.ApplyRole), false)
			q(stack, stack+" subscribes its log groups to the central log destination", a.Kind == config.KindApp,
				p.step(pr, "logs:PutSubscriptionFilter", dest, nil))
		}
		p.add(&Question{Group: "outsiders", Stacks: []string{p.logs}, Name: "an administrator outside the organization subscribes to the central log destination",
			Want: false, Steps: []*Step{p.step(p.outsider(), "logs:PutSubscriptionFilter", dest, nil)}})
	}
	p.objectLockQuestions(names)
	for _, app := range p.apps() {
		a := p.account(app)
		admins := []*Principal{p.session(ci.RoleARN(awsenv.Commercial, a.ID, ci.ApplyRole), false)}
		if arn := crossaccount.RoleARN(awsenv.Commercial, a.ID, config.AccessFullAccess); p.u.Roles[arn] != nil {
			admins = append(admins, p.session(arn, true))
		}
		for _, pr := range admins {
			var steps []*Step
			for _, bk := range []string{names.TrailBucket, names.ConfigBucket} {
				arn := "arn:aws:s3:::" + bk
				obj := arn + "/AWSLogs/" + a.ID + "/CloudTrail/" + p.cfg.Region + "/2025/01/01/log.json.gz"
				steps = append(steps,
					p.step(pr, "s3:DeleteObject", obj, nil), p.step(pr, "s3:DeleteObjectVersion", obj, nil),
					p.step(pr, "s3:PutObject", obj, map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"}),
					p.step(pr, "s3:DeleteBucket", arn, nil), p.step(pr, "s3:PutBucketPolicy", arn, nil),
					p.step(pr, "s3:PutLifecycleConfiguration", arn, nil))
			}
			steps = append(steps, p.step(pr, "kms:ScheduleKeyDeletion", key.ARN, nil), p.step(pr, "kms:PutKeyPolicy", key.ARN, nil))
			q(app, pr.Label+" deletes or overwrites the log archive in "+p.logs, false, steps...).AnyOf = true
		}
	}
}

// objectLockQuestions (help/security-baseline.md, "Immutable archive"): the
// logs account's own administrators, whose role allows everything, can
// neither change the archive buckets' Object Lock nor bypass a governance
// retention, because the bucket policies deny it to all but the deploy
// role, which still can.
func (p *prover) objectLockQuestions(names logarchive.Names) {
	logs := p.account(p.logs)
	q := func(name string, want bool, steps ...*Step) *Question {
		return p.add(&Question{Group: "logs", Stacks: []string{p.logs}, Name: name, Want: want, Steps: steps})
	}
	deploy := p.session(logs.DeployRoleARN(awsenv.Commercial), false)
	deploy.Label = p.logs + " deploy_role " + logs.DeployRole
	var people []*Principal
	for _, access := range []string{config.AccessFullAccess, config.AccessReadOnly} {
		if arn := crossaccount.RoleARN(awsenv.Commercial, logs.ID, access); p.u.Roles[arn] != nil {
			people = append(people, p.session(arn, true))
		}
	}
	people = append(people, p.session(ci.RoleARN(awsenv.Commercial, logs.ID, ci.ApplyRole), false))
	for _, b := range []string{names.TrailBucket, names.ConfigBucket} {
		bucket := "arn:aws:s3:::" + b
		object := bucket + "/AWSLogs/" + logs.ID + "/CloudTrail/" + p.cfg.Region + "/2025/01/01/log.json.gz"
		for _, pr := range people {
			q(pr.Label+" changes the Object Lock configuration of "+b, false, p.step(pr, "s3:PutBucketObjectLockConfiguration", bucket, nil))
			q(pr.Label+" bypasses the governance retention of a log in "+b, false, p.step(pr, "s3:BypassGovernanceRetention", object, nil))
		}
		q(deploy.Label+" configures the Object Lock of "+b, true, p.step(deploy, "s3:PutBucketObjectLockConfiguration", bucket, nil))
	}
}
