// kafkajs 2.2.4 with SASL against braid: produce 5 messages, consume them
// with a consumer group. Usage:
//   node kafkajs_sasl.js HOST:PORT MECHANISM CA_FILE|"" USER PASSWORD TOPIC
// MECHANISM: plain | scram-sha-256 | scram-sha-512; a CA file turns TLS on.
// Prints one JSON line; exits non-zero on failure (e.g. authentication).
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [broker, mechanism, ca, username, password, topic] = process.argv.slice(2);
  const kafka = new Kafka({
    clientId: 'braid-it-sasl',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    ssl: ca ? { ca: [fs.readFileSync(ca, 'utf-8')] } : false,
    sasl: { mechanism, username, password },
    retry: { retries: 1 },
    connectionTimeout: 5000,
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: 5 }, (_, i) => ({ value: `kjs ${i}` })),
  });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `g-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out consuming')), 60000);
    consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value.toString());
        if (values.length >= 5) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  console.log(JSON.stringify({ values }));
}

main().catch((e) => {
  console.error('kafkajs_sasl failed:', e && e.name, e && e.message);
  process.exit(1);
});
