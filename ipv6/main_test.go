package ipv6_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/nexthop-router/nexthop/stack"
)

func TestMain(m *testing.M) {
	stack.SetLeakCheck(true)
	code := m.Run()
	if err := stack.CheckLeaks(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
