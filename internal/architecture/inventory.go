package architecture

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// StackInventory is what one stack creates.
type StackInventory struct {
	Stack  string
	Total  int
	Counts []TypeCount // by type name
	Sizes  []Size      // the figures that drive cost and capacity
	// Brief is the sizes in a few words, for the summary table.
	Brief string
}

// TypeCount is the number of resources of one type.
type TypeCount struct {
	Type  string
	Count int
}

// Size is one notable figure: what, and how big.
type Size struct{ What, Value string }

// Inventory counts every stack's resources by type and lists their notable
// sizes: instance types, NAT gateways, database instances, Redis nodes,
// ECS host bounds and service task counts.
func Inventory(stacks []*Stack) []StackInventory {
	var out []StackInventory
	for _, s := range stacks {
		inv := StackInventory{Stack: s.Name}
		for _, typ := range slices.Sorted(maps.Keys(s.Resources)) {
			n := len(s.Resources[typ])
			inv.Counts = append(inv.Counts, TypeCount{typ, n})
			inv.Total += n
		}
		inv.Sizes, inv.Brief = sizes(s)
		out = append(out, inv)
	}
	return out
}

func sizes(s *Stack) ([]Size, string) {
	var out []Size
	var brief []string
	add := func(what, format string, args ...any) { out = append(out, Size{what, fmt.Sprintf(format, args...)}) }
	if n := len(s.Resources["aws_nat_gateway"]); n > 0 {
		add("NAT gateways", "%d", n)
		brief = append(brief, plural(n, "NAT gateway"))
	}
	for _, n := range s.names("aws_autoscaling_group") {
		asg := s.Resources["aws_autoscaling_group"][n]
		add("EC2 "+str(asg["name"]), "%s, min %d, max %d", launchType(s, asg), num(asg["min_size"]), num(asg["max_size"]))
		brief = append(brief, fmt.Sprintf("%d-%d x %s", num(asg["min_size"]), num(asg["max_size"]), launchType(s, asg)))
	}
	for _, n := range s.names("aws_rds_cluster") {
		db := s.Resources["aws_rds_cluster"][n]
		class, count := instances(s, "aws_rds_cluster_instance", "cluster_identifier", n, "instance_class")
		add("Aurora "+str(db["cluster_identifier"]), "%d x %s (%s %s)", count, class, str(db["engine"]), str(db["engine_version"]))
		brief = append(brief, fmt.Sprintf("%d x %s", count, class))
	}
	for _, n := range s.names("aws_elasticache_replication_group") {
		rg := s.Resources["aws_elasticache_replication_group"][n]
		add("Redis "+str(rg["replication_group_id"]), "%d x %s (%s)", num(rg["num_cache_clusters"]), str(rg["node_type"]), str(rg["engine_version"]))
		brief = append(brief, fmt.Sprintf("%d x %s", num(rg["num_cache_clusters"]), str(rg["node_type"])))
	}
	scaling := map[string][2]int{} // "service/<cluster>/<service>" to min, max
	for _, n := range s.names("aws_appautoscaling_target") {
		t := s.Resources["aws_appautoscaling_target"][n]
		scaling[str(t["resource_id"])] = [2]int{num(t["min_capacity"]), num(t["max_capacity"])}
	}
	for _, n := range s.names("aws_ecs_service") {
		svc := s.Resources["aws_ecs_service"][n]
		v := fmt.Sprintf("desired %d", num(svc["desired_count"]))
		for key, mm := range scaling {
			if strings.HasSuffix(key, "/"+str(svc["name"])) {
				v += fmt.Sprintf(", min %d, max %d", mm[0], mm[1])
			}
		}
		for _, r := range refs(svc["task_definition"]) {
			td := s.Resources[r.typ][r.name]
			v += fmt.Sprintf(", %s CPU / %s MiB", str(td["cpu"]), str(td["memory"]))
		}
		add("ECS service "+str(svc["name"]), "%s", v)
	}
	if n := len(s.Resources["aws_ecs_service"]); n > 0 {
		brief = append(brief, plural(n, "service"))
	}
	return out, strings.Join(brief, ", ")
}

// WriteInventory prints a summary line per stack, then each stack's table.
func WriteInventory(w io.Writer, inv []StackInventory) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tRESOURCES\tTYPES\tSIZES")
	for _, s := range inv {
		// No tab before an empty last cell: tabwriter would pad it with spaces.
		fmt.Fprintf(tw, "%s\t%d\t%d%s\n", s.Stack, s.Total, len(s.Counts), strings.TrimRight("\t"+s.Brief, "\t"))
	}
	for _, s := range inv {
		fmt.Fprintf(tw, "\n== %s: %d resources ==\n", s.Stack, s.Total)
		fmt.Fprintln(tw, "  TYPE\tCOUNT")
		for _, c := range s.Counts {
			fmt.Fprintf(tw, "  %s\t%d\n", c.Type, c.Count)
		}
		if len(s.Sizes) > 0 {
			fmt.Fprintln(tw, "  SIZE\tVALUE")
			for _, z := range s.Sizes {
				fmt.Fprintf(tw, "  %s\t%s\n", z.What, z.Value)
			}
		}
	}
	return tw.Flush()
}
