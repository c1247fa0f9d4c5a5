package access

import (
	"maps"
	"slices"
	"strings"

	"github.com/acme/landing-zone/constructs/aurora"
	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
	"github.com/acme/landing-zone/internal/naming"
)

// appEnv is what the questions need of one app stack.
type appEnv struct {
	name, id, env string
	st            *Stack
	// secrets by service: ARN → key ARN.
	secrets map[string]map[string]string
	// cluster: resource ID, master user, master secret, key; cache: group
	// and user ARNs.
	clusterID, master, masterSecret, dbKey, clusterARN string
	cacheGroup, cacheUser                              string
}

func (p *prover) appEnv(app string) *appEnv {
	st := p.u.stacks.Stack(app)
	e := &appEnv{name: app, id: p.account(app).ID, env: p.cfg.NamePrefix + "-" + app, st: st, secrets: map[string]map[string]string{}}
	region := p.cfg.Region
	for _, n := range slices.Sorted(maps.Keys(st.Resources["aws_secretsmanager_secret"])) {
		r := st.Resources["aws_secretsmanager_secret"][n]
		name := st.Resolve(str(r["name"]))
		parts := strings.Split(name, "/") // <prefix>/<account>/<service>/<NAME>
		if len(parts) != 4 {
			continue
		}
		if e.secrets[parts[2]] == nil {
			e.secrets[parts[2]] = map[string]string{}
		}
		e.secrets[parts[2]][SecretARN(region, e.id, name)] = st.Resolve(str(r["kms_key_id"]))
	}
	for _, n := range slices.Sorted(maps.Keys(st.Resources["aws_rds_cluster"])) {
		r := st.Resources["aws_rds_cluster"][n]
		e.clusterID = st.value("aws_rds_cluster." + n + ".cluster_resource_id")
		e.master = str(r["master_username"])
		e.masterSecret = st.value("aws_rds_cluster." + n + ".master_user_secret[0].secret_arn")
		e.dbKey = st.Resolve(str(r["master_user_secret_kms_key_id"]))
		e.clusterARN = "arn:aws:rds:" + region + ":" + e.id + ":cluster:" + str(r["cluster_identifier"])
	}
	for _, n := range slices.Sorted(maps.Keys(st.Resources["aws_elasticache_replication_group"])) {
		e.cacheGroup = "arn:aws:elasticache:" + region + ":" + e.id + ":replicationgroup:" + str(st.Resources["aws_elasticache_replication_group"][n]["replication_group_id"])
	}
	for _, n := range slices.Sorted(maps.Keys(st.Resources["aws_elasticache_user"])) {
		u := st.Resources["aws_elasticache_user"][n]
		for _, m := range blocks(u["authentication_mode"]) {
			if str(m["type"]) == "iam" {
				e.cacheUser = "arn:aws:elasticache:" + region + ":" + e.id + ":user:" + str(u["user_id"])
			}
		}
	}
	return e
}

func (e *appEnv) dbUser(user string) string {
	return "arn:aws:rds-db:" + strings.Split(e.clusterARN, ":")[3] + ":" + e.id + ":dbuser:" + e.clusterID + "/" + user
}

