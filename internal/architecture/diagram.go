package architecture

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/acme/landing-zone/internal/awsenv"
	"github.com/acme/landing-zone/internal/config"
)

// Graph is the architecture: accounts as groups holding their VPC, the
// VPC's subnet tiers and what runs in them, plus the edges between them.
type Graph struct {
	Nodes  []*Node // outside every account (the internet)
	Groups []*Group
	Edges  []Edge
}

// Group is a box: an account, a VPC or a subnet tier.
type Group struct {
	ID, Label string
	Nodes     []*Node
	Groups    []*Group
}

// Node is one thing in a box.
type Node struct {
	ID, Label string
	Shape     Shape
}

// Shape of a node.
type Shape int

// Shapes.
const (
	Box   Shape = iota
	Store       // a data store or bucket
	Cloud       // the internet
)

// Edge connects two node or group IDs.
type Edge struct {
	From, To, Label string
	Dashed, Both    bool
}

// tierOrder lists the subnet tiers (the subnets' Tier tags) from the edge of
// the VPC inwards.
var tierOrder = []string{"public", "private-app", "private-persistence"}

const internet = "internet"

// Diagram builds the architecture of the synthesized stacks of cfg. Only
// account stacks are drawn; bootstrap stacks hold state, not architecture.
func Diagram(cfg *config.Config, stacks []*Stack) *Graph {
	b := &builder{
		g: &Graph{}, cfg: cfg, stacks: map[string]*Stack{}, owners: map[string]string{},
		vpcs: map[string]string{}, accounts: map[string]string{}, buckets: map[string]string{},
		destinations: map[string]string{},
	}
	for _, s := range stacks {
		b.stacks[s.Name] = s
		for _, n := range s.names("aws_vpc") {
			if p, err := netip.ParsePrefix(str(s.Resources["aws_vpc"][n]["cidr_block"])); err == nil {
				b.internal = append(b.internal, p)
			}
		}
	}
	var drawn []string
	for _, name := range cfg.AccountNames() {
		if s := b.stacks[name]; s != nil {
			b.account(name, s)
			drawn = append(drawn, name)
		}
	}
	for _, name := range drawn {
		b.ingress(name, b.stacks[name])
	}
	for _, name := range drawn {
		b.peering(name, b.stacks[name])
	}
	for _, name := range drawn {
		b.logFlows(name, b.stacks[name])
	}
	if len(b.internetEdges) > 0 {
		b.g.Nodes = append(b.g.Nodes, &Node{ID: internet, Label: "Internet", Shape: Cloud})
		b.g.Edges = append(b.internetEdges, b.g.Edges...)
	}
	return b.g
}

type builder struct {
	g             *Graph
	cfg           *config.Config
	stacks        map[string]*Stack
	owners        map[string]string // "stack/security group name" to the node using it
	vpcs          map[string]string // account name to its VPC group
	accounts      map[string]string // account name to its group
	buckets       map[string]string // bucket name to its node
	destinations  map[string]string // CloudWatch Logs destination ARN to its node
	internal      []netip.Prefix    // every VPC range
	internetEdges []Edge
}

var idRe = regexp.MustCompile(`[^a-z0-9]+`)

// id makes a diagram ID from a construct path or name: stable as long as
// the construct IDs are, which they must be anyway.
func id(parts ...string) string {
	return strings.Trim(idRe.ReplaceAllString(strings.ToLower(strings.Join(parts, "_")), "_"), "_")
}

func (b *builder) account(name string, s *Stack) {
	a := b.cfg.Accounts[name]
	kind := a.Kind + " account"
	if a.Kind == config.KindApp {
		kind += ", " + a.Profile + " profile"
	}
	g := &Group{ID: id(name, "account"), Label: name + " (" + a.ID + ")\n" + kind}
	b.accounts[name] = g.ID
	b.g.Groups = append(b.g.Groups, g)
	for _, n := range s.names("aws_vpc") {
		g.Groups = append(g.Groups, b.vpc(name, s, s.Resources["aws_vpc"][n]))
	}
	b.regional(name, s, g)
}

