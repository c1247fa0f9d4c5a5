// Package access is the IAM proof: it asks a real policy engine
// (@cloud-copilot/iam-simulate, run by simulate.mjs on the pinned Node)
// who can do what, over the policies of the synthesized stacks (the
// Terraform JSON, so it checks what Terraform will apply): roles with
// their trust, inline and attached policies (AWS managed ones from their
// vendored documents, managed/), the security account's groups, and the
// bucket, key, repository, log destination and topic policies.
//
// Questions come from the config, each intended to be allowed or denied:
// every CI job's whole chain (OIDC sign-in for the exact subject, each
// role its providers and backend assume, state, lock and state key), each
// service's execution and task roles, the VPN server and its users,
// CloudTrail, Config and log delivery into the logs account, each human
// group's roles with MFA; and what must stay denied: github-plan reading
// data, pull requests and other branches assuming apply or deploy roles,
// roles without MFA or from outside the organization, app accounts
// touching the log archive, services reading each other's secrets. Synth
// fails on any answer that is not the intended one, like a guardrail.
//
// The engine's answers are cached (cache.go): each request is keyed by a
// SHA-256 over the engine (simulate.mjs, the installed @cloud-copilot
// packages' versions, Node, LZ_ACCESS_PLAIN), the request and the
// documents of every policy it names, so a synth whose policies did not
// change asks the engine nothing, and a changed policy is asked again for
// exactly the requests that name it. The answers of the last runs (at most
// 20,000) live in iam-proof-answers.bin in LZ_FASTLOAD_CACHE, else the
// user cache directory's landing-zone (with fastload's preload);
// LZ_ACCESS_CACHE=0 turns the cache off.
//
// It does not own the policies (the constructs do) nor who Terraform runs
// as (internal/ci). Entry points: Check, Prove.
package access

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/acme/landing-zone/internal/ci"
	"github.com/acme/landing-zone/internal/config"
)

// Principal is who makes a request.
type Principal struct {
	// Label names it for people: "dev github-plan".
	Label string
	// ARN is the role, user, service principal or OIDC provider; Session
	// the request's principal (a role session), "" for ARN.
	ARN, Session string
	AccountID    string
	// Policies are its identity policies' IDs.
	Policies []string
	// Context is what every request of it carries (aws:PrincipalArn, ...).
	Context map[string]any
	// Problem, if set, is why its requests cannot be evaluated.
	Problem string
}

// Step is one request to AWS and its answer.
type Step struct {
	Principal       *Principal
	Action          string
	Resource        string
	ResourceAccount string
	Context         map[string]any
	// ResourcePolicy is the resource's policy ID, "" for none.
	ResourcePolicy string
	// Result is Allowed, ExplicitlyDenied, ImplicitlyDenied or Error.
	Result, Detail string
	problem        string
	// absent says the resource does not exist: AWS denies the request.
	absent string
}

// Allowed reports the step's answer.
func (s *Step) Allowed() bool { return s.Result == "Allowed" }

// Describe names the request: "dev github-plan: s3:GetObject on arn:...".
func (s *Step) Describe() string {
	return s.Principal.Label + ": " + s.Action + " on " + s.Resource
}

// Question is one thing the config intends someone can or cannot do, as
// one or more requests: all must be allowed when Want is true; none may be
// when it is false.
type Question struct {
	// Group sorts questions for people: CI, people, services, VPN, logs,
	// plan reads, outsiders.
	Group string
	// Stacks are the stacks whose policies it reads (for `access STACK`).
	Stacks []string
	// Name is the question, as a sentence.
	Name  string
	Want  bool
	Steps []*Step
	// AnyOf makes the steps alternatives: the question is allowed when any
	// of them is. Otherwise they are one thing done together (a read and
	// its decryption): allowed when all of them are.
	AnyOf bool
	// Problem, if set, is why it cannot be asked (a missing resource), or
	// why a fact without requests does not hold.
	Problem string
}

// Got is the answer: every step allowed, or any with AnyOf. A step that
// errs counts against the intent. A question without requests is a fact
// read from the stacks: it holds unless it has a Problem.
func (q *Question) Got() bool {
	if q.Problem != "" {
		return !q.Want
	}
	if len(q.Steps) == 0 {
		return q.Want
	}
	for _, s := range q.Steps {
		if s.Result == "Error" {
			return !q.Want
		}
	}
	any, all := false, true
	for _, s := range q.Steps {
		any = any || s.Allowed()
		all = all && s.Allowed()
	}
	if q.AnyOf {
		return any
	}
	return all
}

