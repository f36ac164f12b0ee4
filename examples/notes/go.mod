module github.com/roster-dev/roster/examples/notes

go 1.26.8

require github.com/roster-dev/roster/client v0.0.0-00010101000000-000000000000

replace github.com/roster-dev/roster/client => ../../client