// vpc draws a VPC with a box per subnet tier and, in each tier, what runs
// in its subnets.
func (b *builder) vpc(acct string, s *Stack, v map[string]any) *Group {
	g := &Group{ID: id(acct, "vpc"), Label: "VPC " + tag(v, "Name") + "\n" + str(v["cidr_block"])}
	b.vpcs[acct] = g.ID
	tiers := map[string]*Group{}
	tierOf := map[string]string{} // subnet name to tier
	cidrs := map[string][]string{}
	for _, n := range s.names("aws_subnet") {
		sub := s.Resources["aws_subnet"][n]
		t := tag(sub, "Tier")
		tierOf[n] = t
		cidrs[t] = append(cidrs[t], str(sub["cidr_block"]))
	}
	var order []string
	for t := range cidrs {
		order = append(order, t)
	}
	sort.Slice(order, func(i, j int) bool {
		ri, rj := rank(tierOrder, order[i]), rank(tierOrder, order[j])
		if ri != rj {
			return ri < rj
		}
		return order[i] < order[j]
	})
	for _, t := range order {
		tiers[t] = &Group{ID: id(acct, "tier", t), Label: t + " subnets\n" + strings.Join(cidrs[t], ", ")}
		g.Groups = append(g.Groups, tiers[t])
	}
	place := func(body map[string]any, n *Node) {
		for _, sg := range s.refsOf(body, "aws_security_group") {
			if _, ok := b.owners[acct+"/"+sg.name]; !ok {
				b.owners[acct+"/"+sg.name] = n.ID
			}
		}
		if subs := s.refsOf(body, "aws_subnet"); len(subs) > 0 && tiers[tierOf[subs[0].name]] != nil {
			t := tiers[tierOf[subs[0].name]]
			t.Nodes = append(t.Nodes, n)
			return
		}
		g.Nodes = append(g.Nodes, n)
	}

	nats := map[string]int{}
	for _, n := range s.names("aws_nat_gateway") {
		if subs := s.refsOf(s.Resources["aws_nat_gateway"][n], "aws_subnet"); len(subs) > 0 {
			nats[tierOf[subs[0].name]]++
		}
	}
	for _, t := range order {
		if nats[t] > 0 {
			tiers[t].Nodes = append(tiers[t].Nodes, &Node{ID: id(acct, "nat", t), Label: plural(nats[t], "NAT gateway")})
		}
	}
	for _, n := range s.names("aws_lb") {
		lb := s.Resources["aws_lb"][n]
		scheme := "internet-facing"
		if lb["internal"] == true {
			scheme = "internal"
		}
		place(lb, &Node{ID: id(path(lb)), Label: "ALB " + str(lb["name"]) + "\n" + scheme})
	}
	ecsHosts := map[string]bool{}
	for _, n := range s.names("aws_ecs_capacity_provider") {
		for _, r := range refs(s.Resources["aws_ecs_capacity_provider"][n]) {
			ecsHosts[r.name] = true
		}
	}
	for _, n := range s.names("aws_autoscaling_group") {
		asg := s.Resources["aws_autoscaling_group"][n]
		what := "EC2 "
		if ecsHosts[n] {
			what = "ECS hosts "
		}
		size := str(asg["min_size"])
		if asg["max_size"] != asg["min_size"] {
			size += "-" + str(asg["max_size"])
		}
		place(asg, &Node{ID: id(path(asg)), Label: what + str(asg["name"]) + "\n" + size + " x " + launchType(s, asg)})
	}
	for _, n := range s.names("aws_ecs_service") {
		svc := s.Resources["aws_ecs_service"][n]
		place(svc, &Node{ID: id(path(svc)), Label: "ECS service " + str(svc["name"]) + "\n" + plural(num(svc["desired_count"]), "task")})
	}
	for _, n := range s.names("aws_rds_cluster") {
		db := s.Resources["aws_rds_cluster"][n]
		class, count := instances(s, "aws_rds_cluster_instance", "cluster_identifier", n, "instance_class")
		place(db, &Node{ID: id(path(db)), Shape: Store, Label: "Aurora " + str(db["cluster_identifier"]) + "\n" +
			str(db["engine"]) + " " + str(db["engine_version"]) + "\n" + fmt.Sprintf("%d x %s", count, class)})
	}
	for _, n := range s.names("aws_elasticache_replication_group") {
		rg := s.Resources["aws_elasticache_replication_group"][n]
		place(rg, &Node{ID: id(path(rg)), Shape: Store, Label: "Redis " + str(rg["replication_group_id"]) + "\n" +
			str(rg["engine_version"]) + ", " + fmt.Sprintf("%d x %s", num(rg["num_cache_clusters"]), str(rg["node_type"]))})
	}
	return g
}

