// sarama_group: one member of a sarama (Debian golang-github-shopify-sarama-dev
// 1.22) ConsumerGroup against braid. Usage: sarama_group HOST:PORT GROUP TOPIC
//
// Prints to stdout, one line each:
//   "setup GEN"                     when a session starts (GEN = generation id)
//   "claim partition N"             for every partition of that session
//   "record PARTITION OFFSET VALUE" for every record, before it is marked
//   "cleanup"                       when the session ends
//   "closed"                        after a clean shutdown (SIGTERM/SIGINT)
// Offsets are marked per record and committed by sarama's auto-commit
// (every 200 ms and when a session ends). Exits non-zero on errors.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/Shopify/sarama"
)

var outMu sync.Mutex

func say(format string, args ...interface{}) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sarama_group: "+format+"\n", args...)
	os.Exit(1)
}

type handler struct{}

func (handler) Setup(s sarama.ConsumerGroupSession) error {
	outMu.Lock()
	fmt.Fprintf(os.Stdout, "setup %d\n", s.GenerationID())
	for _, parts := range s.Claims() {
		sorted := append([]int32(nil), parts...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		for _, p := range sorted {
			fmt.Fprintf(os.Stdout, "claim partition %d\n", p)
		}
	}
	outMu.Unlock()
	return nil
}

func (handler) Cleanup(s sarama.ConsumerGroupSession) error {
	say("cleanup")
	return nil
}

func (handler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		say("record %d %d %s", m.Partition, m.Offset, string(m.Value))
		s.MarkMessage(m, "")
	}
	return nil
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: sarama_group HOST:PORT GROUP TOPIC")
	}
	broker, group, topic := os.Args[1], os.Args[2], os.Args[3]
	conf := sarama.NewConfig()
	// ConsumerGroup needs >= V0_10_2_0; V2_0_0_0 uses JoinGroup v3,
	// OffsetCommit v4, Fetch v7 (capped by sarama 1.22 at what it knows).
	conf.Version = sarama.V2_0_0_0
	conf.Consumer.Return.Errors = true
	conf.Consumer.Offsets.Initial = sarama.OffsetOldest
	conf.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	conf.Consumer.Group.Session.Timeout = 6 * time.Second
	conf.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	conf.Consumer.Group.Rebalance.Strategy = sarama.BalanceStrategyRange
	conf.Consumer.Group.Rebalance.Retry.Backoff = 300 * time.Millisecond
	conf.Consumer.Group.Rebalance.Retry.Max = 20

	cg, err := sarama.NewConsumerGroup([]string{broker}, group, conf)
	if err != nil {
		fail("new consumer group: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		cancel()
	}()
	errc := make(chan error, 1)
	go func() {
		for e := range cg.Errors() {
			fmt.Fprintf(os.Stderr, "sarama_group: group error: %v\n", e)
		}
	}()
	go func() {
		for {
			if err := cg.Consume(ctx, []string{topic}, handler{}); err != nil {
				errc <- err
				return
			}
			if ctx.Err() != nil {
				errc <- nil
				return
			}
		}
	}()
	if err := <-errc; err != nil {
		cg.Close()
		fail("consume: %v", err)
	}
	if err := cg.Close(); err != nil {
		fail("close: %v", err)
	}
	say("closed")
}
