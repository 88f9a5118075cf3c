// kafka-go (Debian's golang-github-segmentio-kafka-go-dev 0.2.1, built in
// GOPATH mode) against braid.
//
//	kafkago produce BROKER TOPIC N [PREFIX]
//	                                   writes N messages with each codec kafka-go
//	                                   has (none, gzip, snappy, lz4): Produce v2,
//	                                   magic 1 MessageSets; prints one JSON line
//	kafkago consume BROKER TOPIC GROUP a group reader (JoinGroup v1, SyncGroup
//	                                   v0, Fetch v2, OffsetCommit v2) printing
//	                                   "MSG <partition> <offset> <value>" for
//	                                   every message after its synchronous
//	                                   commit, and kafka-go's own log lines
//	                                   prefixed "LOG "; SIGTERM closes it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func produce(broker, topic string, n int, prefix string) {
	codecs := []struct {
		name  string
		codec kafka.CompressionCodec
	}{
		{"none", nil},
		{"gzip", gzip.NewCompressionCodec()},
		{"snappy", snappy.NewCompressionCodec()},
		{"lz4", lz4.NewCompressionCodec()},
	}
	written := 0
	for _, c := range codecs {
		w := kafka.NewWriter(kafka.WriterConfig{
			Brokers:          []string{broker},
			Topic:            topic,
			BatchSize:        10,
			BatchTimeout:     20 * time.Millisecond,
			RequiredAcks:     -1,
			CompressionCodec: c.codec,
		})
		msgs := make([]kafka.Message, 0, n)
		for i := 0; i < n; i++ {
			msgs = append(msgs, kafka.Message{
				Key:   []byte(fmt.Sprintf("%s%s-key-%d", prefix, c.name, i)),
				Value: []byte(fmt.Sprintf("%s%s-value-%d", prefix, c.name, i)),
			})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			fail("write %s: %v", c.name, err)
		}
		cancel()
		if err := w.Close(); err != nil {
			fail("close writer %s: %v", c.name, err)
		}
		written += n
	}
	out, _ := json.Marshal(map[string]int{"written": written})
	fmt.Println(string(out))
}

type prefixWriter struct{ prefix string }

func (p prefixWriter) Write(b []byte) (int, error) {
	os.Stdout.Write(append([]byte(p.prefix), b...))
	return len(b), nil
}

func consume(broker, topic, group string) {
	logger := log.New(prefixWriter{"LOG "}, "", 0)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           []string{broker},
		Topic:             topic,
		GroupID:           group,
		MinBytes:          1,
		MaxBytes:          1 << 20,
		MaxWait:           200 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		HeartbeatInterval: 500 * time.Millisecond,
		RebalanceTimeout:  6 * time.Second,
		Logger:            logger,
		ErrorLogger:       logger,
	})
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		cancel()
	}()
	for {
		m, err := r.ReadMessage(ctx) // commits synchronously before returning
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fmt.Printf("LOG read error: %v\n", err)
			continue
		}
		fmt.Printf("MSG %d %d %s\n", m.Partition, m.Offset, string(m.Value))
	}
	if err := r.Close(); err != nil {
		fmt.Printf("LOG close: %v\n", err)
	}
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: kafkago produce BROKER TOPIC N [PREFIX] | consume BROKER TOPIC GROUP")
	}
	switch os.Args[1] {
	case "produce":
		n, err := strconv.Atoi(os.Args[4])
		if err != nil {
			fail("bad N: %v", err)
		}
		prefix := ""
		if len(os.Args) > 5 {
			prefix = os.Args[5]
		}
		produce(os.Args[2], os.Args[3], n, prefix)
	case "consume":
		consume(os.Args[2], os.Args[3], os.Args[4])
	default:
		fail("unknown mode %s", os.Args[1])
	}
}
