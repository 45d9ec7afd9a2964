package ipv6_test

import (
	"os"
	"testing"

	"github.com/nexthop-router/nexthop/stack"
)

func TestMain(m *testing.M) { os.Exit(stack.RunTestsWithLeakCheck(m)) }
