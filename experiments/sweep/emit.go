package sweep

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EmitOptions configure the job scripts EmitSlurm and EmitK8s write.
type EmitOptions struct {
	// Dir is where every task writes its tracker file (task-<i>.db) and its
	// runs folder (task-<i>/): a folder every node sees (Slurm), or the
	// mount point of the results volume (Kubernetes, default /results).
	Dir string
	// Binary is the vaexp executable on the nodes (Slurm; overridable at
	// submission with $VAEXP).
	Binary string
	// Threads is each task's backend parallelism (and cpus-per-task).
	Threads int
	// Partition and Time are Slurm's --partition and --time (optional).
	Partition, Time string
	// Image is the container image holding vaexp (Kubernetes).
	Image string
	// Parallelism is how many pods run at once (Kubernetes; 0: all).
	Parallelism int
	// Claim is the PersistentVolumeClaim mounted at Dir (Kubernetes).
	Claim string
}

// specDelimiter ends the spec's here-document in the Slurm script.
const specDelimiter = "VAEXP_SWEEP_SPEC_END"

// EmitSlurm returns an sbatch script running the sweep as a Slurm job
// array: task i runs trial i (`vaexp sweep trial`) into its own tracker
// file, since a SQLite file shared over NFS is not safe. The spec travels
// inside the script. Halving needs one controller deciding every rung and
// is refused: run it with `vaexp sweep run`.
func EmitSlurm(s *Spec, o EmitOptions) (string, error) {
	n, err := emitCheck(s)
	if err != nil {
		return "", err
	}
	if strings.Contains(s.Text, specDelimiter) {
		return "", fmt.Errorf("the spec contains the line %s, which ends the script's copy of it; remove it", specDelimiter)
	}
	if o.Dir == "" {
		o.Dir = "sweep-" + s.Name
	}
	threads := max(1, o.Threads)
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# vaexp sweep %q: %d trials (%s) as a Slurm job array, emitted by `vaexp sweep emit --slurm`.\n", s.Name, n, s.Method)
	fmt.Fprintf(&b, "# Task i runs trial i into its own tracker file %s/task-<i>.db.\n", o.Dir)
	fmt.Fprintf(&b, "#   sbatch %s.sbatch          (sbatch --wait ... blocks until every task ended)\n", s.Name)
	fmt.Fprintf(&b, "# Then bring the results together (merging is idempotent: run it again as tasks finish):\n")
	fmt.Fprintf(&b, "#   vaexp tracker merge %s/task-*.db --into %s/sweep.db\n", o.Dir, o.Dir)
	fmt.Fprintf(&b, "#   vaexp --db %s/sweep.db sweep status %s\n", o.Dir, s.Name)
	fmt.Fprintf(&b, "# A failed task is rerun alone with: sbatch --array=<i> %s.sbatch\n", s.Name)
	fmt.Fprintf(&b, "#SBATCH --job-name=vaexp-%s\n", s.Name)
	fmt.Fprintf(&b, "#SBATCH --array=0-%d\n", n-1)
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", threads)
	fmt.Fprintf(&b, "#SBATCH --output=%s/slurm-%%A_%%a.out\n", o.Dir)
	if o.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", o.Partition)
	}
	if o.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", o.Time)
	}
	fmt.Fprintf(&b, "set -euo pipefail\n")
	fmt.Fprintf(&b, "VAEXP=\"${VAEXP:-%s}\"\n", o.Binary)
	fmt.Fprintf(&b, "DIR=%s\n", shellQuote(o.Dir))
	fmt.Fprintf(&b, "I=\"${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}\"\n")
	fmt.Fprintf(&b, "mkdir -p \"$DIR/task-$I\"\n")
	fmt.Fprintf(&b, "cat > \"$DIR/task-$I.yaml\" <<'%s'\n%s", specDelimiter, s.Text)
	if !strings.HasSuffix(s.Text, "\n") {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s\n", specDelimiter)
	fmt.Fprintf(&b, "export GOMLX_BACKEND=\"${GOMLX_BACKEND:-go:parallelism=${SLURM_CPUS_PER_TASK:-%d}}\"\n", threads)
	fmt.Fprintf(&b, "exec \"$VAEXP\" --db \"$DIR/task-$I.db\" --out \"$DIR/task-$I\" sweep trial \"$DIR/task-$I.yaml\" --index \"$I\" --name %s\n", s.Name)
	return b.String(), nil
}

