package sweep

import (
	"errors"
	"io"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const tinyGrid = "name: tiny\nmodel: vae\ntrain: {steps: 4}\nmethod: grid\nspace: {latent_dim: [2, 4, 8]}\nseeds: 2\n"

// TestEmitK8s validates the Indexed Job manifest structurally: it parses
// as YAML, has the fields an Indexed Job needs, runs `sweep trial` with the
// completion index, and carries the spec unchanged in its ConfigMap.
func TestEmitK8s(t *testing.T) {
	s := mustParse(t, tinyGrid)
	out, err := EmitK8s(s, EmitOptions{Image: "example.com/vaexp:v1", Threads: 2, Parallelism: 4, Claim: "results"})
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(out))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("manifest is not YAML: %v\n%s", err, out)
		}
		docs = append(docs, d)
	}
	if len(docs) != 2 || docs[0]["kind"] != "ConfigMap" || docs[1]["kind"] != "Job" || docs[1]["apiVersion"] != "batch/v1" {
		t.Fatalf("documents: %v", docs)
	}
	get := func(m any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m = m.(map[string]any)[k]
			case int:
				m = m.([]any)[k]
			}
		}
		return m
	}
	job := docs[1]
	for _, c := range []struct {
		path []any
		want any
	}{
		{[]any{"spec", "completionMode"}, "Indexed"},
		{[]any{"spec", "completions"}, 6},
		{[]any{"spec", "parallelism"}, 4},
		{[]any{"spec", "template", "spec", "restartPolicy"}, "Never"},
		{[]any{"spec", "template", "spec", "containers", 0, "image"}, "example.com/vaexp:v1"},
		{[]any{"spec", "template", "spec", "containers", 0, "env", 0, "value"}, "go:parallelism=2"},
		{[]any{"spec", "template", "spec", "containers", 0, "volumeMounts", 1, "mountPath"}, "/results"},
		{[]any{"spec", "template", "spec", "volumes", 0, "configMap", "name"}, get(docs[0], "metadata", "name")},
		{[]any{"spec", "template", "spec", "volumes", 1, "persistentVolumeClaim", "claimName"}, "results"},
	} {
		if got := get(job, c.path...); got != c.want {
			t.Errorf("%v = %v, want %v", c.path, got, c.want)
		}
	}
	cmd := get(job, "spec", "template", "spec", "containers", 0, "command").([]any)
	script := cmd[2].(string)
	for _, w := range []string{"sweep trial /spec/sweep.yaml", "--index $JOB_COMPLETION_INDEX", "--db /results/task-$JOB_COMPLETION_INDEX.db", "--name tiny"} {
		if !strings.Contains(script, w) {
			t.Errorf("container command %q lacks %q", script, w)
		}
	}
	text := get(docs[0], "data", "sweep.yaml").(string)
	if text != s.Text {
		t.Errorf("ConfigMap spec differs:\n%s\nwant\n%s", text, s.Text)
	}
	if _, err := EmitK8s(s, EmitOptions{}); err == nil || !strings.Contains(err.Error(), "--image") {
		t.Errorf("no image: %v", err)
	}
}

// TestEmitSlurm checks the sbatch script's array and that the spec it
// carries expands to the same trials. (The script runs on a real Slurm
// cluster in .ci/slurm-e2e.sh.)
func TestEmitSlurm(t *testing.T) {
	s := mustParse(t, tinyGrid)
	out, err := EmitSlurm(s, EmitOptions{Binary: "/opt/vaexp", Dir: "/shared/tiny", Threads: 1, Partition: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"#!/bin/bash\n", "#SBATCH --array=0-5\n", "#SBATCH --partition=debug\n", "#SBATCH --cpus-per-task=1\n",
		`VAEXP="${VAEXP:-/opt/vaexp}"`, `--index "$I" --name tiny`, "vaexp tracker merge /shared/tiny/task-*.db"} {
		if !strings.Contains(out, w) {
			t.Errorf("script lacks %q:\n%s", w, out)
		}
	}
	_, rest, _ := strings.Cut(out, "<<'"+specDelimiter+"'\n")
	carried, _, ok := strings.Cut(rest, specDelimiter+"\n")
	if !ok {
		t.Fatalf("no here-document in:\n%s", out)
	}
	again, err := Parse("carried.yaml", []byte(carried))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Expand()
	b, _ := again.Expand()
	if len(a) != len(b) || a[5].Config != b[5].Config || s.Text != again.Text {
		t.Errorf("the carried spec expands differently")
	}
	h := mustParse(t, "model: vae\nmethod: halving\nspace: {latent_dim: [2, 4, 8]}\nhalving: {min: 1, max: 3, unit: steps}\n")
	if _, err := EmitSlurm(h, EmitOptions{}); err == nil || !strings.Contains(err.Error(), "one controller") {
		t.Errorf("halving on a job array: %v", err)
	}
}
