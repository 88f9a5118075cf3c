// A kafkajs 2.2.4 group consumer for test_groups.py:
//   node kafkajs_group.js BOOTSTRAP GROUP TOPIC
// Prints "ASSIGN p,q,..." after every join and "MSG <value>" for every record
// after committing it. Stops on SIGTERM (leaves the group cleanly).
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, group, topic] = process.argv.slice(2);
const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, clientId: 'kjs-group' });
// A short session (a killed member is taken over after it, as in Kafka), so
// the long poll must be shorter still: kafkajs heartbeats and rejoins only
// between fetches (default maxWaitTimeInMs 5000 would outlast the session).
const consumer = kafka.consumer({
  groupId: group,
  sessionTimeout: 6000,
  heartbeatInterval: 500,
  maxWaitTimeInMs: 500,
});

consumer.on(consumer.events.GROUP_JOIN, (e) => {
  const parts = (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b);
  console.log('ASSIGN ' + parts.join(','));
});

(async () => {
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic: t, partition, message }) => {
      await consumer.commitOffsets([
        { topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() },
      ]);
      console.log('MSG ' + message.value.toString());
    },
  });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

const stop = async () => {
  try {
    await consumer.disconnect();
  } finally {
    process.exit(0);
  }
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
