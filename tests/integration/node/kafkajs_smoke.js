// kafkajs 2.2.4 smoke test against braid: admin createTopics /
// fetchTopicMetadata / fetchTopicOffsets, gzip producer, consumer-free read
// back is done by the Python side (kafkajs consumers need consumer groups).
// Usage: node kafkajs_smoke.js HOST:PORT TOPIC
// Prints one JSON line with the results; exits non-zero on failure.
'use strict';
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

async function main() {
  const [broker, topic] = process.argv.slice(2);
  const kafka = new Kafka({ clientId: 'braid-it', brokers: [broker], logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: 2 }],
    waitForLeaders: true,
  });
  const again = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });

  const producer = kafka.producer();
  await producer.connect();
  const sent = [];
  for (let i = 0; i < 3; i++) {
    const r = await producer.send({
      topic,
      compression: CompressionTypes.GZIP,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, j) => ({
        key: `k${j}`, value: `gzip ${i} ${j}`, partition: 0,
      })),
    });
    sent.push(r[0].baseOffset);
  }
  const r1 = await producer.send({ topic, acks: 1, messages: [{ value: 'plain', partition: 1 }] });
  await producer.disconnect();

  const offsets = await admin.fetchTopicOffsets(topic);
  const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, 0);
  const topics = await admin.listTopics();
  await admin.deleteTopics({ topics: [topic] });
  const topicsAfter = await admin.listTopics();
  await admin.disconnect();
  console.log(JSON.stringify({
    created, again,
    partitions: meta.topics[0].partitions.map((p) => ({ id: p.partitionId, leader: p.leader })),
    sent, plainOffset: r1[0].baseOffset,
    offsets: offsets.map((o) => ({ partition: o.partition, high: o.high, low: o.low })),
    byTime: byTime.map((o) => ({ partition: o.partition, offset: o.offset })),
    listed: topics.includes(topic), listedAfterDelete: topicsAfter.includes(topic),
  }));
}

main().catch((e) => {
  console.error('kafkajs_smoke failed:', e && e.stack ? e.stack : e);
  process.exit(1);
});
