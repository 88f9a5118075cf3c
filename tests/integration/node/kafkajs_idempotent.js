// kafkajs 2.2.4 idempotent producer against braid: sends N records one per
// send() (acks=-1, idempotent, maxInFlightRequests=1) with value "seq-I" to
// partition I % PARTITIONS; retries are left to kafkajs (generous budget) so
// that broker restarts and lost responses happen under it.
// Usage: node kafkajs_idempotent.js HOST:PORT TOPIC N PARTITIONS
// Prints "sent I" after every acknowledged record and "done" at the end;
// exits non-zero on failure.
'use strict';
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [broker, topic, nArg, partsArg] = process.argv.slice(2);
  const n = parseInt(nArg, 10);
  const parts = parseInt(partsArg, 10);
  const kafka = new Kafka({
    clientId: 'braid-it-idem',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < n; i++) {
    await producer.send({
      topic,
      acks: -1,
      messages: [{ value: `seq-${i}`, partition: i % parts }],
    });
    process.stdout.write(`sent ${i}\n`);
  }
  await producer.disconnect();
  process.stdout.write('done\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