// regional draws what lives outside the VPC but matters to the picture: the
// buckets and log destinations other accounts' logs flow to, the container
// registry and the IAM users.
func (b *builder) regional(acct string, s *Stack, g *Group) {
	targets := map[string]bool{}
	for _, other := range b.stacks {
		for _, f := range logSources(other) {
			targets[f.bucket] = true
		}
	}
	env := awsenv.New(b.cfg.Accounts[acct].ID, b.cfg.Region)
	streams := map[string]string{} // Firehose stream to the bucket it fills
	for _, n := range s.names("aws_kinesis_firehose_delivery_stream") {
		dest, _ := s.Resources["aws_kinesis_firehose_delivery_stream"][n]["extended_s3_configuration"].(map[string]any)
		bucket := strings.TrimPrefix(str(dest["bucket_arn"]), env.Partition.S3(""))
		streams[n], targets[bucket] = bucket, true
	}
	for _, n := range s.names("aws_s3_bucket") {
		bucket := str(s.Resources["aws_s3_bucket"][n]["bucket"])
		if targets[bucket] {
			node := &Node{ID: id(path(s.Resources["aws_s3_bucket"][n])), Label: "S3 " + bucket, Shape: Store}
			b.buckets[bucket] = node.ID
			g.Nodes = append(g.Nodes, node)
		}
	}
	for _, n := range s.names("aws_cloudwatch_log_destination") {
		d := s.Resources["aws_cloudwatch_log_destination"][n]
		node := &Node{ID: id(path(d)), Label: "CloudWatch Logs destination\n" + str(d["name"])}
		b.destinations[env.ARN("logs", "destination:"+str(d["name"]))] = node.ID
		g.Nodes = append(g.Nodes, node)
		for _, r := range refs(d["target_arn"]) {
			if bucket := b.buckets[streams[r.name]]; r.typ == "aws_kinesis_firehose_delivery_stream" && bucket != "" {
				b.g.Edges = append(b.g.Edges, Edge{From: node.ID, To: bucket, Label: "Firehose", Dashed: true})
			}
		}
	}
	var repos []string
	for _, n := range s.names("aws_ecr_repository") {
		repos = append(repos, str(s.Resources["aws_ecr_repository"][n]["name"]))
	}
	if len(repos) > 0 {
		sort.Strings(repos)
		g.Nodes = append(g.Nodes, &Node{ID: id(acct, "ecr"), Label: "ECR\n" + strings.Join(repos, ", ")})
	}
	if users := len(s.Resources["aws_iam_user"]); users > 0 {
		g.Nodes = append(g.Nodes, &Node{ID: id(acct, "iam"), Label: "IAM\n" + plural(users, "user") + ", " + plural(len(s.Resources["aws_iam_group"]), "group")})
	}
}

// ingress draws who may connect to what: security group rules between the
// drawn resources, and rules open to ranges outside every VPC (the internet).
func (b *builder) ingress(acct string, s *Stack) {
	type flow struct{ from, to string }
	ports := map[flow][]string{}
	sources := map[flow][]string{}
	var order []flow
	for _, n := range s.names("aws_vpc_security_group_ingress_rule") {
		r := s.Resources["aws_vpc_security_group_ingress_rule"][n]
		target := refs(r["security_group_id"])
		if len(target) == 0 || b.owners[acct+"/"+target[0].name] == "" {
			continue
		}
		f := flow{to: b.owners[acct+"/"+target[0].name]}
		if src := refs(r["referenced_security_group_id"]); len(src) > 0 {
			f.from = b.owners[acct+"/"+src[0].name]
		} else if p, err := netip.ParsePrefix(str(r["cidr_ipv4"])); err == nil && !b.isInternal(p) {
			f.from = internet
			sources[f] = appendNew(sources[f], p.String())
		}
		if f.from == "" {
			continue
		}
		if _, seen := ports[f]; !seen {
			order = append(order, f)
		}
		ports[f] = appendNew(ports[f], fmt.Sprintf("%s %5d", str(r["ip_protocol"]), num(r["from_port"])))
	}
	for _, f := range order {
		sort.Strings(ports[f]) // by protocol, then port (padded to sort as numbers)
		for i, p := range ports[f] {
			ports[f][i] = strings.Join(strings.Fields(p), " ")
		}
		label := strings.Join(ports[f], ", ")
		if src := sources[f]; len(src) > 0 && !slices.Equal(src, []string{"0.0.0.0/0"}) {
			label += " from " + strings.Join(src, ", ")
		}
		e := Edge{From: f.from, To: f.to, Label: label}
		if f.from == internet {
			b.internetEdges = append(b.internetEdges, e)
		} else {
			b.g.Edges = append(b.g.Edges, e)
		}
	}
}

