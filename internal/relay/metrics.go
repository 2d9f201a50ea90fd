package relay

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the relay's Prometheus metrics, on a registry of their own
// (no global state). Labels carry tenant IDs, never tenant names.
type metrics struct {
	reg         *prometheus.Registry
	received    *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	queued      *prometheus.CounterVec
	delivered   *prometheus.CounterVec
	media       *prometheus.CounterVec
	connections prometheus.Gauge
	ackSeconds  prometheus.Histogram
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_webhooks_received_total",
			Help: "Webhooks received for a known tenant."}, []string{"tenant"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_rejected_total",
			Help: "Requests refused, by reason (unknown, rate, too_large, unsigned, queue_full, store, auth, enroll); tenant is empty when unknown."},
			[]string{"tenant", "reason"}),
		queued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_webhooks_queued_total",
			Help: "Webhooks sealed and durably queued (answered 200)."}, []string{"tenant"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_events_delivered_total",
			Help: "Events acked by the desktop."}, []string{"tenant"}),
		media: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_media_uploaded_total",
			Help: "Images uploaded for LINE to fetch."}, []string{"tenant"}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tsunagu_relay_connections",
			Help: "Desktop delivery connections open on this instance."}),
		ackSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tsunagu_relay_webhook_ack_seconds",
			Help:    "Time from receiving a webhook to answering 200 (sealed and stored).",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2}}),
	}
	m.reg.MustRegister(m.received, m.rejected, m.queued, m.delivered, m.media, m.connections, m.ackSeconds,
		&queueCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// MetricsHandler serves /metrics. Serve it on a private address: the
// tenant IDs and volumes are the operator's business.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}

var (
	depthDesc = prometheus.NewDesc("tsunagu_relay_queue_depth", "Events queued and not yet acked, per tenant.", []string{"tenant"}, nil)
	ageDesc   = prometheus.NewDesc("tsunagu_relay_queue_oldest_age_seconds", "Age of the oldest queued event, per tenant (0 if none).", []string{"tenant"}, nil)
)

// queueCollector reads queue depth and age from JetStream at scrape time,
// so every instance reports the shared queue's true state.
type queueCollector struct{ s *Server }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- ageDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	depths, err := queueDepths(ctx, c.s.o)
	if err != nil {
		return
	}
	c.s.mu.RLock()
	ids := make([]string, 0, len(c.s.tenants))
	for id := range c.s.tenants {
		ids = append(ids, id)
	}
	c.s.mu.RUnlock()
	now := c.s.cfg.Clock()
	for _, id := range ids {
		n := depths[id]
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(n), id)
		age := 0.0
		if n > 0 {
			if m, err := c.s.o.stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subjectOf(id))); err == nil {
				age = max(now.Sub(m.Time).Seconds(), 0)
			}
		}
		ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, age, id)
	}
}

// queueDepths returns the number of queued events per tenant ID.
func queueDepths(ctx context.Context, o *jsObjects) (map[string]uint64, error) {
	si, err := o.stream.Info(ctx, jetstream.WithSubjectFilter(subjectPrefix+"*"))
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for subj, n := range si.State.Subjects {
		out[strings.TrimPrefix(subj, subjectPrefix)] = n
	}
	return out, nil
}