// Pass says whether the answer is the intended one.
func (q *Question) Pass() bool { return q.Got() == q.Want }

// Detail explains the answer by its deciding request: for a failure, the
// request that broke the intent (principal, action, resource and the
// policy statements that decided).
func (q *Question) Detail() string {
	if q.Problem != "" {
		return q.Problem
	}
	// The deciding step: for an answer of "allowed" with AnyOf, or of
	// "denied" without it, one step decides; otherwise every step does.
	got := q.Got()
	var decisive *Step
	for _, s := range q.Steps {
		if s.Result == "Error" {
			return s.Describe() + ": " + s.Detail
		}
		if decisive == nil && s.Allowed() == got && got == q.AnyOf {
			decisive = s
		}
	}
	if decisive == nil && len(q.Steps) > 0 {
		decisive = q.Steps[0]
		verb := "denied"
		if got {
			verb = "allowed"
		}
		if len(q.Steps) == 1 {
			return decisive.Describe() + " is " + verb + ": " + decisive.Detail
		}
		return fmt.Sprintf("all %d requests %s; first: %s: %s", len(q.Steps), verb, decisive.Describe(), decisive.Detail)
	}
	if decisive == nil {
		return "holds"
	}
	verb := "denied"
	if decisive.Allowed() {
		verb = "allowed"
	}
	return decisive.Describe() + " is " + verb + ": " + decisive.Detail
}

// Options select what the proof checks.
type Options struct {
	// Mode is who runs the synthesized stacks (LZ_CI). Its chain is read
	// from the stacks' providers and backend, and must equal
	// ci.ChainOf; other modes' chains come from ci.ChainOf.
	Mode ci.Mode
	// Offline stacks have no assume_role: every chain comes from
	// ci.ChainOf.
	Offline bool
	// ChainsFromJSON, for showing an older synth, reads every mode's
	// chain from the stacks as they are.
	ChainsFromJSON bool
	// Only, if set, keeps the questions it accepts (tests that break one
	// policy ask only the question it must fail).
	Only func(*Question) bool
}

// Check proves every question of cfg over the synth output in dir and
// returns those answered otherwise than intended as an error.
func Check(dir string, cfg *config.Config, o Options) error {
	start := time.Now()
	defer func() { Stats.Total = time.Since(start) }()
	s, err := Read(dir, cfg)
	if err != nil {
		return err
	}
	qs, err := Prove(s, cfg, o)
	if err != nil {
		return err
	}
	if fails := FailuresOf(qs); len(fails) > 0 {
		return fails
	}
	return nil
}

// Stats are the last Check's or Prove's figures, for the CLI and the
// tests: questions, distinct requests, the engine's run (Node included)
// and the whole proof (reading the stacks, asking, answering).
var Stats struct {
	Questions, Requests int
	Engine, Total       time.Duration
}

// Prove asks every question of cfg over the stacks and answers it with
// the policy engine, in one run of it.
func Prove(s *Stacks, cfg *config.Config, o Options) ([]*Question, error) {
	start := time.Now()
	defer func() { Stats.Total = time.Since(start) }()
	p := ask(s, cfg, o)
	if err := p.answer(); err != nil {
		return nil, err
	}
	return p.questions, nil
}

// Questions derives the questions without answering them.
func Questions(s *Stacks, cfg *config.Config, o Options) []*Question {
	return ask(s, cfg, o).questions
}

func ask(s *Stacks, cfg *config.Config, o Options) *prover {
	p := newProver(Build(s, cfg), cfg, o)
	p.ask()
	if o.Only != nil {
		p.questions = slices.DeleteFunc(p.questions, func(q *Question) bool { return !o.Only(q) })
	}
	return p
}

