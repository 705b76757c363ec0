// etcd server built from the etcd module Kubernetes already depends on, so the whole control
// plane comes out of one `go build`.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
