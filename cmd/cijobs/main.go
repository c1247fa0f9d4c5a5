// Command cijobs runs one job of a GitHub workflow on this machine, step by
// step, the way a fresh runner would: every `run` step in order with the
// job's and step's environment, the step's `if` evaluated, and the few
// actions the workflows use stood in for. It is how tools/ci/jobs-check.sh
// proves that each job's own commands work on a fresh clone.
//
//	go run ./cmd/cijobs -workflow .github/workflows/deploy-stack.yml -job deploy \
//	    -set inputs.stack=dev -set inputs.mode=apply -artifacts DIR
//
// Stand-ins: checkout (the clone is the working directory), setup-go,
// setup-node and setup-terraform (the machine's tools), configure-aws-
// credentials (nothing: the caller runs offline, LZ_OFFLINE=1),
// upload-artifact and download-artifact (a folder per artifact under
// -artifacts). Any other action, or an expression it cannot evaluate, is an
// error: the check must not silently skip a step.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

type workflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]job    `yaml:"jobs"`
}

type job struct {
	Env   map[string]string `yaml:"env"`
	Steps []step            `yaml:"steps"`
}

type step struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	If   string            `yaml:"if"`
	Env  map[string]string `yaml:"env"`
	With map[string]string `yaml:"with"`
}

type values map[string]string

func (v values) String() string { return fmt.Sprint(map[string]string(v)) }

func (v values) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	v[k] = val
	return nil
}

func main() {
	vals := values{}
	file := flag.String("workflow", "", "workflow file")
	name := flag.String("job", "", "job ID")
	artifacts := flag.String("artifacts", "", "folder holding uploaded artifacts")
	flag.Var(vals, "set", "an expression's value, e.g. matrix.stack=dev (repeatable)")
	flag.Parse()
	if err := run(*file, *name, *artifacts, vals); err != nil {
		fmt.Fprintln(os.Stderr, "cijobs:", err)
		os.Exit(1)
	}
}

func run(file, name, artifacts string, vals values) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	j, ok := w.Jobs[name]
	if !ok {
		return fmt.Errorf("%s has no job %q", file, name)
	}
	env := map[string]string{}
	for _, m := range []map[string]string{w.Env, j.Env} {
		for k, v := range m {
			env[k] = v
			vals["env."+k] = v
		}
	}
	for k, v := range env {
		if env[k], err = expand(v, vals); err != nil {
			return err
		}
	}
	for i, s := range j.Steps {
		label := fmt.Sprintf("%s/%s step %d (%s)", filepath.Base(file), name, i+1, firstOf(s.Name, s.Uses))
		if s.If != "" {
			ok, err := condition(s.If, vals)
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			if !ok {
				fmt.Printf("-- %s: skipped (if: %s)\n", label, s.If)
				continue
			}
		}
		start := time.Now()
		if err := runStep(s, env, vals, artifacts); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		fmt.Printf("-- %s: %.1fs\n", label, time.Since(start).Seconds())
	}
	return nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func runStep(s step, jobEnv map[string]string, vals values, artifacts string) error {
	if s.Uses != "" {
		return standIn(s, vals, artifacts)
	}
	script, err := expand(s.Run, vals)
	if err != nil {
		return err
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = os.Environ()
	for _, m := range []map[string]string{jobEnv, s.Env} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, err := expand(m[k], vals)
			if err != nil {
				return err
			}
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	return cmd.Run()
}

// standIn does what an action would on a runner, or refuses.
func standIn(s step, vals values, artifacts string) error {
	action, _, _ := strings.Cut(s.Uses, "@")
	switch action {
	case "actions/checkout", "actions/setup-go", "actions/setup-node", "hashicorp/setup-terraform":
		fmt.Printf("   %s: the clone and this machine's tools stand in\n", action)
		return nil
	case "aws-actions/configure-aws-credentials":
		if os.Getenv("LZ_OFFLINE") == "" {
			return fmt.Errorf("%s: run offline (LZ_OFFLINE=1): there are no AWS credentials here", action)
		}
		fmt.Printf("   %s: offline stacks need no credentials\n", action)
		return nil
	case "actions/upload-artifact", "actions/download-artifact":
		if artifacts == "" {
			return fmt.Errorf("%s needs -artifacts", action)
		}
		name, err := expand(s.With["name"], vals)
		if err != nil {
			return err
		}
		dir := filepath.Join(artifacts, name)
		if action == "actions/upload-artifact" {
			return upload(s.With["path"], dir, vals)
		}
		path, err := expand(s.With["path"], vals)
		if err != nil {
			return err
		}
		return copyDir(dir, path)
	}
	return fmt.Errorf("no stand-in for %s", s.Uses)
}

// upload copies each listed file into the artifact folder, flat, as
// upload-artifact does for files under one common parent.
func upload(paths, dir string, vals values) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	paths, err := expand(paths, vals)
	if err != nil {
		return err
	}
	for _, p := range strings.Fields(paths) {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("upload: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			return err
		}
		fmt.Printf("   uploaded %s\n", p)
	}
	return nil
}

func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("download: no artifact: %w", err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return err
		}
		fmt.Printf("   downloaded %s\n", filepath.Join(dst, e.Name()))
	}
	return nil
}

var exprRe = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// expand replaces ${{ name }} with its value; an unknown name is an error.
func expand(s string, vals values) (string, error) {
	var missing []string
	out := exprRe.ReplaceAllStringFunc(s, func(m string) string {
		key := exprRe.FindStringSubmatch(m)[1]
		v, ok := vals[key]
		if !ok {
			missing = append(missing, key)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for %s (pass -set %s=...)", strings.Join(missing, ", "), missing[0])
	}
	return out, nil
}

var condRe = regexp.MustCompile(`^([a-z_.-]+)\s*(==|!=)\s*'([^']*)'$`)

// condition evaluates the one form the workflows use: NAME == 'value' or
// NAME != 'value'.
func condition(expr string, vals values) (bool, error) {
	m := condRe.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		return false, fmt.Errorf("cannot evaluate if: %s", expr)
	}
	v, ok := vals[m[1]]
	if !ok {
		return false, fmt.Errorf("no value for %s in if: %s", m[1], expr)
	}
	return (v == m[3]) == (m[2] == "=="), nil
}