// answer sends every distinct request to the engine once.
func (p *prover) answer() error {
	index := map[string]int{}
	var reqs []request
	var steps [][]*Step
	for _, q := range p.questions {
		for _, s := range q.Steps {
			if problem := p.stepProblem(s); problem != "" {
				s.Result, s.Detail = "Error", problem
				continue
			}
			if s.absent != "" {
				s.Result, s.Detail = "ImplicitlyDenied", s.absent
				continue
			}
			r := request{
				Principal: s.Principal.Session, Action: s.Action, Resource: s.Resource, Account: s.ResourceAccount,
				Context: mergeContext(s.Principal.Context, s.Context), Identity: s.Principal.Policies,
				ResourcePolicy: s.ResourcePolicy,
			}
			if r.SCPs = p.scpsOf(s.Principal); r.SCPs != nil {
				r.Context = withRegion(r.Context, p.cfg.Region)
			}
			r.RawKeys = rawKeys(r.Context)
			if r.Principal == "" {
				r.Principal = s.Principal.ARN
			}
			b, _ := json.Marshal(r)
			i, ok := index[string(b)]
			if !ok {
				i = len(reqs)
				index[string(b)] = i
				reqs = append(reqs, r)
				steps = append(steps, nil)
			}
			steps[i] = append(steps[i], s)
		}
	}
	used := map[string]any{}
	for _, r := range reqs {
		ids := append(slices.Clone(r.Identity), r.ResourcePolicy)
		for _, l := range r.SCPs {
			ids = append(ids, l.Policies...)
		}
		for _, id := range ids {
			if id != "" {
				used[id] = p.u.Policies[id]
			}
		}
	}
	start := time.Now()
	answers, err := simulate(used, reqs)
	Stats.Engine = time.Since(start)
	Stats.Questions, Stats.Requests = len(p.questions), len(reqs)
	if err != nil {
		return err
	}
	for i, a := range answers {
		for _, s := range steps[i] {
			s.Result, s.Detail = a.Result, a.Detail
		}
	}
	return nil
}

// stepProblem is why a request cannot be evaluated, or "".
func (p *prover) stepProblem(s *Step) string {
	if s.problem != "" {
		return s.problem
	}
	if s.Principal.Problem != "" {
		return s.Principal.Problem
	}
	for _, id := range s.Principal.Policies {
		if p.u.Policies[id] == nil {
			return "its policy " + strings.TrimPrefix(id, "UNKNOWN ") + " is unknown to the proof (vendor AWS managed policies under internal/access/managed)"
		}
	}
	for _, v := range []string{s.Resource, s.ResourcePolicy} {
		if strings.Contains(v, "UNRESOLVED(") {
			return "the proof cannot resolve " + v
		}
	}
	return ""
}

// rawKeys are the context keys the engine's IAM data cannot describe
// (simulate.mjs): OIDC token claims and KMS encryption context keys.
func rawKeys(ctx map[string]any) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ctx)) {
		if strings.HasPrefix(k, "kms:EncryptionContext:") || strings.HasPrefix(k, Issuer+":") {
			out = append(out, k)
		}
	}
	return out
}

func mergeContext(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// OfflineStacks says whether the stacks were synthesized offline (their
// providers carry placeholder credentials and assume no role).
func OfflineStacks(s *Stacks) bool {
	for _, n := range s.Names() {
		for _, p := range s.Stack(n).Providers {
			if str(p["access_key"]) == "offline" {
				return true
			}
		}
	}
	return false
}

// Failures are questions answered otherwise than intended.
type Failures []*Question

// FailuresOf keeps the questions answered otherwise than intended.
func FailuresOf(qs []*Question) Failures {
	var out Failures
	for _, q := range qs {
		if !q.Pass() {
			out = append(out, q)
		}
	}
	return out
}

func (fs Failures) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "IAM proof: %d question(s) are not answered as the config intends:\n", len(fs))
	for _, q := range fs {
		want := "must be allowed but is denied"
		if !q.Want {
			want = "must be denied but is allowed"
		}
		fmt.Fprintf(&b, "  %s %s:\n    %s\n", q.Name, want, q.Detail())
	}
	b.WriteString("Run `go run . access` for the whole table; `go run . help ci-cd` explains the roles.")
	return b.String()
}

// For keeps the questions that read a stack ("" keeps all).
func For(qs []*Question, stack string) []*Question {
	if stack == "" {
		return qs
	}
	var out []*Question
	for _, q := range qs {
		if slices.Contains(q.Stacks, stack) {
			out = append(out, q)
		}
	}
	return out
}

// WriteTable prints one line per question: verdict, intent, group,
// question and the deciding policy statements.
func WriteTable(w io.Writer, qs []*Question) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tEXPECT\tGROUP\tQUESTION\tDETAIL")
	for _, q := range qs {
		verdict, want := "ok", "allowed"
		if !q.Pass() {
			verdict = "FAIL"
		}
		if !q.Want {
			want = "denied"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", verdict, want, q.Group, q.Name, q.Detail())
	}
	return tw.Flush()
}

// Groups lists the questions' groups in order, with counts.
func Groups(qs []*Question) map[string]int {
	out := map[string]int{}
	for _, q := range qs {
		out[q.Group]++
	}
	return out
}
