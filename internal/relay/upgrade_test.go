package relay

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestEventsOfAnOlderLayoutStillDelivered: a data folder written by a
// relay before size classes (stream subjects hooks.*, one consumer
// filtered on hooks.<tenant>, events on the bare subject) is taken over by
// this one: the stream and consumer are updated in place, the old events
// are delivered first and new ones after them, in order.
func TestEventsOfAnOlderLayoutStillDelivered(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	emb, err := startEmbedded(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := emb.connect()
	js, _ := jetstream.New(nc)
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: streamName, Subjects: []string{"hooks.*"},
		Retention: jetstream.WorkQueuePolicy, MaxMsgsPerSubject: 100, Discard: jetstream.DiscardNew,
		DiscardNewPerSubject: true, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	const tenant = "t0123456789ab"
	if _, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: consumerOf(tenant),
		FilterSubject: "hooks." + tenant, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"old0", "old1"} {
		if _, err := js.Publish(ctx, "hooks."+tenant, []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	nc.Close()
	emb.close()

	s, err := New(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatalf("relay over the older layout: %v", err)
	}
	defer s.Close()
	if _, err := s.o.js.Publish(ctx, subjectOf(tenant, 4), []byte("new0")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.o.ensureConsumer(ctx, tenant, s.cfg.queue()); err != nil {
		t.Fatalf("consumer update: %v", err)
	}
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 3 && time.Now().Before(deadline) {
		msgs, err := s.fetch(ctx, tenant, 10, RequiredMaxPayload)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			got = append(got, string(m.Data))
			m.AckSync()
		}
	}
	if len(got) != 3 || got[0] != "old0" || got[1] != "old1" || got[2] != "new0" {
		t.Fatalf("delivered %q", got)
	}
}
