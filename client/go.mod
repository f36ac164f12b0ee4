module github.com/roster-dev/roster/client

go 1.26.8
