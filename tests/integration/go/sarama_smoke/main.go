// sarama_smoke: Go's sarama (Debian golang-github-shopify-sarama-dev) against
// braid: a SyncProducer writes N messages, a PartitionConsumer reads them back
// from the oldest offset. Usage: sarama_smoke HOST:PORT TOPIC N
// Prints one JSON line; exits non-zero on failure.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/Shopify/sarama"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sarama_smoke: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 4 {
		fail("usage: sarama_smoke HOST:PORT TOPIC N")
	}
	broker, topic := os.Args[1], os.Args[2]
	n, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fail("bad N: %v", err)
	}
	conf := sarama.NewConfig()
	// V1_0_0_0: Produce v3 (RecordBatch v2), Fetch v4, Metadata v5, ListOffsets v1.
	conf.Version = sarama.V1_0_0_0
	conf.Producer.Return.Successes = true
	conf.Producer.RequiredAcks = sarama.WaitForAll
	conf.Producer.Partitioner = sarama.NewManualPartitioner
	conf.Producer.Compression = sarama.CompressionSnappy
	conf.Consumer.Return.Errors = true

	producer, err := sarama.NewSyncProducer([]string{broker}, conf)
	if err != nil {
		fail("producer: %v", err)
	}
	var offsets []int64
	for i := 0; i < n; i++ {
		_, off, err := producer.SendMessage(&sarama.ProducerMessage{
			Topic: topic, Partition: 0,
			Key:   sarama.StringEncoder(fmt.Sprintf("k%d", i)),
			Value: sarama.StringEncoder(fmt.Sprintf("sarama %d", i)),
		})
		if err != nil {
			fail("send %d: %v", i, err)
		}
		offsets = append(offsets, off)
	}
	if err := producer.Close(); err != nil {
		fail("producer close: %v", err)
	}

	consumer, err := sarama.NewConsumer([]string{broker}, conf)
	if err != nil {
		fail("consumer: %v", err)
	}
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		fail("consume partition: %v", err)
	}
	var values []string
	timeout := time.After(30 * time.Second)
	for len(values) < n {
		select {
		case m := <-pc.Messages():
			values = append(values, string(m.Value))
		case e := <-pc.Errors():
			fail("consumer error: %v", e)
		case <-timeout:
			fail("timed out after %d messages", len(values))
		}
	}
	hwm := pc.HighWaterMarkOffset()
	pc.Close()
	consumer.Close()
	out, _ := json.Marshal(map[string]interface{}{
		"offsets": offsets, "values": values, "high_watermark": hwm,
	})
	fmt.Println(string(out))
}
