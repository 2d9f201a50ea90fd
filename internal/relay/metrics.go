package relay

import (
	"context"
	"net/http"
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
	links       *prometheus.CounterVec
	clicks      *prometheus.CounterVec
	clickSecs   prometheus.Histogram
	forms       *prometheus.CounterVec
	formSecs    prometheus.Histogram
	bookings    *prometheus.CounterVec
	dead        *prometheus.CounterVec
	shed        *prometheus.CounterVec
	connections prometheus.Gauge
	openConns   prometheus.Gauge
	ackSeconds  prometheus.Histogram
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_webhooks_received_total",
			Help: "Webhooks received for a known tenant."}, []string{"tenant"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_rejected_total",
			Help: "Requests refused, by reason (unknown, rate, too_large, timeout, unsigned, malformed, queue_full, quota, store, auth, enroll); tenant is empty when unknown."},
			[]string{"tenant", "reason"}),
		queued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_webhooks_queued_total",
			Help: "Webhooks sealed and durably queued (answered 200)."}, []string{"tenant"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_events_delivered_total",
			Help: "Events acked by the desktop."}, []string{"tenant"}),
		media: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_media_uploaded_total",
			Help: "Images uploaded for LINE to fetch."}, []string{"tenant"}),
		links: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_links_published_total",
			Help: "Tracked-link tokens published by the desktop."}, []string{"tenant"}),
		clicks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_clicks_total",
			Help: "Tracked-link requests, by result (queued; dropped: redirected but not queued, over the tenant's rate or queue; client_limited: redirected but not queued, over the per-address rate; neutral: unknown or expired); tenant is empty for neutral."},
			[]string{"tenant", "result"}),
		clickSecs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tsunagu_relay_click_redirect_seconds",
			Help:    "Time from receiving a tracked-link request to answering it.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .5}}),
		forms: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_form_submits_total",
			Help: "Form submissions, by result (queued; unknown: no such form, tenant empty; too_large; malformed; rate; queue_full; quota; store)."},
			[]string{"tenant", "result"}),
		formSecs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tsunagu_relay_form_submit_seconds",
			Help:    "Time from receiving a form submission to its 202 (queued and fsynced).",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1}}),
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_booking_requests_total",
			Help: "Booking page requests, by result (held; taken: no place left; request: a cancellation queued; unknown; malformed; rate; queue_full; quota; store)."},
			[]string{"tenant", "result"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_dead_lettered_total",
			Help: "Events moved to the dead letters, by reason (deliveries, too_large)."}, []string{"tenant", "reason"}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsunagu_relay_connections_shed_total",
			Help: "TCP connections refused at accept, by reason (per_client, total)."}, []string{"reason"}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tsunagu_relay_connections",
			Help: "Desktop delivery connections open on this instance."}),
		openConns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tsunagu_relay_open_connections",
			Help: "TCP connections admitted on the public listener and open."}),
		ackSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tsunagu_relay_webhook_ack_seconds",
			Help:    "Time from receiving a webhook to answering 200 (sealed and stored).",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2}}),
	}
	m.reg.MustRegister(m.received, m.rejected, m.queued, m.delivered, m.media, m.links, m.clicks, m.clickSecs, m.forms, m.formSecs, m.bookings, m.dead, m.shed, m.connections, m.openConns, m.ackSeconds,
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
	bytesDesc = prometheus.NewDesc("tsunagu_relay_queue_bytes", "Bytes of events queued, per tenant, as the byte quota counts them (by size class).", []string{"tenant"}, nil)
	ageDesc   = prometheus.NewDesc("tsunagu_relay_queue_oldest_age_seconds", "Age of the oldest queued event, per tenant (0 if none).", []string{"tenant"}, nil)
	deadDesc  = prometheus.NewDesc("tsunagu_relay_dead_letters", "Events in the dead letters, per tenant.", []string{"tenant"}, nil)
)

// queueCollector reads queue depth and age from JetStream at scrape time,
// so every instance reports the shared queue's true state.
type queueCollector struct{ s *Server }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- bytesDesc
	ch <- ageDesc
	ch <- deadDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	usages, err := queueUsages(ctx, c.s.o)
	if err != nil {
		return
	}
	dead, _ := deadCounts(ctx, c.s.o)
	c.s.mu.RLock()
	ids := make([]string, 0, len(c.s.tenants))
	for id := range c.s.tenants {
		ids = append(ids, id)
	}
	c.s.mu.RUnlock()
	now := c.s.cfg.Clock()
	for _, id := range ids {
		u := usages[id]
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(u.Count), id)
		ch <- prometheus.MustNewConstMetric(bytesDesc, prometheus.GaugeValue, float64(u.Bytes), id)
		age := 0.0
		if u.Count > 0 {
			for _, subj := range tenantSubjects(id) {
				if m, err := c.s.o.stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subj)); err == nil {
					age = max(age, now.Sub(m.Time).Seconds())
				}
			}
		}
		ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, age, id)
		ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, float64(dead[id]), id)
	}
}
