package main

import (
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestGitHubActionsExample checks that every bic command the example
// workflow runs is one this bic has, with flags and arguments it accepts,
// and that the workflow does the loop README.md describes: validate with
// annotations, the plan and the preview as comments, apply on merge.
func TestGitHubActionsExample(t *testing.T) {
	src, err := os.ReadFile("../../examples/github-actions/bic.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(src, &wf); err != nil {
		t.Fatalf("examples/github-actions/bic.yml: %v", err)
	}
	var commands []string
	for name, job := range wf.Jobs {
		for _, s := range job.Steps {
			for _, line := range strings.Split(s.Run, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "bic ") {
					commands = append(commands, name+": "+strings.TrimSpace(line))
				}
			}
		}
	}
	for _, want := range []string{
		"validate: bic validate --format github",
		"preview: bic plan --env prod --format markdown",
		"preview: bic preview --env \"pr-$PR\" --ttl 7d --wait --format markdown",
		"apply: bic apply --env prod --auto-approve --wait",
	} {
		found := false
		for _, c := range commands {
			found = found || strings.HasPrefix(c, want)
		}
		if !found {
			t.Errorf("the workflow does not run %q; it runs %q", want, commands)
		}
	}
	dir := t.TempDir()
	for _, c := range commands {
		_, line, _ := strings.Cut(c, ": ")
		line, _, _ = strings.Cut(line, " > ") // the output's redirection
		line = strings.NewReplacer(`"$BIC_PROJECT"`, dir, `"pr-$PR"`, "pr-1").Replace(line)
		args := strings.Fields(line)[1:]
		root := newRootCmd()
		cmd, rest, err := root.Find(args)
		if err != nil || cmd == root {
			t.Errorf("%s: no such command: %v", line, err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
			t.Errorf("%s: %v", line, err)
		}
	}
}
