package tracker

import (
	"database/sql"
	"fmt"
)

// AddArtifact stores data as artifact name of run id after the run, e.g.
// pictures drawn from a finished run's checkpoint (`vaexp latent`): at step
// (step < 0: the run's last recorded training step, 0 if it has none),
// replacing an artifact of the same name and step. The run may have any
// status. It returns the step used.
func (db *DB) AddArtifact(id int64, name string, step int64, mime string, data []byte) (int64, error) {
	if name == "" {
		return 0, fmt.Errorf("add artifact to run %d: no name", id)
	}
	if data == nil {
		data = []byte{}
	}
	err := db.write(func(tx *sql.Tx) error {
		var err error
		if step, err = afterRunStep(tx, id, step); err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO artifacts(run_id, name, step, mime, data, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(run_id, name, step) DO UPDATE SET mime = excluded.mime, data = excluded.data, created_at = excluded.created_at`,
			id, name, step, mime, data, unixNow())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("add artifact %q to run %d: %w", name, id, err)
	}
	return step, nil
}
