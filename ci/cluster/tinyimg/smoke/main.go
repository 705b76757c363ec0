// smoke: minimal program for the cluster smoke test. Writes "uid=N gid=N <text>" to the file
// named by $SMOKE_FILE (if set), prints it, then sleeps $SMOKE_SLEEP seconds (default 0).
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	msg := fmt.Sprintf("uid=%d gid=%d %s\n", os.Getuid(), os.Getgid(), os.Getenv("SMOKE_TEXT"))
	fmt.Print(msg)
	if f := os.Getenv("SMOKE_FILE"); f != "" {
		if err := os.WriteFile(f, []byte(msg), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(1)
		}
	}
	if s, err := strconv.Atoi(os.Getenv("SMOKE_SLEEP")); err == nil && s > 0 {
		time.Sleep(time.Duration(s) * time.Second)
	}
}
