package sqlstore

import (
	"embed"
	"io/fs"
)

//go:embed migrations
var migrations embed.FS

// Migrations returns the embedded migration files of a dialect
// ("sqlite" or "postgres").
func Migrations(dialect string) fs.FS {
	sub, err := fs.Sub(migrations, "migrations/"+dialect)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}
