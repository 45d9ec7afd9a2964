package ipv6_test

import (
	"os"
	"testing"

	"github.com/nexthop-router/nexthop/stack"
)

func TestMain(m *testing.M) {
	stack.SetLeakCheck(true)
	os.Exit(m.Run())
}
