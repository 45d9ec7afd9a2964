package netbench

import (
	"encoding/json"
	"errors"
	"fmt"
)

// IperfResult is what the benchmark takes from `iperf3 -c ... -J`.
type IperfResult struct {
	// Gbps is the goodput the receiver saw (end.sum_received).
	Gbps float64
	// Retransmits is the sender's TCP retransmissions (end.sum_sent).
	Retransmits int
}

// ParseIperf3 reads the JSON iperf3 prints with -J. iperf3 reports its own
// failures (connection refused, …) in an "error" field with exit status 1;
// that text is returned as the error.
func ParseIperf3(data []byte) (IperfResult, error) {
	var doc struct {
		Error string `json:"error"`
		End   struct {
			SumSent *struct {
				Retransmits int `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived *struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return IperfResult{}, fmt.Errorf("iperf3 -J output: %v", err)
	}
	if doc.Error != "" {
		return IperfResult{}, fmt.Errorf("iperf3: %s", doc.Error)
	}
	if doc.End.SumReceived == nil || doc.End.SumSent == nil {
		return IperfResult{}, errors.New("iperf3 -J output has no end.sum_sent/sum_received (run cut short?)")
	}
	return IperfResult{Gbps: doc.End.SumReceived.BitsPerSecond / 1e9, Retransmits: doc.End.SumSent.Retransmits}, nil
}
