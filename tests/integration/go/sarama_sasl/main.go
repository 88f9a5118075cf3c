// sarama_sasl: Go's sarama (Debian golang-github-shopify-sarama-dev) with
// SASL against braid: a SyncProducer writes 5 messages, a PartitionConsumer
// reads them back. SCRAM needs a client implementation: a small one over the
// standard library (RFC 5802) is below, as sarama leaves it to the user.
// Usage: sarama_sasl HOST:PORT PLAIN|SCRAM-SHA-256|SCRAM-SHA-512 CA_FILE|"" USER PASSWORD TOPIC
// Prints one JSON line; exits non-zero on failure.
package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/ioutil"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sarama_sasl: "+format+"\n", args...)
	os.Exit(1)
}

func pbkdf2(h func() hash.Hash, password, salt []byte, iter, keyLen int) []byte {
	prf := hmac.New(h, password)
	var out []byte
	for block := uint32(1); len(out) < keyLen; block++ {
		prf.Reset()
		prf.Write(salt)
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], block)
		prf.Write(b[:])
		u := prf.Sum(nil)
		t := append([]byte(nil), u...)
		for i := 1; i < iter; i++ {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(nil)
			for j := range t {
				t[j] ^= u[j]
			}
		}
		out = append(out, t...)
	}
	return out[:keyLen]
}

type scramClient struct {
	h                          func() hash.Hash
	user, password, nonce      string
	firstBare, authMsg         string
	salted                     []byte
	step                       int
	done                       bool
}

func (c *scramClient) mac(key []byte, msg string) []byte {
	m := hmac.New(c.h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (c *scramClient) Begin(user, password, authz string) error {
	c.user, c.password = user, password
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	c.nonce = base64.RawURLEncoding.EncodeToString(b)
	return nil
}

func (c *scramClient) Step(challenge string) (string, error) {
	c.step++
	switch c.step {
	case 1:
		c.firstBare = "n=" + c.user + ",r=" + c.nonce
		return "n,," + c.firstBare, nil
	case 2:
		attrs := map[string]string{}
		for _, kv := range strings.Split(challenge, ",") {
			if len(kv) > 2 {
				attrs[kv[:1]] = kv[2:]
			}
		}
		if !strings.HasPrefix(attrs["r"], c.nonce) {
			return "", errors.New("bad server nonce")
		}
		salt, err := base64.StdEncoding.DecodeString(attrs["s"])
		if err != nil {
			return "", err
		}
		iter, err := strconv.Atoi(attrs["i"])
		if err != nil {
			return "", err
		}
		c.salted = pbkdf2(c.h, []byte(c.password), salt, iter, c.h().Size())
		withoutProof := "c=biws,r=" + attrs["r"]
		c.authMsg = c.firstBare + "," + challenge + "," + withoutProof
		clientKey := c.mac(c.salted, "Client Key")
		sum := c.h()
		sum.Write(clientKey)
		sig := c.mac(sum.Sum(nil), c.authMsg)
		proof := make([]byte, len(clientKey))
		for i := range clientKey {
			proof[i] = clientKey[i] ^ sig[i]
		}
		return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
	default:
		expect := c.mac(c.mac(c.salted, "Server Key"), c.authMsg)
		if challenge != "v="+base64.StdEncoding.EncodeToString(expect) {
			return "", errors.New("bad server signature")
		}
		c.done = true
		return "", nil
	}
}

func (c *scramClient) Done() bool { return c.done }

func main() {
	if len(os.Args) != 7 {
		fail("usage: sarama_sasl HOST:PORT MECHANISM CA_FILE USER PASSWORD TOPIC")
	}
	broker, mech, ca, user, password, topic := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6]
	conf := sarama.NewConfig()
	conf.Version = sarama.V1_0_0_0
	conf.Net.DialTimeout = 5 * time.Second
	conf.Metadata.Retry.Max = 1
	conf.Producer.Return.Successes = true
	conf.Producer.RequiredAcks = sarama.WaitForAll
	conf.Producer.Partitioner = sarama.NewManualPartitioner
	conf.Net.SASL.Enable = true
	conf.Net.SASL.User = user
	conf.Net.SASL.Password = password
	conf.Net.SASL.Handshake = true
	conf.Net.SASL.Mechanism = sarama.SASLMechanism(mech)
	// This sarama (Debian's) sends PLAIN as raw tokens after SaslHandshake
	// v0 when configured for Kafka < 1.0 (exercised here), and SCRAM through
	// SaslHandshake v1 + SaslAuthenticate.
	if mech == "PLAIN" {
		conf.Version = sarama.V0_10_2_0
	} else {
		h := sha512.New
		if mech == "SCRAM-SHA-256" {
			h = sha256.New
		}
		conf.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{h: h} }
	}
	if ca != "" {
		pem, err := ioutil.ReadFile(ca)
		if err != nil {
			fail("ca: %v", err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		conf.Net.TLS.Enable = true
		conf.Net.TLS.Config = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	producer, err := sarama.NewSyncProducer([]string{broker}, conf)
	if err != nil {
		fail("producer: %v", err)
	}
	for i := 0; i < 5; i++ {
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{
			Topic: topic, Partition: 0, Value: sarama.StringEncoder(fmt.Sprintf("sarama %d", i)),
		}); err != nil {
			fail("send: %v", err)
		}
	}
	producer.Close()
	consumer, err := sarama.NewConsumer([]string{broker}, conf)
	if err != nil {
		fail("consumer: %v", err)
	}
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		fail("consume: %v", err)
	}
	var values []string
	timeout := time.After(60 * time.Second)
	for len(values) < 5 {
		select {
		case m := <-pc.Messages():
			values = append(values, string(m.Value))
		case <-timeout:
			fail("timed out consuming")
		}
	}
	pc.Close()
	consumer.Close()
	out, _ := json.Marshal(map[string]interface{}{"values": values})
	fmt.Println(string(out))
}
