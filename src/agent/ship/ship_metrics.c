/*
 * ship_metrics.c — the shipper's counters as Prometheus text exposition (version 0.0.4), for
 * the agent's /metrics endpoint. Names are logflux_agent_ship_*; counters end in _total.
 * last_error is not exported (text belongs in logs and the status API, not in a label).
 */
#include "ship/ship_int.h"

static void metric(lf_buf *out, const char *name, const char *type, const char *help,
                   uint64_t value)
{
    lf_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
                  (unsigned long long)value);
}

void lf_agent_ship_write_metrics(lf_agent_ship *s, lf_buf *out)
{
    lf_agent_ship_stats st;
    lf_agent_ship_stats_get(s, &st);
#define COUNTER(n, help, v) metric(out, "logflux_agent_ship_" n, "counter", help, (v))
#define GAUGE(n, help, v)   metric(out, "logflux_agent_ship_" n, "gauge", help, (v))
    COUNTER("requests_total", "HTTP requests sent to logfluxd, retries included.", st.requests);
    COUNTER("connections_total", "TCP/TLS connections opened (keep-alive keeps this low).",
            st.connections);
    lf_buf_printf(out, "# HELP logflux_agent_ship_responses_total Answers by HTTP status class "
                       "(class=\"network\": no answer).\n"
                       "# TYPE logflux_agent_ship_responses_total counter\n");
    const struct {
        const char *cls;
        uint64_t v;
    } classes[] = {{"2xx", st.responses_2xx},     {"3xx", st.responses_3xx},
                   {"4xx", st.responses_4xx},     {"5xx", st.responses_5xx},
                   {"other", st.responses_other}, {"network", st.network_errors}};
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++)
        lf_buf_printf(out, "logflux_agent_ship_responses_total{class=\"%s\"} %llu\n",
                      classes[i].cls, (unsigned long long)classes[i].v);
    COUNTER("retries_total", "Attempts after the first one of an item.", st.retries);
    COUNTER("items_total", "Buffered items accepted by the server and acked.", st.items_shipped);
    COUNTER("records_total", "Log records in those items.", st.records_shipped);
    COUNTER("bytes_total", "Body bytes of those items.", st.bytes_shipped);
    COUNTER("skipped_dropped_items_total",
            "Items not sent because the buffer's drop_oldest deleted them first (counted there).",
            st.items_skipped_dropped);
    COUNTER("rejected_frames_total", "Frames an accepting answer listed as refused.",
            st.frames_rejected);
    COUNTER("rejected_records_total", "Records in those frames (not stored by the server).",
            st.records_rejected);
    COUNTER("dead_letter_items_total", "Items refused for good, moved to the dead-letter folder.",
            st.dead_letter_items);
    COUNTER("dead_letter_records_total", "Records in those items.", st.dead_letter_records);
    COUNTER("dead_letter_full_total",
            "Times an item could not be dead-lettered because the folder is at its bound.",
            st.dead_letter_full);
    COUNTER("dead_letter_errors_total", "Times writing a dead-letter file failed.",
            st.dead_letter_errors);
    COUNTER("auth_failures_total", "401 and 403 answers (retried; fix the API key).",
            st.auth_failures);
    GAUGE("consecutive_failures", "Failed attempts since the last accepted item.",
          st.consecutive_failures);
    lf_buf_printf(out,
                  "# HELP logflux_agent_ship_backoff_seconds The current wait before a retry.\n"
                  "# TYPE logflux_agent_ship_backoff_seconds gauge\n"
                  "logflux_agent_ship_backoff_seconds %.3f\n",
                  (double)st.backoff_ms / 1000.0);
    lf_buf_printf(out,
                  "# HELP logflux_agent_ship_last_success_timestamp_seconds Unix time of the "
                  "last accepted item (0: none yet).\n"
                  "# TYPE logflux_agent_ship_last_success_timestamp_seconds gauge\n"
                  "logflux_agent_ship_last_success_timestamp_seconds %.3f\n",
                  (double)st.last_success_ms / 1000.0);
    GAUGE("last_status", "HTTP status of the last answer (0: none or a network error).",
          (uint64_t)(st.last_status > 0 ? st.last_status : 0));
#undef COUNTER
#undef GAUGE
}