func emitCheck(s *Spec) (int, error) {
	if s.Method == "halving" {
		return 0, fmt.Errorf("method halving needs one controller deciding every rung: run it with `vaexp sweep run`; job arrays run grid and random sweeps")
	}
	defs, err := s.Expand()
	if err != nil {
		return 0, err
	}
	return len(defs), nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// EmitK8s returns a Kubernetes manifest running the sweep as an Indexed
// Job (pod i runs trial i, from $JOB_COMPLETION_INDEX) plus the ConfigMap
// holding the spec. Every pod writes its own tracker file on the volume of
// o.Claim mounted at o.Dir; merge them afterwards with `vaexp tracker
// merge`. Halving is refused, as for Slurm.
func EmitK8s(s *Spec, o EmitOptions) (string, error) {
	n, err := emitCheck(s)
	if err != nil {
		return "", err
	}
	if o.Dir == "" {
		o.Dir = "/results"
	}
	if o.Image == "" {
		return "", fmt.Errorf("--image: give the container image that holds vaexp (e.g. registry.example.com/vaexp:v1)")
	}
	if o.Claim == "" {
		o.Claim = "vaexp-results"
	}
	threads := max(1, o.Threads)
	par := o.Parallelism
	if par <= 0 || par > n {
		par = n
	}
	name := "vaexp-" + strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(s.Name))
	cm := map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": name + "-spec", "labels": map[string]any{"app": "vaexp", "vaexp-sweep": name}},
		"data":       map[string]any{"sweep.yaml": s.Text},
	}
	cmd := fmt.Sprintf(`exec vaexp --db %[1]s/task-$JOB_COMPLETION_INDEX.db --out %[1]s/task-$JOB_COMPLETION_INDEX `+
		`sweep trial /spec/sweep.yaml --index $JOB_COMPLETION_INDEX --name %[2]s`, o.Dir, s.Name)
	job := map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   map[string]any{"name": name, "labels": map[string]any{"app": "vaexp", "vaexp-sweep": name}},
		"spec": map[string]any{
			"completionMode":       "Indexed",
			"completions":          n,
			"parallelism":          par,
			"backoffLimitPerIndex": 2,
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "vaexp", "vaexp-sweep": name}},
				"spec": map[string]any{
					"restartPolicy": "Never",
					"containers": []any{map[string]any{
						"name":    "trial",
						"image":   o.Image,
						"command": []any{"/bin/sh", "-c", cmd},
						"env":     []any{map[string]any{"name": "GOMLX_BACKEND", "value": fmt.Sprintf("go:parallelism=%d", threads)}},
						"resources": map[string]any{
							"requests": map[string]any{"cpu": fmt.Sprint(threads), "memory": "2Gi"},
							"limits":   map[string]any{"cpu": fmt.Sprint(threads), "memory": "4Gi"},
						},
						"volumeMounts": []any{
							map[string]any{"name": "spec", "mountPath": "/spec", "readOnly": true},
							map[string]any{"name": "results", "mountPath": o.Dir},
						},
					}},
					"volumes": []any{
						map[string]any{"name": "spec", "configMap": map[string]any{"name": name + "-spec"}},
						map[string]any{"name": "results", "persistentVolumeClaim": map[string]any{"claimName": o.Claim}},
					},
				},
			},
		},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# vaexp sweep %q: %d trials (%s) as a Kubernetes Indexed Job, emitted by `vaexp sweep emit --k8s`.\n", s.Name, n, s.Method)
	fmt.Fprintf(&b, "#   kubectl apply -f %s.yaml; kubectl wait --for=condition=complete job/%s --timeout=24h\n", s.Name, name)
	fmt.Fprintf(&b, "# Pod i runs trial i into %s/task-<i>.db on the volume %s; then, with the volume mounted:\n", o.Dir, o.Claim)
	fmt.Fprintf(&b, "#   vaexp tracker merge %s/task-*.db --into sweep.db && vaexp --db sweep.db sweep status %s\n", o.Dir, s.Name)
	for i, doc := range []any{cm, job} {
		if i > 0 {
			b.WriteString("---\n")
		}
		raw, err := yaml.Marshal(doc)
		if err != nil {
			return "", err
		}
		b.Write(raw)
	}
	return b.String(), nil
}