// serviceQuestions: each service's execution role reads its own secrets
// and pulls its image; its task role connects to Redis and Aurora as its
// own users; nothing reads another service's secrets, the master secret,
// or connects as the master user or another service's user.
func (p *prover) serviceQuestions() {
	for _, app := range p.apps() {
		acct := p.account(app)
		e := p.appEnv(app)
		stacks := []string{app}
		for _, svc := range acct.ServiceNames() {
			s := acct.Services[svc]
			full := e.env + "-" + svc
			exec := p.session(ci.RoleARN(awsenv.Commercial, e.id, naming.Fit(full+"-exec", 64)), false)
			task := p.session(ci.RoleARN(awsenv.Commercial, e.id, naming.Fit(full+"-task", 64)), false)
			q := func(name string, want bool, steps ...*Step) *Question {
				return p.add(&Question{Group: "services", Stacks: stacks, Name: app + " " + svc + ": " + name, Want: want, Steps: steps})
			}
			if len(s.Secrets) > 0 {
				var steps []*Step
				for _, arn := range slices.Sorted(maps.Keys(e.secrets[svc])) {
					key := e.secrets[svc][arn]
					steps = append(steps, p.step(exec, "secretsmanager:GetSecretValue", arn, nil),
						p.step(exec, "kms:Decrypt", key, map[string]any{"kms:ViaService": "secretsmanager." + p.cfg.Region + ".amazonaws.com", "kms:EncryptionContext:SecretARN": arn}))
				}
				sq := q("the execution role reads its secrets", true, steps...)
				if len(e.secrets[svc]) != len(s.Secrets) {
					sq.Problem = "the stack has " + itoa(len(e.secrets[svc])) + " of the service's " + itoa(len(s.Secrets)) + " secrets"
				}
			}
			for _, other := range slices.Sorted(maps.Keys(e.secrets)) {
				if other == svc {
					continue
				}
				var steps []*Step
				for _, arn := range slices.Sorted(maps.Keys(e.secrets[other])) {
					steps = append(steps, p.step(exec, "secretsmanager:GetSecretValue", arn, nil), p.step(task, "secretsmanager:GetSecretValue", arn, nil))
				}
				q("its roles read "+other+"'s secrets", false, steps...).AnyOf = true
			}
			if repo := p.ecrRepository(s.Image); repo != "" {
				q("the execution role pulls its image", true,
					p.step(exec, "ecr:GetAuthorizationToken", "*", nil),
					p.step(exec, "ecr:BatchCheckLayerAvailability", repo, nil),
					p.step(exec, "ecr:BatchGetImage", repo, nil),
					p.step(exec, "ecr:GetDownloadUrlForLayer", repo, nil))
			}
			if s.UseCache {
				q("the task role connects to Redis as its user", true,
					p.step(task, "elasticache:Connect", e.cacheGroup, nil), p.step(task, "elasticache:Connect", e.cacheUser, nil))
			}
			if e.clusterID == "" {
				continue
			}
			user := aurora.UserName(svc)
			if s.UseDatabase {
				q("the task role connects to Aurora as "+user+" (IAM authentication)", true, p.step(task, "rds-db:connect", e.dbUser(user), nil))
			}
			q("the task role connects to Aurora as the master user "+e.master, false, p.step(task, "rds-db:connect", e.dbUser(e.master), nil))
			q("its roles read the database master secret", false,
				p.step(exec, "secretsmanager:GetSecretValue", e.masterSecret, nil),
				p.step(task, "secretsmanager:GetSecretValue", e.masterSecret, nil)).AnyOf = true
			for _, other := range acct.ServiceNames() {
				if other != svc && acct.Services[other].UseDatabase {
					q("the task role connects to Aurora as "+aurora.UserName(other), false, p.step(task, "rds-db:connect", e.dbUser(aurora.UserName(other)), nil))
				}
			}
		}
		if e.clusterID != "" && hasDatabaseUsers(acct) {
			apply := p.session(ci.RoleARN(awsenv.Commercial, e.id, ci.ApplyRole), false)
			p.add(&Question{Group: "services", Stacks: stacks, Want: true,
				Name: app + ": CI apply creates the database users through the Data API with the master secret",
				Steps: []*Step{
					p.step(apply, "rds:DescribeDBClusters", e.clusterARN, nil),
					p.step(apply, "rds-data:ExecuteStatement", e.clusterARN, nil),
					p.step(apply, "secretsmanager:GetSecretValue", e.masterSecret, nil),
					p.step(apply, "kms:Decrypt", e.dbKey, map[string]any{"kms:ViaService": "secretsmanager." + p.cfg.Region + ".amazonaws.com", "kms:EncryptionContext:SecretARN": e.masterSecret}),
				}})
		}
	}
}

func hasDatabaseUsers(a *config.Account) bool {
	for _, s := range a.Services {
		if s.UseDatabase {
			return true
		}
	}
	return false
}

// ecrRepository is the ARN of a service's image repository in
// shared-services, or "".
func (p *prover) ecrRepository(image string) string {
	sh := p.account(p.shared)
	registry := sh.ID + ".dkr.ecr." + p.cfg.Region + ".amazonaws.com/"
	if !strings.HasPrefix(image, registry) {
		return ""
	}
	return "arn:aws:ecr:" + p.cfg.Region + ":" + sh.ID + ":repository/" + config.ImageRepository(image)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