func (b *builder) isInternal(p netip.Prefix) bool {
	for _, v := range b.internal {
		if v.Overlaps(p) && v.Bits() <= p.Bits() {
			return true
		}
	}
	return false
}

// peering draws the VPC peering connections a stack requests.
func (b *builder) peering(acct string, s *Stack) {
	for _, n := range s.names("aws_vpc_peering_connection") {
		owner := str(s.Resources["aws_vpc_peering_connection"][n]["peer_owner_id"])
		for _, other := range b.cfg.AccountNames() {
			if b.cfg.Accounts[other].ID == owner && b.vpcs[other] != "" && b.vpcs[acct] != "" {
				b.g.Edges = append(b.g.Edges, Edge{From: b.vpcs[acct], To: b.vpcs[other], Label: "VPC peering", Both: true})
			}
		}
	}
}

type logFlow struct{ what, bucket string }

// logSources lists where a stack's audit logs are delivered.
func logSources(s *Stack) []logFlow {
	var out []logFlow
	for _, n := range s.names("aws_cloudtrail") {
		out = append(out, logFlow{"CloudTrail", str(s.Resources["aws_cloudtrail"][n]["s3_bucket_name"])})
	}
	for _, n := range s.names("aws_config_delivery_channel") {
		out = append(out, logFlow{"AWS Config", str(s.Resources["aws_config_delivery_channel"][n]["s3_bucket_name"])})
	}
	return out
}

// logFlows draws each account's audit logs going to buckets in another
// account (the logs account).
func (b *builder) logFlows(acct string, s *Stack) {
	own := map[string]bool{}
	for _, n := range s.names("aws_s3_bucket") {
		own[str(s.Resources["aws_s3_bucket"][n]["bucket"])] = true
	}
	for _, f := range logSources(s) {
		if to := b.buckets[f.bucket]; to != "" && !own[f.bucket] {
			b.g.Edges = append(b.g.Edges, Edge{From: b.accounts[acct], To: to, Label: f.what, Dashed: true})
		}
	}
	// Application logs: one edge per account however many log groups
	// subscribe.
	seen := map[string]bool{}
	for _, n := range s.names("aws_cloudwatch_log_subscription_filter") {
		to := b.destinations[str(s.Resources["aws_cloudwatch_log_subscription_filter"][n]["destination_arn"])]
		if to != "" && !seen[to] {
			seen[to] = true
			b.g.Edges = append(b.g.Edges, Edge{From: b.accounts[acct], To: to, Label: "app logs", Dashed: true})
		}
	}
}

// launchType is the instance type of an Auto Scaling group's launch template.
func launchType(s *Stack, asg map[string]any) string {
	for _, r := range refs(asg["launch_template"]) {
		if r.typ == "aws_launch_template" {
			return str(s.Resources[r.typ][r.name]["instance_type"])
		}
	}
	return "?"
}

// instances counts the members of a cluster and returns their size.
func instances(s *Stack, typ, parentKey, parent, sizeKey string) (string, int) {
	size, n := "", 0
	for _, name := range s.names(typ) {
		body := s.Resources[typ][name]
		for _, r := range refs(body[parentKey]) {
			if r.name == parent {
				size, n = str(body[sizeKey]), n+1
			}
		}
	}
	return size, n
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func rank(order []string, v string) int {
	if i := slices.Index(order, v); i >= 0 {
		return i
	}
	return len(order)
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
